import type { PromptTemplate } from '../../harness/types.ts';
import { dialoguellm } from './dialoguellm.ts';
import { peng2023 } from './peng2023.ts';

/** Every built-in prompt template. */
export const builtinPrompts: PromptTemplate[] = [peng2023, dialoguellm];
