// `idp export` and `idp apply`: the org's apps, connections, JIT settings and scripts as a file kept in a repository,
// and the idempotent, all-or-nothing way back.
import type { Command } from 'commander';
import type { PlanItem } from '../../core/policy.js';
import { action, type CliContext } from '../context.js';
import { parseEnum } from '../parse.js';

export function registerPolicy(program: Command): void {
  program
    .command('export')
    .description('print apps, connections and scripts as a policy file (secrets only as env-var references)')
    .option('--format <format>', 'yaml | json', parseEnum('--format', ['yaml', 'json'] as const), 'yaml')
    .addHelpText('after', '\nExample:\n  idp export > idp.yaml')
    .action(
      action(async (ctx, opts: { format: 'yaml' | 'json' }) => {
        const { exportPolicy, policyText } = await import('../../app/policy-file.js');
        const doc = await exportPolicy(await ctx.store());
        process.stdout.write(policyText(doc, ctx.out.opts.json ? 'json' : opts.format));
      }),
    );

  program
    .command('apply')
    .description(
      'make the org match a policy file: idempotent, one transaction; a partial file changes only what it names',
    )
    .requiredOption('-f, --file <file>', 'the policy file (YAML or JSON)')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--prune', 'also delete apps and connections the file does not name (built-in apps stay)')
    .option(
      '--forget-associations',
      "let a connection's issuer or sandbox change although users are linked through it: delete those links",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  idp apply -f idp.yaml --dry-run\n  idp apply -f idp.yaml\n  idp apply -f idp.yaml --prune --json',
    )
    .action(
      action(async (ctx, opts: { file: string; dryRun?: boolean; prune?: boolean; forgetAssociations?: boolean }) => {
        const { readPolicyFile } = await import('../../app/policy-file.js');
        const { applyPolicy } = await import('../../app/policy.js');
        const { renderHint } = await import('../hints.js');
        const { warnMfaConflict } = await import('./app.js');
        const doc = readPolicyFile(opts.file);
        const { plan, notes, conflicts, forgotten } = await applyPolicy(await ctx.admin(), doc, {
          file: opts.file,
          prune: !!opts.prune,
          dryRun: !!opts.dryRun,
          forgetAssociations: !!opts.forgetAssociations,
        });
        for (const c of conflicts) warnMfaConflict(ctx, c);
        for (const f of forgotten)
          ctx.out.warn(
            `${opts.dryRun ? 'would forget' : 'forgot'} ${f.associations} association(s) of ${f.connection}: its users keep their local accounts`,
          );
        for (const note of notes) ctx.out.warn(renderHint(note)!);
        ctx.out.result(
          {
            changed: plan.length > 0 && !opts.dryRun,
            dry_run: !!opts.dryRun,
            plan: plan.map(({ desired: _desired, ...item }) => item),
          },
          () => describePlan(ctx, plan, !!opts.dryRun),
        );
      }),
    );
}

function describePlan(ctx: CliContext, plan: PlanItem[], dryRun: boolean): string {
  if (plan.length === 0) return 'no changes: the org already matches the file';
  const p = ctx.out.paint;
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const lines = plan.map((item) => {
    const head = `${item.action === 'create' ? p.green('+') : item.action === 'delete' ? p.red('-') : p.yellow('~')} ${item.kind} ${item.name}`;
    if (item.action !== 'update') return `${head} (${item.action})`;
    return [head, ...item.changes.map((c) => `    ${c.path}: ${show(c.before)} -> ${show(c.after)}`)].join('\n');
  });
  return [
    ...lines,
    dryRun ? `dry run: ${plan.length} change(s) planned, nothing changed` : `applied ${plan.length} change(s)`,
  ].join('\n');
}
