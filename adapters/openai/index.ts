/**
 * Factory of the `openai` adapter type: validates the config, resolves the prompt template (a built-in
 * id or a template file relative to the config file) and reads the API key from the environment
 * variable the config names. The key is handed to the HTTP client only; it is not part of the config
 * object, the fingerprint, the facts or the cache.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, unknownName } from '../../harness/errors.ts';
import type { AdapterEnv, AdapterFactory, PromptTemplate } from '../../harness/types.ts';
import { loadTemplateFile } from '../prompts/file-template.ts';
import { builtinPrompts } from '../prompts/index.ts';
import { type OpenAIAdapterConfig, parseOpenAIConfig } from './config.ts';
import { OpenAIAdapter } from './openai-adapter.ts';

export { type OpenAIAdapterConfig, openaiConfigSchema, parseOpenAIConfig } from './config.ts';
export { OpenAIAdapter } from './openai-adapter.ts';

/** A built-in template id, else a path (anything with a slash or a file extension) to a template file. */
export async function resolvePromptTemplate(
  prompt: string,
  baseDir: string,
  templates: readonly PromptTemplate[] = builtinPrompts,
): Promise<PromptTemplate> {
  const builtin = templates.find((t) => t.id === prompt);
  if (builtin) return builtin;
  if (/[\\/]/.test(prompt) || /\.[A-Za-z0-9]+$/.test(prompt)) {
    return loadTemplateFile(isAbsolute(prompt) ? prompt : resolve(baseDir, prompt));
  }
  throw new ConfigError(
    `prompt: ${unknownName(
      'prompt template',
      prompt,
      templates.map((t) => t.id),
    )} (or give a path to a template file)`,
  );
}

export const openaiAdapterFactory: AdapterFactory<OpenAIAdapterConfig> = {
  type: 'openai',
  description:
    'LLM behind an OpenAI-compatible server (vLLM, llama.cpp, Ollama, hosted): zero/few-shot prompts, LoRA by model name, cached and retried',
  parseConfig: parseOpenAIConfig,
  async create(config: OpenAIAdapterConfig & { id: string }, env: AdapterEnv) {
    const urls = Array.isArray(config.baseUrl) ? config.baseUrl : [config.baseUrl];
    urls.forEach((u, i) => {
      const url = new URL(u);
      if (url.username || url.password) {
        const path = Array.isArray(config.baseUrl) ? `baseUrl[${i}]` : 'baseUrl';
        throw new ConfigError(
          `openai adapter '${config.id}': ${path}: credentials in URLs are refused; use apiKeyEnv`,
        );
      }
    });
    let apiKey: string | undefined;
    if (config.apiKeyEnv) {
      apiKey = process.env[config.apiKeyEnv];
      if (!apiKey) {
        throw new ConfigError(
          `openai adapter '${config.id}': apiKeyEnv: environment variable ${config.apiKeyEnv} is not set`,
        );
      }
    }
    const template = await resolvePromptTemplate(config.prompt, env.baseDir, env.prompts ?? builtinPrompts);
    const adapter = new OpenAIAdapter(config, env, template, apiKey);
    try {
      await adapter.identify();
    } catch (err) {
      await adapter.close();
      throw err;
    }
    return adapter;
  },
};
