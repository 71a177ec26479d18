// `idp org show|set`: the organisation itself: its name (the /t/<name> of its URLs), base URL, issuer, data directory,
// signing keys, and the optional SMTP relay that emailed codes also go to (a local mail catcher; the outbox always has them).
import type { Command } from 'commander';
import { action } from '../context.js';

interface OrgView {
  name: string;
  base_url: string;
  issuer: string;
  discovery: string;
  home: string;
  store: 'sqlite' | 'postgres';
  /** Their kids; `idp keys jwks` has the keys. */
  signing_keys: string[];
  smtp_relay: string | null;
}

export function registerOrg(program: Command): void {
  const org = program
    .command('org')
    .description('the organisation: name, issuer, data directory, signing keys, SMTP relay');

  org
    .command('show')
    .description('print the organisation settings')
    .addHelpText('after', '\nExample:\n  idp org show --json')
    .action(
      action(async (ctx) => {
        const { showOrg } = await import('../../app/org.js');
        const org = await showOrg(await ctx.store());
        const view: OrgView = {
          name: org.name,
          base_url: org.baseUrl,
          issuer: org.issuer,
          discovery: org.discovery,
          home: ctx.location.shown,
          store: ctx.location.engine,
          signing_keys: org.signingKeys.map((k) => k.kid),
          smtp_relay: org.smtpRelay,
        };
        ctx.out.result(view, () =>
          [
            `name            ${view.name}`,
            `base URL        ${view.base_url} (apps use ${org.base})`,
            `issuer          ${view.issuer}`,
            `discovery       ${view.discovery}`,
            ctx.location.engine === 'sqlite' ? `data directory  ${view.home}` : `store           ${view.home}`,
            `signing keys    ${org.signingKeys.map((k) => `${k.kid} (${k.alg})`).join(', ')}`,
            `SMTP relay      ${view.smtp_relay ?? 'none (emailed codes are only in idp outbox)'}`,
          ].join('\n'),
        );
      }),
    );

  org
    .command('set')
    .description('change only the given settings (idempotent; prints before -> after)')
    .option('--name <name>', 'the URL-safe name apps see in /t/<name>/... and in the issuer, e.g. thrift')
    .option(
      '--smtp <url>',
      "also send emailed codes to this local mail catcher, e.g. smtp://127.0.0.1:1025; 'none' to stop",
    )
    .option('--dry-run', 'print what would change, change nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  idp org set --name thrift                  # issuer http://localhost:8788/t/thrift/oauth2/token\n  idp org set --smtp smtp://127.0.0.1:1025   # Mailpit, MailHog, smtp4dev\n  idp org set --smtp none',
    )
    .action(
      action(async (ctx, opts: { name?: string; smtp?: string; dryRun?: boolean }) => {
        const { setOrg } = await import('../../app/org.js');
        const { formatChanges } = await import('../views.js');
        const smtpRelay = opts.smtp === 'none' ? null : opts.smtp;
        const { changes, before, after } = await setOrg(
          await ctx.admin(),
          { name: opts.name, smtpRelay },
          { dryRun: !!opts.dryRun },
        );
        ctx.out.result({ changed: changes.length > 0, dry_run: !!opts.dryRun, before, after }, () =>
          changes.length === 0
            ? 'org: no change'
            : `org: ${opts.dryRun ? 'would change' : 'changed'}\n${formatChanges(changes)}`,
        );
      }),
    );
}
