// `idp init`: create the organisation (demo or empty) in the data directory or the --store database, or re-create a
// data directory's with --force.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import { action, type CliContext } from '../context.js';

interface InitOptions {
  empty?: boolean;
  name?: string;
  force?: boolean;
  yes?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the organisation in the data directory (the demo org unless --empty)')
    .option('--empty', 'no demo apps, connections or users')
    .option('--name <name>', "the organisation's URL-safe name, in /t/<name>/... and its issuer (default: default)")
    .option('--force', 're-create it, deleting everything in it')
    .option('-y, --yes', 'confirm --force without asking')
    .addHelpText(
      'after',
      '\nExamples:\n  idp init\n  idp init --name thrift\n  idp init --empty --home ./sandbox-org\n  idp init --force --yes',
    )
    .action(
      action(async (ctx, opts: InitOptions) => {
        // Checked before anything is deleted or created: a bad name must not cost the old org.
        if (opts.name !== undefined) (await import('../../app/org.js')).checkOrgName(opts.name);
        if (ctx.location.engine === 'postgres') {
          await initInDatabase(ctx, opts);
          return;
        }
        const { databaseExists, dbPath, openDb } = await import('../../store/db.js');
        const exists = databaseExists(ctx.home);
        // A file that is not this idp's database is refused untouched (exit 3): never reported as an org, never deleted.
        if (exists) openDb(ctx.home).close();
        if (exists && !opts.force) {
          ctx.out.info(`an organisation already exists in ${ctx.home}; nothing changed (pass --force to re-create it)`);
          ctx.out.result({ home: ctx.home, created: false }, () => undefined);
          return;
        }
        if (exists) {
          await ctx.confirm(
            `Delete every app, connection and user in ${ctx.home} and start again?`,
            opts.yes,
            're-create the organisation',
          );
          const { rmSync } = await import('node:fs');
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath(ctx.home)}${suffix}`, { force: true });
        }
        await ctx.createOrg({ demo: !opts.empty, name: opts.name });
        await reportCreated(ctx, opts);
      }),
    );
}

/**
 * `idp init` on a PostgreSQL store: the schema is brought up to date and the org created, once, whichever instance or
 * command gets there first. A shared database is never wiped from here (--force is refused): dropping it is the
 * database owner's decision, made with the database's own tools.
 */
async function initInDatabase(ctx: CliContext, opts: InitOptions): Promise<void> {
  const where = ctx.location.shown;
  if (opts.force)
    throw new IdpError(
      'INVALID_VALUE',
      `--force cannot re-create an organisation in a shared database (${where})`,
      'drop and re-create the database (or its tables) with the database tools, then run init again',
    );
  if (!(await ctx.createOrg({ demo: !opts.empty, name: opts.name }))) {
    ctx.out.info(`an organisation already exists in ${where}; nothing changed`);
    ctx.out.result({ home: where, created: false }, () => undefined);
    return;
  }
  await reportCreated(ctx, opts);
}

async function reportCreated(ctx: CliContext, opts: InitOptions): Promise<void> {
  const { DEFAULT_ORG_NAME } = await import('../../core/names.js');
  const name = opts.name ?? DEFAULT_ORG_NAME;
  const where = ctx.location.shown;
  ctx.out.result({ home: where, created: true, demo: !opts.empty, name }, () =>
    opts.empty
      ? `created an empty organisation ${name} in ${where}`
      : `created the demo organisation ${name} in ${where}\n  app thrift (password | google | github), sandbox connections github and google (JIT on), user alice`,
  );
}
