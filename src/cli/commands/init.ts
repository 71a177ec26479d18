// `idp init`: create the organisation (demo or empty), or re-create it with --force.
import type { Command } from 'commander';
import { action } from '../context.js';

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
      action(async (ctx, opts: { empty?: boolean; name?: string; force?: boolean; yes?: boolean }) => {
        const { databaseExists, dbPath, openDb } = await import('../../store/db.js');
        // Checked before anything is deleted or created: a bad name must not cost the old org.
        if (opts.name !== undefined) (await import('../../app/org.js')).checkOrgName(opts.name);
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
        const { DEFAULT_ORG_NAME } = await import('../../core/names.js');
        const name = opts.name ?? DEFAULT_ORG_NAME;
        ctx.out.result({ home: ctx.home, created: true, demo: !opts.empty, name }, () =>
          opts.empty
            ? `created an empty organisation ${name} in ${ctx.home}`
            : `created the demo organisation ${name} in ${ctx.home}\n  app thrift (password | google | github), sandbox connections github and google (JIT on), user alice`,
        );
      }),
    );
}
