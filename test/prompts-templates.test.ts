import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialoguellm } from '../adapters/prompts/dialoguellm.ts';
import { drawShots } from '../adapters/prompts/draw-shots.ts';
import { loadTemplateFile, parseTemplate } from '../adapters/prompts/file-template.ts';
import { builtinPrompts } from '../adapters/prompts/index.ts';
import { joinWithOr } from '../adapters/prompts/label-names.ts';
import { peng2023 } from '../adapters/prompts/peng2023.ts';
import { sha256 } from '../harness/hash.ts';
import type { Example, Protocol } from '../harness/types.ts';

function protocol(labels: string[], labelNames?: Record<string, string>): Protocol {
  return {
    id: 'p',
    dataset: 'd',
    description: '',
    labels,
    ...(labelNames ? { labelNames } : {}),
    splits: {},
    mapLabel: () => undefined,
    headline: 'accuracy',
    metrics: ['accuracy'],
    hasContext: true,
  };
}

const mosi3 = protocol(['positive', 'negative', 'neutral'], {
  positive: 'Positive',
  negative: 'Negative',
  neutral: 'Neutral',
});

function ex(id: string, text: string, label: string, extra: Partial<Example> = {}): Example {
  return { id, text, label, context: [], ...extra };
}

describe('joinWithOr', () => {
  it('joins like the paper: commas, then "or" before the last name', () => {
    expect(joinWithOr(['A'])).toBe('A');
    expect(joinWithOr(['A', 'B'])).toBe('A or B');
    expect(joinWithOr(['A', 'B', 'C', 'D'])).toBe('A, B, C or D');
  });
});

describe('peng2023', () => {
  it('renders the MOSI-3 prompt exactly as quoted in the paper', () => {
    const r = peng2023.render({
      example: ex('1', 'it was fine', 'neutral'),
      protocol: mosi3,
      shots: [],
      contextTurns: 3,
    });
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: 'Classify the sentiment of the sentence to Positive, Negative or Neutral: it was fine',
      },
    ]);
    expect(r.text).toBe(
      'Classify the sentiment of the sentence to Positive, Negative or Neutral: it was fine',
    );
  });
  it('uses labels when the protocol has no names, and ignores context', () => {
    const p = protocol(['neutral', 'joy', 'sadness']);
    const r = peng2023.render({
      example: ex('1', 'yay', 'joy', { context: [{ id: '0', text: 'hello', speaker: 'Ross' }] }),
      protocol: p,
      shots: [],
      contextTurns: 5,
    });
    expect(r.text).toBe('Classify the sentiment of the sentence to neutral, joy or sadness: yay');
  });
  it('puts the task sentence in front of each demonstration, answered by its label name', () => {
    const r = peng2023.render({
      example: ex('t', 'so-so', 'neutral'),
      protocol: mosi3,
      shots: [ex('a', 'great', 'positive'), ex('b', 'awful', 'negative')],
      contextTurns: 0,
    });
    const q = (s: string) => `Classify the sentiment of the sentence to Positive, Negative or Neutral: ${s}`;
    expect(r.messages).toEqual([
      { role: 'user', content: q('great') },
      { role: 'assistant', content: 'Positive' },
      { role: 'user', content: q('awful') },
      { role: 'assistant', content: 'Negative' },
      { role: 'user', content: q('so-so') },
    ]);
    expect(r.text).toBe(`${q('great')}\nPositive\n\n${q('awful')}\nNegative\n\n${q('so-so')}\n`);
  });
  it('keeps "$&" and other replacement patterns in the sentence verbatim', () => {
    const r = peng2023.render({
      example: ex('1', 'cost $& more', 'neutral'),
      protocol: mosi3,
      shots: [],
      contextTurns: 0,
    });
    expect(r.text.endsWith(': cost $& more')).toBe(true);
  });
});

