/**
 * Text repair for releases that stored Windows-1252 punctuation as C1 control characters
 * (legacy MELD CSVs, EmotionLines Friends JSON): cp1252 bytes decoded as Latin-1 and re-encoded
 * as UTF-8, so U+0092 stands where ’ belongs. The same files also hold genuine UTF-8 ’, so the
 * repair goes character by character (dataset-formats.md section 1).
 */

const cp1252 = new TextDecoder('windows-1252');
const C1 = /[\u0080-\u009f]/g;

/** Maps every U+0080..U+009F character through cp1252; other characters are left alone. */
export function repairCp1252(text: string): string {
  return text.replace(C1, (ch) => cp1252.decode(Uint8Array.of(ch.charCodeAt(0))));
}

/** True when the text holds C1 control characters (a sign of the legacy encoding). */
export function hasC1(text: string): boolean {
  return /[\u0080-\u009f]/.test(text);
}

/**
 * The full repair used for legacy MELD: cp1252 for C1 characters and NBSP to a plain space
 * (the current release has no NBSP where the legacy one had it).
 */
export function repairLegacyText(text: string): string {
  return repairCp1252(text).replace(/\u00a0/g, ' ');
}

/** Strips a leading UTF-8 byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
