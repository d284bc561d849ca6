import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from './errors.ts';
import type { HarnessRegistry } from './registry.ts';

/**
 * A plugin module registers loaders, adapters, metrics, prompt templates or suites. It exports
 * `register(registry)` (or a default function of the same shape).
 */
export type PluginRegister = (registry: HarnessRegistry) => void | Promise<void>;

/** Typed identity helper for plugin authors: `export default definePlugin((r) => r.addLoader(...))`. */
export function definePlugin(register: PluginRegister): PluginRegister {
  return register;
}

/**
 * Loads plugins named by a local path (`./my-loader.ts`, relative to `baseDir`) or an installed
 * package name (resolved from the working directory, where the user's node_modules is).
 */
export async function loadPlugins(
  registry: HarnessRegistry,
  specs: readonly string[],
  baseDir: string,
): Promise<void> {
  for (const spec of specs) {
    const url = resolvePlugin(spec, baseDir);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new InputError(
        `plugin '${spec}' could not be loaded: ${String((err as Error).message).split('\n')[0]}`,
      );
    }
    const register = (typeof mod.register === 'function' ? mod.register : mod.default) as
      | PluginRegister
      | undefined;
    if (typeof register !== 'function') {
      throw new InputError(`plugin '${spec}' exports neither register(registry) nor a default function`);
    }
    await register(withOrigin(registry, spec));
  }
}

function resolvePlugin(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
    if (!existsSync(path)) throw new InputError(`plugin file not found: ${path}`);
    return pathToFileURL(path).href;
  }
  try {
    return pathToFileURL(createRequire(join(process.cwd(), 'package.json')).resolve(spec)).href;
  } catch {
    // ESM-only packages without a "require" export condition: let import() resolve it.
    return spec;
  }
}

/** Registrations made by a plugin are recorded with the plugin as their origin (shown by `datasets`/`adapters`). */
function withOrigin(registry: HarnessRegistry, origin: string): HarnessRegistry {
  return new Proxy(registry, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value === 'function' && typeof prop === 'string' && prop.startsWith('add')) {
        return (item: unknown) => (value as (i: unknown, o: string) => void).call(target, item, origin);
      }
      return value;
    },
  });
}
