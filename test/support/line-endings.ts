import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes one fixture text (kept in the repository with LF endings and a name no release uses) as
 * `fileName` twice: with LF and with CRLF endings, inside quoted fields too. Returns the two folders.
 */
export function lineEndingForms(fixture: string, fileName: string): { lf: string; crlf: string } {
  const text = readFileSync(fixture, 'utf8');
  const root = mkdtempSync(join(tmpdir(), 'ee-line-endings-'));
  const forms = { lf: join(root, 'lf'), crlf: join(root, 'crlf') };
  for (const [form, dir] of Object.entries(forms)) {
    mkdirSync(dir);
    writeFileSync(join(dir, fileName), form === 'crlf' ? text.replaceAll('\n', '\r\n') : text);
  }
  return forms;
}
