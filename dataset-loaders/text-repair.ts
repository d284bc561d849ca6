/**
 * Text repair for releases that stored Windows-1252 punctuation as C1 control characters
 * (legacy MELD CSVs, EmotionLines Friends JSON): cp1252 bytes decoded as Latin-1 and re-encoded
 * as UTF-8, so U+0092 stands where ’ belongs. The same files also hold genuine UTF-8 ’, so the
 * repair goes character by character (dataset-formats.md section 1).
 */

/**
 * cp1252 bytes 0x80..0x9F, spelled out: Node's TextDecoder('windows-1252') decodes them as Latin-1
 * (they come back unchanged), so it cannot be used. The five bytes cp1252 leaves undefined (81, 8D,
 * 8F, 90, 9D) keep their C1 code point, as the WHATWG decoder does.
 */
const CP1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

/** Maps every U+0080..U+009F character through cp1252; other characters are left alone. */
export function repairCp1252(text: string): string {
  return text.replace(C1, (ch) => CP1252_C1[ch.charCodeAt(0) - 0x80]!);
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

/**
 * A line break inside a quoted CSV field, written as LF: a file saved with CRLF (current MELD) or CR
 * line endings carries its breaks inside fields in that form too, and without this the same
 * utterance would read differently depending on how the file was saved. LF rather than a space: the
 * repairs here only undo what a file's byte form changed and never reflow text, so a file that
 * already uses LF reads exactly as written (as JSON releases, whose breaks are `\n`, do).
 */
export function normaliseLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}
