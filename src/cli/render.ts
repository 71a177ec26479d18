// The one renderer: results to stdout (a table/text, or one JSON document with --json); stages, notes, warnings
// and errors to stderr. Colour follows --no-color, NO_COLOR and whether the stream is a terminal (see paint.ts).
// Text from outside (upstream errors and claims, persona names, stored events) never drives the terminal: single-line
// slots (stage details, messages, table cells) show every control character escaped, and whole texts keep only
// their tabs, line breaks and, with colour on, idp's own colour codes.
import { colourOn, loadColour, PLAIN, type Paint } from './paint.js';
import { CONTROL_CHARS } from '../core/control.js';
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
  /** Named on the line when several flows interleave (`idp serve`). */
  flowLabel?: string;
}

/** Characters that move the cursor, retitle or clear the screen, ring, break a line or reorder text when printed. */
const CONTROL = new RegExp(`[${CONTROL_CHARS}]`, 'g');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  return (
    NAMED[ch] ??
    (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

/** Untrusted text for one line of a terminal: every control character shown escaped (ESC as `\x1b`, a newline as `\n`). */
export function inert(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** idp's own colour codes (paint.ts), and any other control character but the tab and the line break. */
const IN_TEXT = new RegExp(`\\x1b\\[\\d{1,2}m|(?![\\t\\n])[${CONTROL_CHARS}]`, 'g');

/**
 * A whole text for a terminal (a table, a script, a list of lines): tabs and line breaks kept, idp's colour codes kept
 * only while `paint` colours, the rest escaped.
 */
function terminalText(text: string, paint: Paint): string {
  return text.replace(IN_TEXT, (match) => (match.length > 1 && paint.enabled ? match : inert(match)));
}

/** Characters a terminal shows two columns wide (East Asian Wide and Fullwidth: CJK, kana, Hangul, fullwidth forms). */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;
/** An emoji shown as a picture: two columns, whatever it is built of (ZWJ sequences, skin tones, flags). */
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\ufe0f|\p{Regional_Indicator}/u;
/** A grapheme that adds no column of its own (a lone combining mark, a joiner, a variation selector). */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: the class lists combining marks and joiners on purpose, one code point at a time
const ZERO = /^[\p{Mn}\p{Me}\u200b-\u200d\ufe00-\ufe0f]+$/u;

let graphemes: Intl.Segmenter | undefined;

/**
 * How many terminal columns `text` takes: per grapheme, 2 for wide characters and emoji, 0 for combining marks, else 1
 * (UTF-16 length would count an emoji as 2 or more and a CJK character as 1).
 */
export function displayWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (ZERO.test(segment)) continue;
    width += EMOJI.test(segment) || WIDE.test(String.fromCodePoint(segment.codePointAt(0)!)) ? 2 : 1;
  }
  return width;
}

function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

export function stageText(event: StageLine, p: Paint): string {
  const mark = event.status === 'ok' ? p.green('✓') : event.status === 'failed' ? p.red('✗') : p.dim('·');
  const flow = event.flowLabel ? `${p.dim(inert(event.flowLabel))} ` : '';
  return `  ${flow}${mark} ${inert(event.stage).padEnd(8)} ${inert(event.detail)} ${p.dim(`${Math.round(event.ms)} ms`)}`;
}

export class Renderer {
  readonly paint: Paint;
  readonly errPaint: Paint;
  /** Whether --json output is a stream of JSON lines (idp serve) rather than one document. */
  private lines = false;

  /** `colour`: the styles for a stream that gets colour (see paint.ts); without them, both streams are plain. */
  constructor(
    readonly opts: RenderOptions,
    private readonly stdout = process.stdout,
    private readonly stderr = process.stderr,
    colour: Paint = PLAIN,
  ) {
    this.paint = colourOn(stdout, opts.color) ? colour : PLAIN;
    this.errPaint = colourOn(stderr, opts.color) ? colour : PLAIN;
  }

  /** The renderer on this process's stdout and stderr, loading the colour styles only when one of them gets colour. */
  static async forProcess(opts: RenderOptions): Promise<Renderer> {
    const coloured = colourOn(process.stdout, opts.color) || colourOn(process.stderr, opts.color);
    return new Renderer(opts, process.stdout, process.stderr, coloured ? await loadColour() : PLAIN);
  }

  /**
   * From here on, --json output is JSON lines, the error document included: a reader of a stream (idp serve's) parses
   * each line on its own.
   */
  streamLines(): void {
    this.lines = true;
  }

  /** One record of a --json stream, on a line of its own. */
  line(record: Record<string, unknown>): void {
    this.stdout.write(`${JSON.stringify(record)}\n`);
  }

  /** The command's result: `data` as JSON with --json, otherwise the human text (if any). */
  result(data: unknown, human: () => string | undefined): void {
    if (this.opts.json) {
      this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const text = human();
    if (text !== undefined && text !== '')
      this.stdout.write(terminalText(text.endsWith('\n') ? text : `${text}\n`, this.paint));
  }

  table<T>(rows: T[], columns: Column<T>[]): string {
    const cells = rows.map((row) => columns.map((c) => inert(c.value(row))));
    const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]!))));
    const line = (values: string[]): string =>
      values.map((v, i) => (i === values.length - 1 ? v : padToWidth(v, widths[i]!))).join('  ');
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
    const e = isIdpError(err)
      ? err
      : new IdpError(
          'INTERNAL',
          err instanceof Error ? err.message : String(err),
          'rerun with --debug for details, and report it if it persists',
        );
    this.stderr.write(`${this.errPaint.red('error:')} ${inert(e.message)}\n`);
    const hint = renderHint(e.hint);
    if (hint) this.stderr.write(`${this.errPaint.dim('hint:')} ${inert(hint)}\n`);
    if (this.opts.debug) {
      const original = isIdpError(err) ? err : (err as Error);
      this.stderr.write(terminalText(`${original?.stack ?? ''}\n`, this.errPaint));
      if (original?.cause)
        this.stderr.write(
          terminalText(`cause: ${String((original.cause as Error).stack ?? original.cause)}\n`, this.errPaint),
        );
    }
    if (this.opts.json && opts.document !== false)
      this.stdout.write(
        `${JSON.stringify({ error: { ...e.toJSON(), hint: hint ?? null } }, null, this.lines ? undefined : 2)}\n`,
      );
  }

  /** A flow stage as it happens (stderr): mark, name, detail, duration. */
  stage(event: StageLine): void {
    if (!this.opts.quiet) this.stderr.write(`${stageText(event, this.errPaint)}\n`);
  }
}
