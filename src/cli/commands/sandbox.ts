// `idp sandbox ...`: the bundled upstream providers standalone (for a browser or another client), and their personas.
import type { Command } from 'commander';
import { EXIT } from '../../core/errors.js';
import { action } from '../context.js';
import { parsePositiveInt } from '../parse.js';
import type { GithubPersona } from '../../sandbox/personas.js';

export function registerSandbox(program: Command): void {
  const sandbox = program.command('sandbox').description('the bundled GitHub-like and Google-like providers');

  sandbox
    .command('accounts')
    .description('the sandbox personas you can sign in as')
    .option('--personas <file>', 'extra personas to merge over the bundled ones')
    .addHelpText('after', '\nExample:\n  idp sandbox accounts --json')
    .action(
      action(async (ctx, opts: { personas?: string }) => {
        const { loadPersonas } = await import('../../sandbox/personas.js');
        const personas = loadPersonas(opts.personas);
        const rows = [
          ...personas.github.map((p) => {
            const primary = p.emails.find((e) => e.primary);
            return {
              provider: 'github',
              persona: p.login,
              subject: String(p.id),
              email: p.publicEmail ?? primary?.email ?? null,
              email_verified: !!primary?.verified,
              note: githubNote(p),
            };
          }),
          ...personas.google.map((p) => ({
            provider: 'google',
            persona: p.username,
            subject: p.sub,
            email: p.email,
            email_verified: p.emailVerified,
            note: p.name,
          })),
        ];
        ctx.out.result({ accounts: rows }, () =>
          ctx.out.table(rows, [
            { header: 'PROVIDER', value: (r) => r.provider },
            { header: 'PERSONA', value: (r) => r.persona },
            { header: 'SUBJECT', value: (r) => r.subject },
            {
              header: 'EMAIL',
              value: (r) => `${r.email ?? '-'}${r.email ? (r.email_verified ? ' (verified)' : ' (not verified)') : ''}`,
            },
            { header: 'NOTE', value: (r) => r.note },
          ]),
        );
      }),
    );

  sandbox
    .command('serve')
    .description('run the sandbox providers until Ctrl-C, registered with the sandbox connections of this org')
    .option(
      '--port <n>',
      'GitHub-like on N, Google-like on N+1 (default: free ports)',
      parsePositiveInt('--port', 65534),
    )
    .option('--personas <file>', 'extra personas to merge over the bundled ones')
    .addHelpText('after', '\nExample:\n  idp sandbox serve --port 9000')
    .action(
      action(async (ctx, opts: { port?: number; personas?: string }) => {
        const store = await ctx.store();
        const { startSandbox } = await import('../../sandbox/server.js');
        const { loadPersonas } = await import('../../sandbox/personas.js');
        const { sandboxClients } = await import('../../federation/upstreams.js');
        const clients = await sandboxClients(store, process.env);
        const running = await startSandbox({
          providers: ['github', 'google'],
          clients,
          personas: loadPersonas(opts.personas),
          port: opts.port ?? 0,
        });
        await ctx.close();
        const urls = {
          github: running.github && {
            authorize: running.github.authorizeUrl,
            token: running.github.tokenUrl,
            api: running.github.apiBase,
          },
          google: running.google && {
            issuer: running.google.issuer,
            discovery: `${running.google.issuer}/.well-known/openid-configuration`,
          },
          clients: clients.map((c) => ({ provider: c.provider, client_id: c.clientId })),
        };
        ctx.out.result(urls, () =>
          [
            `GitHub-like  authorize ${urls.github?.authorize}`,
            `             token     ${urls.github?.token}`,
            `             API       ${urls.github?.api}`,
            `Google-like  issuer    ${urls.google?.issuer}`,
            `             discovery ${urls.google?.discovery}`,
            `clients: ${clients.map((c) => `${c.clientId} (${c.provider})`).join(', ') || 'none'}`,
          ].join('\n'),
        );
        const stopped = new Promise<NodeJS.Signals>((resolve) =>
          process.once('SIGINT', resolve).once('SIGTERM', resolve),
        );
        ctx.out.info('serving until Ctrl-C');
        const signal = await stopped;
        await running.close();
        // Stopped by a signal, like any interrupted command: 130 for Ctrl-C, 143 for SIGTERM (the README's exit codes).
        process.exitCode = signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
      }),
    );
}

/** What a developer signing in as this GitHub persona will meet. */
function githubNote(p: GithubPersona): string {
  const trouble = [p.appSuspended && 'meets a suspended app', p.rateLimited && 'API rate-limited'].filter(Boolean);
  return [p.publicEmail ? 'public email' : 'email only via /user/emails', ...trouble].join('; ');
}
