// `idp flows ...`: recent login flows and a replay of one flow's stages, as they were recorded.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { action } from '../context.js';
import { parsePositiveInt } from '../parse.js';
import { stageText } from '../render.js';
import { shortTime } from '../views.js';

export function registerFlows(program: Command): void {
  const flows = program.command('flows').description('login flows and their stages');

  flows
    .command('list')
    .description('recent flows, newest first')
    .option('--limit <n>', 'how many (default 20)', parsePositiveInt('--limit', 1000), 20)
    .addHelpText('after', '\nExample:\n  idp flows list --limit 5')
    .action(
      action(async (ctx, opts: { limit: number }) => {
        const rows = (await ctx.store()).flows.recent(opts.limit);
        const view = rows.map((r) => ({ id: r.id, app: r.app, status: r.status, created_at: r.created_at }));
        ctx.out.result({ flows: view }, () =>
          view.length === 0
            ? 'no flows yet: try idp login --app thrift'
            : ctx.out.table(view, [
                { header: 'FLOW', value: (f) => f.id },
                { header: 'APP', value: (f) => f.app },
                { header: 'STATUS', value: (f) => f.status },
                { header: 'STARTED', value: (f) => shortTime(f.created_at) },
              ]),
        );
      }),
    );

  flows
    .command('show')
    .argument('<flow>', 'flow id (from idp login --json, idp flows list or idp events)')
    .description("replay a flow's stages")
    .addHelpText('after', '\nExample:\n  idp flows show f_Zx3...')
    .action(
      action(async (ctx, id: string) => {
        const store = await ctx.store();
        const row = store.flows.get(id);
        if (!row) throw new IdpError('FLOW_NOT_FOUND', `no flow with id ${id}`, 'see idp flows list');
        const stages = store.events.list({ flow: id, limit: 1000 }).map(({ stage, status, ms, detail, at }) => ({ stage, status, ms, detail, at }));
        ctx.out.result({ flow: id, app: row.app, status: row.status, created_at: row.created_at, stages }, () =>
          [
            `flow ${id} (${row.app}), ${row.status}, started ${shortTime(row.created_at)}`,
            ...stages.map((s) => stageText({ stage: s.stage ?? '', status: s.status ?? '', ms: s.ms ?? 0, detail: s.detail }, ctx.out.paint)),
          ].join('\n'),
        );
      }),
    );
}
