import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Writes the run config the served CLI tests share: MELD's sample, a response cache beside the
 * config, one `openai` adapter `llm` on the loopback server(s) with the given extra keys.
 */
export function writeServedConfig(
  config: string,
  baseUrl: string | readonly string[],
  adapter: Readonly<Record<string, string | number | boolean>>,
  resamples = 0,
): void {
  writeFileSync(
    config,
    [
      'datasets: [meld]',
      `cacheDir: ${join(dirname(config), 'cache')}`,
      `bootstrap: { resamples: ${resamples} }`,
      'adapters:',
      '  - id: llm',
      '    type: openai',
      `    baseUrl: ${typeof baseUrl === 'string' ? baseUrl : `[${baseUrl.join(', ')}]`}`,
      '    model: llama-emotion-lora',
      ...Object.entries(adapter).map(([k, v]) => `    ${k}: ${v}`),
      '',
    ].join('\n'),
  );
}
