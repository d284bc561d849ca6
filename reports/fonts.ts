/**
 * The font figures are drawn with: DejaVu Sans from the dejavu-fonts-ttf package, registered under
 * a private family name so text renders the same on machines with no system fonts, and a system
 * font of the same name can never be picked instead.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';
import { RuntimeFailure } from '../harness/errors.ts';

export const FIGURE_FONT = 'EmotionEvalSans';

let registered = false;

/** Directory holding the package's .ttf files. */
export function dejavuDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
}

/** Registers regular and bold DejaVu Sans once per process; returns the family name to use. */
export function ensureFigureFont(): string {
  if (registered) return FIGURE_FONT;
  const dir = dejavuDir();
  for (const file of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']) {
    const key = GlobalFonts.registerFromPath(join(dir, file), FIGURE_FONT);
    if (!key) throw new RuntimeFailure(`could not register the figure font ${join(dir, file)}`);
  }
  registered = true;
  return FIGURE_FONT;
}
