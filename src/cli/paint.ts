// Terminal colour through chalk. idp decides whether a stream gets colour: off unless it is a terminal, and never with
// --no-color, NO_COLOR or TERM=dumb; FORCE_COLOR turns it on. chalk only paints, and is loaded (its own chunk, see
// rollup.config.mjs) only when a stream gets colour: building its style tables costs a command run from a script or a
// pipe about as much as the rest of idp's shared code.

export interface Paint {
  /** Whether these styles write escape sequences (colour is on for the stream). */
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const same = (text: string): string => text;

/** No colour: every style returns its text as it is. */
export const PLAIN: Paint = { enabled: false, bold: same, dim: same, red: same, green: same, yellow: same };

export function colourOn(stream: { isTTY?: boolean }, allowed: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!allowed || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return !!stream.isTTY && env.TERM !== 'dumb';
}

/** The colour styles. Level 1 (16 colours) is every style idp uses, and what any terminal shows. */
export async function loadColour(): Promise<Paint> {
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { enabled: true, bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow };
}
