// `idp flows ...`: recent login flows (what each did and how it ended) and a replay of one flow's stages.
import type { Command } from 'commander';
import { flowStages, recentFlows, type FlowSummary } from '../../app/flows.js';
import { action } from '../context.js';
import { parsePositiveInt } from '../parse.js';
import { stageText } from '../render.js';
import { shortTime } from '../views.js';

function userText(user: FlowSummary['user']): string {
  if (user === null) return '-';
  return user.kind === 'local' ? user.username : `pass-through (${user.connection})`;
}

export function registerFlows(program: Command): void {
  const flows = program.command('flows').description('login flows and their stages');

  flows
    .command('list')
    .description('recent flows, newest first: app, chosen options, user, JIT decision, outcome, error')
    .option('--limit <n>', 'how many', parsePositiveInt('--limit', 1000), 20)
    .addHelpText(
      'after',
      '\nExamples:\n  idp flows list --limit 5\n  idp flows list --json | jq \'.flows[] | select(.outcome == "failed") | .error\'',
    )
    .action(
      action(async (ctx, opts: { limit: number }) => {
        const view = await recentFlows(await ctx.store(), opts.limit);
        ctx.out.result({ flows: view }, () =>
          view.length === 0
            ? 'no flows yet: try idp login --app thrift'
            : ctx.out.table(view, [
                { header: 'FLOW', value: (f) => f.id },
                { header: 'STARTED', value: (f) => shortTime(f.created_at) },
                { header: 'APP', value: (f) => f.app },
                { header: 'OPTIONS', value: (f) => f.options.join(' + ') || '-' },
                { header: 'USER', value: (f) => userText(f.user) },
                { header: 'JIT', value: (f) => f.jit ?? '-' },
                { header: 'OUTCOME', value: (f) => f.outcome },
                { header: 'ERROR', value: (f) => f.error ?? '-' },
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
        const shown = await flowStages(await ctx.store(), id);
        const { stages } = shown;
        ctx.out.result(shown, () =>
          [
            `flow ${id} (${shown.app}), ${shown.status}, started ${shortTime(shown.created_at)}`,
            ...stages.map((s) =>
              stageText(
                { stage: s.stage ?? '', status: s.status ?? '', ms: s.ms ?? 0, detail: s.detail },
                ctx.out.paint,
              ),
            ),
          ].join('\n'),
        );
      }),
    );
}
