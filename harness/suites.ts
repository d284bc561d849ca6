import type { AdapterConfig, DatasetLoader, Suite } from './types.ts';

/** The built-in baselines every suite runs unless the config names adapters. */
export const baselineAdapters: readonly AdapterConfig[] = [
  { id: 'majority', type: 'majority' },
  { id: 'tfidf-logreg', type: 'tfidf-logreg' },
];

/** Suites of the architecture doc: erc, peng2023, and default (every bundled sample). */
export function builtinSuites(loaders: readonly DatasetLoader[]): Suite[] {
  return [
    {
      id: 'default',
      description: 'The bundled samples of every dataset (primary protocol) through the built-in baselines',
      tasks: loaders.filter((l) => l.sampleDir && l.protocols.length > 0).map((l) => l.protocols[0]!.id),
      adapters: baselineAdapters,
      data: 'samples',
    },
    {
      id: 'erc',
      description:
        'Text ERC quartet of DialogueLLM and InstructERC (weighted F1; DailyDialog micro F1 w/o neutral)',
      tasks: ['iemocap-6', 'meld-7', 'emorynlp-7', 'dailydialog-7'],
      adapters: baselineAdapters,
    },
    {
      id: 'peng2023',
      description: 'The tasks of Peng et al. 2023 (text only, no context)',
      tasks: ['sst-2', 'sst-5', 'friends-7', 'mastodon-3', 'mosi-2', 'mosi-3', 'chsims-2', 'm3ed-7'],
      adapters: baselineAdapters,
      // Peng et al. classify each utterance alone: no previous turns reach the adapters.
      context: false,
    },
  ];
}
