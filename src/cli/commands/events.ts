// `idp events`: the audit trail of config changes and flow stages, newest first (or one flow's stages in order).
import type { Command } from 'commander';
import { action } from '../context.js';
import { parsePositiveInt } from '../parse.js';
import { shortTime } from '../views.js';

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('the audit trail: config changes and login stages')
    .option('--flow <id>', "one flow's stages, in order")
    .option('--limit <n>', 'how many', parsePositiveInt('--limit', 10000), 50)
    .addHelpText('after', '\nExamples:\n  idp events\n  idp events --flow f_Zx3... --json')
    .action(
      action(async (ctx, opts: { flow?: string; limit: number }) => {
        const events = (await ctx.store()).events.list(opts);
        ctx.out.result({ events }, () => {
          if (events.length === 0) return opts.flow ? `no events for flow ${opts.flow}` : 'no events yet';
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
