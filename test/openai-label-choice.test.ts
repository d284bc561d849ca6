import { describe, expect, it } from 'vitest';
import {
  gbnfLiteral,
  guidedFields,
  guidedParamFor,
  resolveLabelChoice,
  responseText,
  responseTopLogprobs,
  scoreByLogprobs,
} from '../adapters/openai/label-choice.ts';
import { LabelParser } from '../harness/label-parser.ts';

const parser = new LabelParser({ labels: ['neutral', 'joy', 'sadness'], synonyms: { joy: ['happy'] } });

describe('guided parameters', () => {
  it('picks the parameter by server kind and vLLM version', () => {
    expect(guidedParamFor('vllm', '0.12.1')).toBe('structured_outputs');
    expect(guidedParamFor('vllm', '0.11.0')).toBe('structured_outputs');
    expect(guidedParamFor('vllm', '0.10.2')).toBe('guided_choice');
    expect(guidedParamFor('vllm', '1.0.0')).toBe('structured_outputs');
    expect(guidedParamFor('vllm')).toBe('structured_outputs');
    expect(guidedParamFor('llamacpp')).toBe('grammar');
    expect(guidedParamFor('ollama')).toBeUndefined();
    expect(guidedParamFor('openai')).toBeUndefined();
  });
  it('writes GBNF literals with escapes', () => {
    expect(gbnfLiteral('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    expect(guidedFields('grammar', ['x', 'y z'])).toEqual({ grammar: 'root ::= "x" | "y z"' });
    expect(guidedFields('structured_outputs', ['x'])).toEqual({ structured_outputs: { choice: ['x'] } });
    expect(guidedFields('guided_choice', ['x'])).toEqual({ guided_choice: ['x'] });
  });
  it('auto: guided when there is a parameter, logprobs on OpenAI, text otherwise', () => {
    expect(resolveLabelChoice('auto', 'vllm', 'structured_outputs')).toBe('guided');
    expect(resolveLabelChoice('auto', 'openai', undefined)).toBe('logprobs');
    expect(resolveLabelChoice('auto', 'ollama', undefined)).toBe('text');
    expect(resolveLabelChoice('auto', 'generic', 'guided_choice')).toBe('guided');
    expect(resolveLabelChoice('text', 'vllm', 'structured_outputs')).toBe('text');
    expect(resolveLabelChoice('guided', 'generic', undefined)).toMatchObject({
      error: expect.stringMatching(/guided/),
    });
  });
});

describe('reading responses', () => {
  it('reads text and top logprobs in the chat layout', () => {
    const json = {
      choices: [
        {
          message: { content: 'joy' },
          logprobs: {
            content: [
              {
                token: 'joy',
                logprob: -0.1,
                top_logprobs: [
                  { token: 'joy', logprob: -0.1 },
                  { token: 'sad', logprob: -2 },
                ],
              },
            ],
          },
        },
      ],
    };
    expect(responseText('chat', json)).toBe('joy');
    expect(responseTopLogprobs('chat', json)).toEqual([
      [
        { token: 'joy', logprob: -0.1 },
        { token: 'sad', logprob: -2 },
      ],
    ]);
  });
  it('reads the completions layout; missing pieces are undefined or empty', () => {
    const json = {
      choices: [{ text: ' neutral', logprobs: { top_logprobs: [{ ' neutral': -0.2, ' joy': -1.7 }] } }],
    };
    expect(responseText('completions', json)).toBe(' neutral');
    expect(responseTopLogprobs('completions', json)).toEqual([
      [
        { token: ' neutral', logprob: -0.2 },
        { token: ' joy', logprob: -1.7 },
      ],
    ]);
    expect(responseText('chat', { choices: [] })).toBeUndefined();
    expect(responseText('chat', { choices: [{ message: { content: null } }] })).toBeNull();
    expect(responseTopLogprobs('chat', { choices: [{ message: { content: 'x' } }] })).toEqual([]);
  });
});

describe('scoreByLogprobs', () => {
  it('scores each label by its best unshared prefix token; synonyms count', () => {
    const r = scoreByLogprobs(
      [
        [
          { token: ' Happy', logprob: -0.3 },
          { token: 'joy', logprob: -0.9 },
          { token: 'ne', logprob: -2.2 },
          { token: 'Sad', logprob: -3 },
        ],
      ],
      parser,
    );
    expect(r).toEqual({ status: 'ok', label: 'joy', scores: { joy: -0.3, neutral: -2.2, sadness: -3 } });
  });
  it('skips a leading whitespace-only position', () => {
    const r = scoreByLogprobs(
      [[{ token: '\n', logprob: -0.01 }], [{ token: 'sadness', logprob: -0.5 }]],
      parser,
    );
    expect(r).toMatchObject({ status: 'ok', label: 'sadness' });
  });
  it('gives up when no top token begins a label, or labels tie', () => {
    expect(scoreByLogprobs([[{ token: 'The', logprob: -0.1 }]], parser)).toMatchObject({ status: 'none' });
    expect(
      scoreByLogprobs(
        [
          [
            { token: 'joy', logprob: -0.7 },
            { token: 'sad', logprob: -0.7 },
          ],
        ],
        parser,
      ),
    ).toMatchObject({ status: 'none', reason: expect.stringMatching(/tie/) });
    expect(scoreByLogprobs([], parser)).toMatchObject({ status: 'none' });
  });
});
