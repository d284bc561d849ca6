import { DataError } from '../harness/errors.ts';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes UTF-8 strictly: an invalid byte sequence is a DataError naming the file and line, never a
 * silent U+FFFD in a text that then reaches a model. A leading BOM is dropped.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return fatal.decode(bytes);
  } catch {
    const bad = firstInvalid(bytes);
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    throw new DataError(
      file,
      line,
      `invalid UTF-8 (byte 0x${bytes[bad]?.toString(16).padStart(2, '0')} at offset ${bad})`,
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}

/** A stream decoded with `encoding: 'utf8'` turns invalid bytes into U+FFFD: the check for CSV rows. */
export function assertNoReplacement(cells: readonly string[], file: string, line: number): void {
  for (const c of cells) {
    if (c.includes('\ufffd'))
      throw new DataError(file, line, 'invalid UTF-8 (a byte sequence that is not UTF-8)');
  }
}
