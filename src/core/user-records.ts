// Reading user records for `users import` (JSON array, JSON lines, or CSV with a header) and checking each against
// the record schema (core/schemas/user-record.ts), keeping its line number so the first bad one can be named.
import { IdpError } from './errors.js';
import type { Hint } from './fixes.js';
import { parseWith, shown } from './schemas/base.js';
import { userRecordSchema, type UserRecordFields } from './schemas/user-record.js';

export type UserRecord = UserRecordFields & { line: number };

export function parseUserFile(text: string, file: string): UserRecord[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) return parseJsonArray(text, file);
  if (trimmed.startsWith('{')) return parseJsonLines(text, file);
  return parseCsv(text, file);
}

const HINT = 'fix that record and import again; nothing was imported';

function bad(file: string, line: number, message: string, hint: Hint = HINT): IdpError {
  return new IdpError('IMPORT_INVALID', `${file}:${line}: ${message}`, hint);
}

function toRecord(raw: unknown, line: number, file: string): UserRecord {
  const fields = parseWith(userRecordSchema, raw, 'the record', (_path, message, hint) => {
    throw bad(file, line, message, hint);
  });
  return { line, ...fields };
}

function parseJsonArray(text: string, file: string): UserRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new IdpError(
      'IMPORT_INVALID',
      `${file}: not valid JSON (${(err as Error).message})`,
      'fix the file and import again; nothing was imported',
    );
  }
  refuseDuplicateKey(text, file, 1);
  const lines = elementLines(text);
  return (parsed as unknown[]).map((raw, i) => toRecord(raw, lines[i] ?? 1, file));
}

/**
 * The line on which each top-level array element starts: JSON.parse gives no positions. A walk over character codes
 * that jumps over whole strings with indexOf (JSON strings hold no raw newline): about 20 ms for 100k records (7 MB)
 * on the 2-core build machine, a third of what a regular expression stopping at each structural character took.
 */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) line++;
    if (c === NEWLINE || c === SPACE || c === TAB || c === RETURN) continue;
    if (depth === 1 && expectElement && c !== CLOSE_BRACKET) {
      lines.push(line);
      expectElement = false;
    }
    if (c === QUOTE) i = stringEnd(text, i + 1) - 1;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
    else if (c === COMMA && depth === 1) expectElement = true;
  }
  return lines;
}

/**
 * JSON.parse keeps the last of two equal keys in an object without a word: a record giving `email` twice is refused
 * instead. One walk over valid JSON (after JSON.parse), with the keys of each open object in a Set.
 */
function refuseDuplicateKey(text: string, file: string, firstLine: number): void {
  const open: (Set<string> | null)[] = []; // per open bracket: the keys of an object so far, or null for a list
  let line = firstLine;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) line++;
    else if (c === OPEN_BRACE) open.push(new Set());
    else if (c === OPEN_BRACKET) open.push(null);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) open.pop();
    else if (c === QUOTE) {
      const end = stringEnd(text, i + 1);
      const keys = open[open.length - 1];
      if (keys && text.charCodeAt(afterBlanks(text, end)) === COLON) {
        const body = text.slice(i + 1, end - 1);
        const key = body.includes('\\') ? (JSON.parse(`"${body}"`) as string) : body;
        if (keys.has(key)) throw bad(file, line, `the record gives ${shown(key)} twice`);
        keys.add(key);
      }
      i = end - 1;
    }
  }
}

function afterBlanks(text: string, from: number): number {
  let at = from;
  for (
    let c = text.charCodeAt(at);
    c === SPACE || c === TAB || c === RETURN || c === NEWLINE;
    c = text.charCodeAt(++at)
  );
  return at;
}

const [NEWLINE, SPACE, TAB, RETURN, QUOTE, COMMA, COLON] = [10, 32, 9, 13, 34, 44, 58];
const [OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [91, 93, 123, 125];

/** The index just past the quote closing a JSON string whose body starts at `from`. */
function stringEnd(text: string, from: number): number {
  for (let at = from; ; ) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

function parseJsonLines(text: string, file: string): UserRecord[] {
  const records: UserRecord[] = [];
  text.split('\n').forEach((rawLine, i) => {
    if (!rawLine.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(rawLine);
    } catch {
      throw bad(file, i + 1, 'not valid JSON');
    }
    refuseDuplicateKey(rawLine, file, i + 1);
    records.push(toRecord(raw, i + 1, file));
  });
  return records;
}

function parseCsv(text: string, file: string): UserRecord[] {
  const rows = csvRows(text);
  const header = rows.shift();
  const columns = header?.cells.map((h) => h.trim()) ?? [];
  if (!columns.includes('username'))
    throw bad(file, 1, 'the CSV header must name a username column', 'e.g. username,email,email_verified,name');
  const twice = columns.find((c, i) => columns.indexOf(c) !== i);
  if (twice !== undefined)
    throw bad(file, 1, `the CSV header names column '${twice}' twice`, 'give each column its own name');
  return rows
    .filter((r) => r.cells.some((c) => c !== ''))
    .map((r) => {
      if (r.cells.length !== columns.length)
        throw bad(file, r.line, `expected ${columns.length} fields, found ${r.cells.length}`);
      return toRecord(csvRecord(columns, r.cells), r.line, file);
    });
}

/** Columns whose cells hold JSON, as `users export --format csv` writes the lists a row cannot. */
const JSON_COLUMNS = ['associations', 'mfa', 'passkeys'];

/**
 * A CSV row as a record. CSV has no booleans: email_verified is the text true or false, or empty for false. A JSON
 * column's cell is read as JSON (empty is absent); a cell that is not JSON stays text, which the schema refuses.
 */
function csvRecord(columns: string[], cells: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
  const verified = raw['email_verified'];
  if (verified === 'true' || verified === 'false') raw['email_verified'] = verified === 'true';
  else if (verified === '') delete raw['email_verified'];
  for (const column of JSON_COLUMNS) {
    const cell = raw[column];
    if (cell === '') delete raw[column];
    else if (typeof cell === 'string') raw[column] = jsonOrText(cell);
  }
  return raw;
}

function jsonOrText(cell: string): unknown {
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and newlines), each with the line it starts on. */
function csvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ line: start, cells });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: start, cells });
  }
  return rows;
}
