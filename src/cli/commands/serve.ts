// `idp serve`: the org as an OpenID provider that browser apps sign in to (src/server), printing each flow's stages
// as `idp login` does (or JSON lines), until Ctrl-C or SIGTERM drains it.
import type { Command } from 'commander';
import { EXIT } from '../../core/errors.js';
import { validatePublicUrl } from '../../core/urls.js';
import type { StageEvent } from '../../core/types.js';
import { action, adminOf, loginEngine, upstreamsFor } from '../context.js';
import { renderHint } from '../hints.js';
import { parsePort } from '../parse.js';

export const DEFAULT_SERVE_PORT = 8788;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the org as an OpenID provider for browser apps on localhost (Asgardeo-shaped, under /t/<org>)')
    .option('--port <n>', `port on 127.0.0.1 (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)`, parsePort('--port'))
    .option(
      '--public-url <url>',
      'the origin browsers use, e.g. a load balancer in front of several instances: the issuer and every URL are made from it',
      (value: string) => validatePublicUrl(value),
    )
    .option('--personas <file>', 'extra sandbox personas to merge over the bundled ones')
    .addHelpText(
      'after',
      `
Examples:
  idp serve
  idp serve --port 0 --json
  idp serve --port 8789 --public-url https://idp.example.com   # one of several instances behind a load balancer
  idp app create shop --type spa --redirect-uri http://localhost:5173 --origin http://localhost:5173`,
    )
    .action(
      action(async (ctx, opts: { port?: number; publicUrl?: string; personas?: string }) => {
        ctx.out.streamLines();
        const store = await ctx.store();
        const [{ startServer }, { totp }, record, { listApps, sdkConfig }, { sdkText }] = await Promise.all([
          import('../../server/server.js'),
          import('../../mfa/totp.js'),
          import('../serve-record.js'),
          import('../../app/apps.js'),
          import('../sdk-text.js'),
        ]);
        const json = ctx.out.opts.json;
        const onEvent = (event: StageEvent): void => {
          if (json) ctx.out.line({ event: 'stage', ...event });
          else ctx.out.stage({ ...event, flowLabel: event.flow });
        };
        let upstreams: Awaited<ReturnType<typeof upstreamsFor>> | undefined;
        const server = await startServer({
          store,
          actor: ctx.actor,
          port: opts.port ?? DEFAULT_SERVE_PORT,
          publicUrl: opts.publicUrl,
          totp,
          // The verifier the use cases get, which loads @simplewebauthn/server only when a passkey is first checked.
          passkeys: adminOf(store, ctx.actor).passkeys,
          engine: async (callbackUrl) => {
            upstreams = await upstreamsFor(store, { personasFile: opts.personas, callbackUrls: [callbackUrl] });
            return loginEngine({ store, upstreams, onEvent, signIdTokens: false });
          },
          wordHint: (hint) => renderHint(hint) ?? null,
          onError: (err) => ctx.out.error(err, { document: false }),
        }).catch(async (err: unknown) => {
          await upstreams?.close();
          throw err;
        });
        // Both before anything awaits, so no request is answered before they are out: serve.json for `idp doctor`,
        // and with --json the listening line as the first line on stdout. A data directory's org only: an org in a
        // database has no directory of its own, and may have any number of instances on one machine.
        const recorded = ctx.location.engine === 'sqlite';
        if (recorded)
          record.writeServeRecord(ctx.home, {
            pid: process.pid,
            url: server.url,
            base: server.base,
            issuer: server.issuer,
            startedAt: new Date().toISOString(),
          });
        if (json)
          ctx.out.line({
            event: 'listening',
            url: server.url,
            base: server.base,
            issuer: server.issuer,
            discovery: server.discovery,
          });
        if (!json) {
          const apps = (await listApps(store)).filter((a) => !a.builtIn);
          const sdks = await Promise.all(apps.map((a) => sdkConfig(store, a)));
          // The org's base URL is now this server's, so each app's SDK configuration names it.
          ctx.out.result(null, () =>
            [
              `idp serve: ${server.base}`,
              ...(server.base.startsWith(`${server.url}/`) ? [] : [`  listening  ${server.url}`]),
              `  issuer     ${server.issuer}`,
              `  discovery  ${server.discovery}`,
              `  My Account ${server.base}/myaccount`,
              ...apps.flatMap((a, i) => ['', `app ${a.name} (${a.type})`, sdkText(sdks[i]!)]),
            ].join('\n'),
          );
          ctx.out.info('serving until Ctrl-C');
        }
        const signal = await new Promise<NodeJS.Signals>((resolve) =>
          process.once('SIGINT', resolve).once('SIGTERM', resolve),
        );
        ctx.out.info('stopping: finishing requests in flight');
        await server.close();
        await upstreams?.close();
        if (recorded) record.removeServeRecord(ctx.home, process.pid);
        // Stopped by a signal, like any long-running command: 130 for Ctrl-C, 143 for SIGTERM (the README's exit codes).
        process.exitCode = signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
      }),
    );
}
