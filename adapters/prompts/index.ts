import type { PromptTemplate } from '../../harness/types.ts';

/** Every built-in prompt template. */
export const builtinPrompts: PromptTemplate[] = [];
