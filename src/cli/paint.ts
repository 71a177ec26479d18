// Terminal colour: the five styles idp uses, as plain ANSI codes (loading chalk cost more startup time than
// every other part of `idp users list` but the database). Off unless the stream is a terminal, and never with
// --no-color, NO_COLOR or TERM=dumb; FORCE_COLOR turns it on.

export interface Paint {
  /** Whether these styles write escape sequences (colour is on for the stream). */
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const style = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;

const COLOR: Paint = { enabled: true, bold: style(1, 22), dim: style(2, 22), red: style(31, 39), green: style(32, 39), yellow: style(33, 39) };
const PLAIN: Paint = { enabled: false, bold: (t) => t, dim: (t) => t, red: (t) => t, green: (t) => t, yellow: (t) => t };

export function paintFor(stream: { isTTY?: boolean }, allowed: boolean, env: NodeJS.ProcessEnv = process.env): Paint {
  if (!allowed || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return PLAIN;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return COLOR;
  return stream.isTTY && env.TERM !== 'dumb' ? COLOR : PLAIN;
}
