// Terminal colour through chalk (bundled into the runtime chunk, so it costs no module loads of its own). idp decides
// whether a stream gets colour: off unless it is a terminal, and never with --no-color, NO_COLOR or TERM=dumb;
// FORCE_COLOR turns it on. chalk only paints.
import { Chalk } from 'chalk';

export interface Paint {
  /** Whether these styles write escape sequences (colour is on for the stream). */
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

function paint(level: 0 | 1): Paint {
  const c = new Chalk({ level });
  return { enabled: level > 0, bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow };
}

// Level 1 (16 colours) is every style idp uses, and what any terminal shows.
const COLOR = paint(1);
const PLAIN = paint(0);

export function paintFor(stream: { isTTY?: boolean }, allowed: boolean, env: NodeJS.ProcessEnv = process.env): Paint {
  if (!allowed || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return PLAIN;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return COLOR;
  return stream.isTTY && env.TERM !== 'dumb' ? COLOR : PLAIN;
}
