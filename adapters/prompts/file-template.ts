/**
 * User prompt templates read from a file. The file is the user message; optional `[system]` and `[user]`
 * lines (alone on their line) split it into a system and a user message. Placeholders:
 *   {{labels}}      label names joined as "A, B or C"
 *   {{label_list}}  label names, one per line, each prefixed with "- "
 *   {{text}}        the target utterance           {{speaker}}  its speaker ("" when unknown)
 *   {{context}}     the last `contextTurns` previous turns, one "Speaker: text" line each ("" when none)
 *   {{shots}}       the k demonstrations, "Text: <text>\nAnswer: <label name>", separated by blank lines
 *   {{dialogue_id}} the dialogue id ("" when none)
 * Any other {{name}} is refused when the file is loaded, naming the file and line. The template's hash is
 * the sha256 of the file's bytes (and of this renderer's version), so editing the file changes the
 * adapter fingerprint and the cache keys.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../../harness/errors.ts';
import { sha256 } from '../../harness/hash.ts';
import type { ChatMessage, PromptInput, PromptTemplate } from '../../harness/types.ts';
import { joinWithOr, labelName, promptLabelNames } from './label-names.ts';

export const TEMPLATE_PLACEHOLDERS = [
  'labels',
  'label_list',
  'text',
  'speaker',
  'context',
  'shots',
  'dialogue_id',
] as const;
type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

const RENDERER_VERSION = 1;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Parses template text; `file` is used in error messages only. */
export function parseTemplate(source: string, file: string): PromptTemplate {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(PLACEHOLDER)) {
      if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
        throw new InputError(
          `unknown placeholder {{${m[1]}}}; expected one of ${TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
          file,
          i + 1,
        );
      }
    }
  });
  let system: string[] | undefined;
  let user: string[] = [];
  let current: string[] = user;
  let sawUser = false;
  lines.forEach((line, i) => {
    const marker = line.trim();
    if (marker === '[system]') {
      if (system || sawUser) throw new InputError('[system] must come once, before [user]', file, i + 1);
      system = [];
      current = system;
    } else if (marker === '[user]') {
      if (sawUser) throw new InputError('[user] may appear only once', file, i + 1);
      sawUser = true;
      user = [];
      current = user;
    } else current.push(line);
  });
  const systemText = system?.join('\n').trim();
  const userText = user.join('\n').trim();
  if (userText === '') throw new InputError('the template has no user message', file);
  if (!/\{\{\s*text\s*\}\}/.test(userText)) {
    throw new InputError('the user message must contain {{text}} (the utterance to classify)', file);
  }
  return {
    id: `file:${basename(file)}`,
    description: `template file ${file}`,
    hash: sha256(JSON.stringify({ renderer: 'file-template', v: RENDERER_VERSION, source: text })),
    render(input: PromptInput) {
      const values = placeholderValues(input);
      const fill = (t: string) => t.replace(PLACEHOLDER, (_, name: string) => values[name as Placeholder]);
      const messages: ChatMessage[] = [];
      if (systemText) messages.push({ role: 'system', content: fill(systemText) });
      const content = fill(userText);
      messages.push({ role: 'user', content });
      return { messages, text: messages.map((m) => m.content).join('\n\n') };
    },
  };
}

/** Reads and parses a template file (InputError naming the file when it cannot be read). */
export async function loadTemplateFile(path: string): Promise<PromptTemplate> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read prompt template: ${(err as Error).message}`, path);
  }
  return parseTemplate(source, path);
}

function placeholderValues({
  example,
  protocol,
  shots,
  contextTurns,
}: PromptInput): Record<Placeholder, string> {
  const names = promptLabelNames(protocol);
  const turns = contextTurns > 0 ? example.context.slice(-contextTurns) : [];
  return {
    labels: joinWithOr(names),
    label_list: names.map((n) => `- ${n}`).join('\n'),
    text: example.text,
    speaker: example.speaker ?? '',
    context: turns.map((t) => `${t.speaker?.trim() || 'Speaker'}: ${t.text}`).join('\n'),
    shots: shots.map((s) => `Text: ${s.text}\nAnswer: ${labelName(protocol, s.label)}`).join('\n\n'),
    dialogue_id: example.dialogueId ?? '',
  };
}
