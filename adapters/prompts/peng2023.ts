/**
 * The prompt of Peng et al. 2023 (paper-facts.md section 1c), word for word:
 * "Classify the sentiment of the sentence to Emotion 1, Emotion 2, ... or Emotion k: <sentence>".
 * Label names come from the protocol (labelNames, else labels) in canonical order. The paper classifies
 * each utterance in isolation, so no context is shown. For k-shot runs each demonstration repeats the
 * same task sentence, as the paper's training data does, followed by the gold label name as the answer.
 */
import { sha256 } from '../../harness/hash.ts';
import type { ChatMessage, PromptInput, PromptTemplate, RenderedPrompt } from '../../harness/types.ts';
import { joinWithOr, labelName, promptLabelNames } from './label-names.ts';

const INSTRUCTION = 'Classify the sentiment of the sentence to {labels}: {sentence}';
/** Completion form: demonstrations as "<task sentence>\n<answer>" blocks separated by a blank line. */
const COMPLETION_LAYOUT = '{shot-prompt}\n{shot-answer}\n\n...{prompt}\n';

/** The instruction line for one sentence. */
export function peng2023Instruction(labels: readonly string[], sentence: string): string {
  // Replacer functions: a sentence holding "$&" must come through verbatim.
  return INSTRUCTION.replace('{labels}', () => joinWithOr(labels)).replace('{sentence}', () => sentence);
}

export const peng2023: PromptTemplate = {
  id: 'peng2023',
  description:
    'Peng et al. 2023: "Classify the sentiment of the sentence to A, B or C: <sentence>" (no context; shots repeat the task sentence)',
  hash: sha256(JSON.stringify({ id: 'peng2023', v: 1, INSTRUCTION, COMPLETION_LAYOUT })),
  render({ example, protocol, shots }: PromptInput): RenderedPrompt {
    const names = promptLabelNames(protocol);
    const messages: ChatMessage[] = [];
    let text = '';
    for (const shot of shots) {
      const q = peng2023Instruction(names, shot.text);
      const a = labelName(protocol, shot.label);
      messages.push({ role: 'user', content: q }, { role: 'assistant', content: a });
      text += `${q}\n${a}\n\n`;
    }
    const prompt = peng2023Instruction(names, example.text);
    messages.push({ role: 'user', content: prompt });
    text += shots.length > 0 ? `${prompt}\n` : prompt;
    return { messages, text };
  },
};
