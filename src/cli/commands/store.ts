// `idp store copy|verify|migrate`: move an organisation between stores (data directories and PostgreSQL databases,
// either way), prove two stores hold the same org, and bring a store up to this idp's schema.
import type { Command } from 'commander';
import type { NamedTables, TableSum, Verification } from '../../app/store-copy.js';
import { exitCodeFor } from '../../core/errors.js';
import { action, type CliContext, migrateStore, openTables, storeLocation } from '../context.js';

interface CopyOptions {
  from: string;
  to: string;
  dryRun?: boolean;
}

export function registerStore(program: Command): void {
  const group = program.command('store').description('move an org between stores, check a copy, migrate the schema');

  group
    .command('copy')
    .description('copy the org at --from into the empty store at --to, then verify rows and a checksum per table')
    .requiredOption('--from <store>', 'the source: a data directory or a postgres:// URL')
    .requiredOption('--to <store>', 'the destination, empty or not made yet: a data directory or a postgres:// URL')
    .option('--dry-run', 'print what would be copied, write nothing')
    .addHelpText(
      'after',
      `
Examples:
  idp store copy --from ~/.local/share/idp --to ./org-copy --dry-run
  idp store copy --from ~/.local/share/idp --to ./org-copy
  idp store verify --from ~/.local/share/idp --to ./org-copy
  idp store copy --from ~/.local/share/idp --to postgres://idp@127.0.0.1:5432/idp   # PGPASSWORD, IDP_SEAL_KEY set`,
    )
    .action(
      action(async (ctx, opts: CopyOptions) => {
        const { planCopy, applyCopy } = await import('../../app/store-copy.js');
        const started = performance.now();
        await withStores(ctx, opts, 'probe', async (from, to) => {
          const plan = await planCopy(from, to);
          if (opts.dryRun) {
            ctx.out.result({ dryRun: true, ...plan }, () =>
              [
                `would copy ${plan.rows} rows in ${plan.tables.length} tables from ${plan.from} to ${plan.to} (schema ${plan.schemaVersion})`,
                sumTable(ctx, plan.tables),
              ].join('\n'),
            );
            return;
          }
          const target = {
            location: to.location,
            tables: await openTables(storeLocation(opts.to), 'write', await ctx.storePassword()),
          };
          try {
            const verification = await applyCopy(plan, from, target);
            const seconds = (performance.now() - started) / 1000;
            ctx.out.result({ ...plan, verification, seconds }, () =>
              [
                sumTable(ctx, plan.tables),
                `copied ${plan.rows} rows in ${plan.tables.length} tables from ${plan.from} to ${plan.to} in ${seconds.toFixed(1)} s (${Math.round(plan.rows / seconds)} rows/s); every table's rows and checksum match`,
              ].join('\n'),
            );
          } finally {
            await target.tables.close();
          }
        });
      }),
    );

  group
    .command('verify')
    .description('compare two stores table by table: row counts and checksums (exit 9 when they differ)')
    .requiredOption('--from <store>', 'one store: a data directory or a postgres:// URL')
    .requiredOption('--to <store>', 'the other store')
    .addHelpText('after', '\nExample:\n  idp store verify --from ~/.local/share/idp --to ./org-copy')
    .action(
      action(async (ctx, opts: CopyOptions) => {
        const { verifyCopy, mismatch } = await import('../../app/store-copy.js');
        await withStores(ctx, opts, 'read', async (from, to) => {
          const verification = await verifyCopy(from, to);
          ctx.out.result({ from: from.location, to: to.location, ...verification }, () =>
            verifyTable(ctx, verification),
          );
          if (!verification.ok) {
            const err = mismatch(from, to, verification);
            ctx.out.error(err, { document: false });
            process.exitCode = exitCodeFor(err.code);
          }
        });
      }),
    );

  group
    .command('migrate')
    .description('apply the schema migrations this idp has and the store (--home or --store) lacks')
    .option('--dry-run', 'print the versions, change nothing')
    .addHelpText('after', '\nExamples:\n  idp store migrate --dry-run\n  idp --home ./org store migrate')
    .action(
      action(async (ctx, opts: { dryRun?: boolean }) => {
        const location = ctx.location;
        const { from, to } = await migrateStore(location, !!opts.dryRun, await ctx.storePassword());
        const done = from === to;
        ctx.out.result(
          { store: location.shown, from, to, migrated: !done && !opts.dryRun, dryRun: !!opts.dryRun },
          () =>
            done
              ? `${location.shown}: schema ${to}, up to date`
              : `${location.shown}: schema ${from} -> ${to}${opts.dryRun ? ' (dry run: nothing changed)' : ''}`,
        );
      }),
    );
}

/**
 * Opens both stores for reading and closes them afterwards; with `probe` the destination may not exist yet (a copy
 * opens it for writing only once its plan holds).
 */
async function withStores(
  ctx: CliContext,
  opts: CopyOptions,
  mode: 'read' | 'probe',
  use: (from: NamedTables, to: NamedTables) => Promise<void>,
): Promise<void> {
  const [source, target] = [storeLocation(opts.from), storeLocation(opts.to)];
  const password = await ctx.storePassword();
  const from = await openTables(source, 'read', password);
  try {
    const to = await openTables(target, mode, password);
    try {
      await use({ location: source.shown, tables: from }, { location: target.shown, tables: to });
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

function sumTable(ctx: CliContext, sums: TableSum[]): string {
  return ctx.out.table(sums, [
    { header: 'TABLE', value: (t) => t.table },
    { header: 'ROWS', value: (t) => String(t.rows) },
    { header: 'CHECKSUM', value: (t) => t.checksum.slice(0, 16) },
  ]);
}

function verifyTable(ctx: CliContext, verification: Verification): string {
  return ctx.out.table(verification.tables, [
    { header: 'TABLE', value: (t) => t.table },
    { header: 'ROWS', value: (t) => String(t.rows) },
    { header: 'THERE', value: (t) => String(t.destination.rows) },
    { header: 'CHECKSUM', value: (t) => t.checksum.slice(0, 16) },
    { header: 'MATCH', value: (t) => (t.ok ? 'yes' : 'NO') },
  ]);
}
