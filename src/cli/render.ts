// The one renderer: results to stdout (a table/text, or one JSON document with --json); stages, notes, warnings
// and errors to stderr. Colour follows --no-color, NO_COLOR and whether the stream is a terminal (see paint.ts).
// Text from outside (upstream errors and claims, persona names, stored events) never drives the terminal: single-line
// slots (stage details, messages, table cells) show every control character escaped, and whole texts keep only
// their tabs, line breaks and, with colour on, idp's own colour codes.
import { paintFor, type Paint } from './paint.js';
import { IdpError, isIdpError } from '../core/errors.js';
import { renderHint } from './hints.js';

export interface RenderOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  debug: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

export interface StageLine {
  stage: string;
  status: string;
  ms: number;
  detail: string;
}

/** Characters that move the cursor, retitle or clear the screen, ring, break a line or reorder text when printed. */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  return NAMED[ch] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** Untrusted text for one line of a terminal: every control character shown escaped (ESC as `\x1b`, a newline as `\n`). */
export function inert(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** idp's own colour codes (paint.ts), and any other control character but the tab and the line break. */
const IN_TEXT = /\x1b\[\d{1,2}m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A whole text for a terminal (a table, a script, a list of lines): tabs and line breaks kept, idp's colour codes kept
 * only while `paint` colours, the rest escaped.
 */
function terminalText(text: string, paint: Paint): string {
  return text.replace(IN_TEXT, (match) => (match.length > 1 && paint.enabled ? match : inert(match)));
}

export function stageText(event: StageLine, p: Paint): string {
  const mark = event.status === 'ok' ? p.green('✓') : event.status === 'failed' ? p.red('✗') : p.dim('·');
  return `  ${mark} ${inert(event.stage).padEnd(8)} ${inert(event.detail)} ${p.dim(`${Math.round(event.ms)} ms`)}`;
}

export class Renderer {
  readonly paint: Paint;
  readonly errPaint: Paint;

  constructor(readonly opts: RenderOptions, private readonly stdout = process.stdout, private readonly stderr = process.stderr) {
    this.paint = paintFor(stdout, opts.color);
    this.errPaint = paintFor(stderr, opts.color);
  }

  /** The command's result: `data` as JSON with --json, otherwise the human text (if any). */
  result(data: unknown, human: () => string | undefined): void {
    if (this.opts.json) {
      this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const text = human();
    if (text !== undefined && text !== '') this.stdout.write(terminalText(text.endsWith('\n') ? text : `${text}\n`, this.paint));
  }

  table<T>(rows: T[], columns: Column<T>[]): string {
    const cells = rows.map((row) => columns.map((c) => inert(c.value(row))));
    const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
    const line = (values: string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
    const header = this.paint.bold(line(columns.map((c) => c.header)));
    return [header, ...cells.map(line)].join('\n');
  }

  /** Progress and notes for people; silenced by --quiet. */
  info(message: string): void {
    if (!this.opts.quiet) this.stderr.write(terminalText(`${message}\n`, this.errPaint));
  }

  /** What a person must see to go on (the URL to sign in at): printed even with --quiet. */
  essential(message: string): void {
    this.stderr.write(terminalText(`${message}\n`, this.errPaint));
  }

  success(message: string): void {
    this.info(`${this.errPaint.green('✓')} ${message}`);
  }

  warn(message: string, hint?: string): void {
    this.stderr.write(`${this.errPaint.yellow('warning:')} ${inert(message)}\n`);
    if (hint) this.stderr.write(`  ${this.errPaint.dim(inert(hint))}\n`);
  }

  /** One line saying what failed, one with the fix; the stack and cause only with --debug. With --json, also
   *  `{"error": ...}` on stdout, unless the command prints its own document (`document: false`). */
  error(err: unknown, opts: { document?: boolean } = {}): void {
    const e = isIdpError(err) ? err : new IdpError('INTERNAL', err instanceof Error ? err.message : String(err), 'rerun with --debug for details, and report it if it persists');
    this.stderr.write(`${this.errPaint.red('error:')} ${inert(e.message)}\n`);
    const hint = renderHint(e.hint);
    if (hint) this.stderr.write(`${this.errPaint.dim('hint:')} ${inert(hint)}\n`);
    if (this.opts.debug) {
      const original = isIdpError(err) ? err : (err as Error);
      this.stderr.write(terminalText(`${original?.stack ?? ''}\n`, this.errPaint));
      if (original?.cause) this.stderr.write(terminalText(`cause: ${String((original.cause as Error).stack ?? original.cause)}\n`, this.errPaint));
    }
    if (this.opts.json && opts.document !== false) this.stdout.write(`${JSON.stringify({ error: { ...e.toJSON(), hint: hint ?? null } }, null, 2)}\n`);
  }

  /** A flow stage as it happens (stderr): mark, name, detail, duration. */
  stage(event: StageLine): void {
    if (!this.opts.quiet) this.stderr.write(`${stageText(event, this.errPaint)}\n`);
  }
}
