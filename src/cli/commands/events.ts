// `idp events`: the audit trail of config changes and flow stages, newest first (or one flow's stages in order),
// filtered by kind, user, flow, connection and time.
import type { Command } from 'commander';
import { listEvents } from '../../app/events.js';
import { action } from '../context.js';
import { parseEnum, parsePositiveInt } from '../parse.js';
import { shortTime } from '../views.js';

interface EventOptions {
  kind?: 'stage' | 'config';
  user?: string;
  flow?: string;
  connection?: string;
  since?: string;
  limit: number;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('the audit trail: config changes and login stages, newest first')
    .option(
      '--kind <kind>',
      'stage (login stages) or config (changes)',
      parseEnum('--kind', ['stage', 'config'] as const),
    )
    .option('--user <user>', 'changes to the user, and the stages of their sign-ins (id, username or email)')
    .option('--flow <id>', "one flow's stages, in order")
    .option('--connection <name>', 'changes to the connection, and the stages of sign-ins that chose it')
    .option('--since <when>', 'a duration back from now (30s, 15m, 2h, 7d) or an ISO time')
    .option('--limit <n>', 'how many', parsePositiveInt('--limit', 10000), 50)
    .addHelpText(
      'after',
      '\nExamples:\n  idp events --since 1h\n  idp events --kind config --user alice\n  idp events --connection github --kind stage --since 2026-12-01\n  idp events --flow f_Zx3... --json',
    )
    .action(
      action(async (ctx, opts: EventOptions) => {
        const events = await listEvents(await ctx.store(), opts);
        const filtered = opts.kind || opts.user || opts.flow || opts.connection || opts.since;
        ctx.out.result({ events }, () => {
          if (events.length === 0)
            return opts.flow ? `no events for flow ${opts.flow}` : filtered ? 'no events match' : 'no events yet';
          return ctx.out.table(events, [
            { header: 'AT', value: (e) => shortTime(e.at) },
            { header: 'KIND', value: (e) => (e.kind === 'config' ? (e.action ?? 'config') : `${e.stage}`) },
            { header: 'WHO/FLOW', value: (e) => (e.kind === 'config' ? (e.actor ?? '-') : (e.flow ?? '-')) },
            { header: 'DETAIL', value: (e) => (e.kind === 'stage' ? `${e.status} ${e.detail}` : e.detail) },
          ]);
        });
      }),
    );
}