describe('dialoguellm', () => {
  const p = protocol(['neutral', 'joy']);
  const target = ex('3', 'We won!', 'joy', {
    speaker: 'Monica',
    context: [
      { id: '1', text: 'Hi.', speaker: 'Ross' },
      { id: '2', text: 'Guess what?', speaker: 'Rachel' },
    ],
  });
  it('shows the last k turns with speakers, then the target', () => {
    const r = dialoguellm.render({ example: target, protocol: p, shots: [], contextTurns: 1 });
    const content = r.messages[0]!.content;
    expect(content).toContain('Choose one of: neutral or joy.');
    expect(content).toContain('Rachel: Guess what?');
    expect(content).not.toContain('Ross: Hi.');
    expect(content.indexOf('Rachel: Guess what?')).toBeLessThan(content.indexOf('Monica: We won!'));
    const two = dialoguellm.render({ example: target, protocol: p, shots: [], contextTurns: 2 }).messages[0]!
      .content;
    expect(two).toContain('Ross: Hi.\nRachel: Guess what?');
  });
  it('says there is no context when k = 0', () => {
    const r = dialoguellm.render({ example: target, protocol: p, shots: [], contextTurns: 0 });
    expect(r.messages[0]!.content).toContain('(none)');
    expect(r.messages[0]!.content).not.toContain('Guess what?');
    expect(r.text.endsWith('Answer:')).toBe(true);
  });
});

describe('template hashes', () => {
  it('built-ins have distinct sha256 hashes and are registered', () => {
    expect(builtinPrompts.map((t) => t.id)).toEqual(['peng2023', 'dialoguellm']);
    expect(peng2023.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(peng2023.hash).not.toBe(dialoguellm.hash);
  });
});

describe('file templates', () => {
  const p = protocol(['neutral', 'joy'], { joy: 'Joy' });
  it('fills every placeholder and splits system and user messages', () => {
    const t = parseTemplate(
      '[system]\nYou label emotions.\n[user]\nLabels: {{labels}}\n{{label_list}}\n{{shots}}\nContext:\n{{context}}\n{{speaker}} said: {{ text }} ({{dialogue_id}})\n',
      'my.txt',
    );
    const r = t.render({
      example: ex('2', 'Yes!', 'joy', {
        speaker: 'Joey',
        dialogueId: 'd7',
        context: [{ id: '1', text: 'Pizza?', speaker: 'Chandler' }],
      }),
      protocol: p,
      shots: [ex('s', 'meh', 'neutral')],
      contextTurns: 1,
    });
    expect(r.messages).toEqual([
      { role: 'system', content: 'You label emotions.' },
      {
        role: 'user',
        content:
          'Labels: neutral or Joy\n- neutral\n- Joy\nText: meh\nAnswer: neutral\nContext:\nChandler: Pizza?\nJoey said: Yes! (d7)',
      },
    ]);
    expect(r.text).toBe(`You label emotions.\n\n${r.messages[1]!.content}`);
  });
  it('does not expand placeholders that appear inside the utterance', () => {
    const t = parseTemplate('{{text}} / {{labels}}', 't.txt');
    const r = t.render({
      example: ex('1', 'say {{labels}}', 'joy'),
      protocol: p,
      shots: [],
      contextTurns: 0,
    });
    expect(r.messages[0]!.content).toBe('say {{labels}} / neutral or Joy');
  });
  it('refuses an unknown placeholder, naming file and line', () => {
    expect(() => parseTemplate('line one\nClassify {{txt}}', 'bad.txt')).toThrow(
      /bad\.txt:2: unknown placeholder \{\{txt\}\}/,
    );
  });
  it('refuses a template without {{text}}', () => {
    expect(() => parseTemplate('Classify this.', 'no-text.txt')).toThrow(/no-text\.txt: .*\{\{text\}\}/);
  });
  it('hashes the file bytes: an edit changes the hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tpl-'));
    const file = join(dir, 'a.tpl');
    await writeFile(file, 'A {{text}}');
    const a = await loadTemplateFile(file);
    await writeFile(file, 'B {{text}}');
    const b = await loadTemplateFile(file);
    expect(a.hash).not.toBe(b.hash);
    expect(a.hash).toBe(sha256(JSON.stringify({ renderer: 'file-template', v: 1, source: 'A {{text}}' })));
    await expect(loadTemplateFile(join(dir, 'missing.tpl'))).rejects.toThrow(/missing\.tpl: cannot read/);
  });
});

describe('drawShots', () => {
  const pool = Array.from({ length: 50 }, (_, i) => ex(`e${String(i).padStart(2, '0')}`, `t${i}`, 'joy'));
  it('is deterministic per seed and independent of pool order', () => {
    const a = drawShots(pool, 4, 7).map((e) => e.id);
    const b = drawShots([...pool].reverse(), 4, 7).map((e) => e.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(4);
    expect(drawShots(pool, 4, 8).map((e) => e.id)).not.toEqual(a);
  });
  it('returns the whole pool when k exceeds it, and nothing for k = 0', () => {
    expect(drawShots(pool.slice(0, 3), 10, 1)).toHaveLength(3);
    expect(drawShots(pool, 0, 1)).toEqual([]);
  });
});
