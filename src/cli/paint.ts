// Terminal colour through chalk (bundled into the runtime chunk, so it costs no module loads of its own). idp decides
// whether a stream gets colour: off unless it is a terminal, and never with --no-color, NO_COLOR or TERM=dumb;
// FORCE_COLOR turns it on. chalk only paints.
import { Chalk } from 'chalk';

export type Paint = Pick<InstanceType<typeof Chalk>, 'bold' | 'dim' | 'red' | 'green' | 'yellow'>;

// Level 1 (16 colours) is every style idp uses, and what any terminal shows.
const COLOR: Paint = new Chalk({ level: 1 });
const PLAIN: Paint = new Chalk({ level: 0 });

export function paintFor(stream: { isTTY?: boolean }, allowed: boolean, env: NodeJS.ProcessEnv = process.env): Paint {
  if (!allowed || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return PLAIN;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return COLOR;
  return stream.isTTY && env.TERM !== 'dumb' ? COLOR : PLAIN;
}
