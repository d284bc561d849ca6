/**
 * A DialogueLLM-style prompt (Zhang et al., arXiv 2310.11374; paper-facts.md section 2): an instruction,
 * the k previous turns of the dialogue with their speakers (DialogueLLM's default is one), then the target
 * utterance. The paper's exact wording is not reproduced in our sources, so this is our own phrasing of
 * the same three parts; its hash changes whenever the wording does. Video descriptions (not text-only)
 * are left out.
 */
import { sha256 } from '../../harness/hash.ts';
import type {
  ChatMessage,
  ContextTurn,
  Example,
  PromptInput,
  PromptTemplate,
  Protocol,
} from '../../harness/types.ts';
import { joinWithOr, labelName, promptLabelNames } from './label-names.ts';

const INSTRUCTION =
  'Below is a part of a conversation. Identify the emotion expressed by the speaker of the target utterance. Choose one of: {labels}.';
const CONTEXT_HEADER = 'Conversation so far:';
const NO_CONTEXT = 'Conversation so far: (none)';
const TARGET_HEADER = 'Target utterance:';
const CLOSING = 'Answer with the emotion label only.';
const ANSWER_CUE = 'Answer:';
const UNKNOWN_SPEAKER = 'Speaker';

function turnLine(turn: Pick<ContextTurn, 'speaker' | 'text'>): string {
  return `${turn.speaker?.trim() || UNKNOWN_SPEAKER}: ${turn.text}`;
}

/** The user message for one example with its last `contextTurns` previous turns. */
export function dialoguellmQuestion(example: Example, protocol: Protocol, contextTurns: number): string {
  const labels = joinWithOr(promptLabelNames(protocol));
  const turns = contextTurns > 0 ? example.context.slice(-contextTurns) : [];
  const lines = [INSTRUCTION.replace('{labels}', () => labels)];
  if (turns.length > 0) lines.push(CONTEXT_HEADER, ...turns.map(turnLine));
  else lines.push(NO_CONTEXT);
  lines.push(TARGET_HEADER, turnLine(example), CLOSING);
  return lines.join('\n');
}

export const dialoguellm: PromptTemplate = {
  id: 'dialoguellm',
  description:
    'DialogueLLM-style: instruction, the k previous turns with speakers (contextTurns, default 1), the target utterance',
  hash: sha256(
    JSON.stringify({
      id: 'dialoguellm',
      v: 1,
      INSTRUCTION,
      CONTEXT_HEADER,
      NO_CONTEXT,
      TARGET_HEADER,
      CLOSING,
      ANSWER_CUE,
    }),
  ),
  render({ example, protocol, shots, contextTurns }: PromptInput) {
    const messages: ChatMessage[] = [];
    let text = '';
    for (const shot of shots) {
      const q = dialoguellmQuestion(shot, protocol, contextTurns);
      const a = labelName(protocol, shot.label);
      messages.push({ role: 'user', content: q }, { role: 'assistant', content: a });
      text += `${q}\n${ANSWER_CUE} ${a}\n\n`;
    }
    const q = dialoguellmQuestion(example, protocol, contextTurns);
    messages.push({ role: 'user', content: q });
    text += `${q}\n${ANSWER_CUE}`;
    return { messages, text };
  },
};
