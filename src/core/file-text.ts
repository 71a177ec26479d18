// Untrusted files as text, bounded: each kind of file has a size limit, checked before the file is read whole; bytes
// that are not UTF-8 are refused by line (never turned into U+FFFD); a UTF-8 byte order mark (Excel's) is dropped;
// nesting is bounded too, so a hostile file is refused with exit 2 in bounded time and memory, whatever its shape.
import { IdpError } from './errors.js';

const MiB = 1024 * 1024;

/** The largest file of each kind idp reads (documented in the README). */
export const FILE_LIMITS = {
  policy: { bytes: 1 * MiB, what: 'a policy or scenario file' },
  personas: { bytes: 1 * MiB, what: 'a personas file' },
  import: { bytes: 64 * MiB, what: 'an import file' },
} as const;

export type FileKind = keyof typeof FILE_LIMITS;

/** How deep mappings and lists may nest in a policy, scenario or personas file (real ones stay under 8). */
export const MAX_DEPTH = 64;

/** Refuses a file of `size` bytes that is over its kind's limit. */
export function checkFileSize(file: string, size: number, kind: FileKind): void {
  const limit = FILE_LIMITS[kind];
  if (size > limit.bytes) {
    throw new IdpError(
      'FILE_INVALID',
      `${file}: ${size} bytes is more than ${limit.what} may hold (${limit.bytes / MiB} MiB)`,
      'split it into smaller files; nothing was changed',
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's text; refuses bytes over the limit or not UTF-8, naming the first bad line. */
export function decodeText(bytes: Uint8Array, file: string, kind: FileKind): string {
  checkFileSize(file, bytes.length, kind);
  try {
    return utf8.decode(bytes); // drops a leading byte order mark
  } catch {
    throw new IdpError(
      'FILE_INVALID',
      `${file}:${firstBadLine(bytes)}: not valid UTF-8`,
      'save the file as UTF-8; nothing was changed',
    );
  }
}

/** A newline byte is never inside a multi-byte UTF-8 sequence, so the file's lines can be checked one by one. */
function firstBadLine(bytes: Uint8Array): number {
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const newline = bytes.indexOf(10, start);
    const end = newline < 0 ? bytes.length : newline;
    try {
      utf8.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
  }
  return line;
}
