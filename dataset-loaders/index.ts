import type { DatasetLoader } from '../harness/types.ts';
import { chSimsLoader } from './ch-sims.ts';
import { cmuMosiLoader } from './cmu-mosi.ts';
import { dailydialogLoader } from './dailydialog.ts';
import { emorynlpLoader } from './emorynlp.ts';
import { emotionlinesFriendsLoader } from './emotionlines-friends.ts';
import { iemocapLoader } from './iemocap.ts';
import { m3edLoader } from './m3ed.ts';
import { mastodonLoader } from './mastodon.ts';
import { meldLoader } from './meld.ts';
import { sstLoader } from './sst.ts';

/** Every built-in dataset loader. Add one line per loader module. */
export const builtinLoaders: DatasetLoader[] = [
  meldLoader,
  emorynlpLoader,
  dailydialogLoader,
  iemocapLoader,
  sstLoader,
  emotionlinesFriendsLoader,
  mastodonLoader,
  cmuMosiLoader,
  chSimsLoader,
  m3edLoader,
];
