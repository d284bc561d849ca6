import { builtinAdapters } from '../adapters/index.ts';
import { builtinPrompts } from '../adapters/prompts/index.ts';
import { builtinLoaders } from '../dataset-loaders/index.ts';
import { builtinMetrics } from './metrics.ts';
import { loadPlugins } from './plugins.ts';
import { HarnessRegistry } from './registry.ts';
import { builtinSuites } from './suites.ts';

/** A registry holding every built-in part, then the plugins named by the config. */
export async function createRegistry(
  plugins: readonly string[] = [],
  baseDir = process.cwd(),
): Promise<HarnessRegistry> {
  const registry = new HarnessRegistry();
  for (const loader of builtinLoaders) registry.addLoader(loader);
  for (const factory of builtinAdapters) registry.addAdapter(factory);
  for (const metric of builtinMetrics) registry.addMetric(metric);
  for (const prompt of builtinPrompts) registry.addPrompt(prompt);
  await loadPlugins(registry, plugins, baseDir);
  // Suites last, so the default suite covers plugin loaders with samples too.
  for (const suite of builtinSuites(registry.loaders.values())) {
    if (!registry.suites.has(suite.id)) registry.addSuite(suite);
  }
  return registry;
}
