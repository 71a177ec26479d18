// `idp explain`: the JIT decision a sign-in through a connection would get, and why, with no writes at all.
// With --as, the persona's real upstream profile is fetched from the in-process sandbox through the same connector
// a login uses; with --claims, the upstream claims come from a JSON file.
import type { Command } from 'commander';
import { IdpError } from '../../core/errors.js';
import type { Connection } from '../../core/types.js';
import type { Explanation } from '../../app/explain.js';
import { requireApp, requireConnection } from '../../app/lookup.js';
import type { Store, UpstreamProfile } from '../../ports.js';
import { action, upstreamsFor, type CliContext } from '../context.js';
import { inert } from '../render.js';

interface ExplainOptions {
  app: string;
  connection: string;
  as?: string;
  claims?: string;
  personas?: string;
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description(
      'what a sign-in through a connection would do (JIT decision, user, attribute changes, later steps, MFA), writing nothing',
    )
    .requiredOption('--app <app>', 'the application')
    .requiredOption('--connection <name>', 'the connection offered in step 1')
    .option('--as <persona>', 'a sandbox persona (sandbox connections)')
    .option('--claims <file>', 'upstream claims as JSON: {"sub": "...", "email": "...", "email_verified": true, ...}')
    .option('--personas <file>', 'extra sandbox personas')
    .addHelpText(
      'after',
      '\nExamples:\n  idp explain --app thrift --connection github --as alice-gh\n  idp explain --app thrift --connection corp --claims upstream.json --json',
    )
    .action(
      action(async (ctx, opts: ExplainOptions) => {
        if (!!opts.as === !!opts.claims)
          throw new IdpError('USAGE', 'pass exactly one of --as PERSONA or --claims FILE', 'e.g. --as octocat');
        const { store, scripts } = await ctx.admin();
        const app = await requireApp(store, opts.app);
        const connection = await requireConnection(store, opts.connection);
        const upstream = opts.claims
          ? await claimsFromFile(opts.claims)
          : await personaProfile(store, connection, opts.as!, opts.personas);
        const { explain } = await import('../../app/explain.js');
        const result = await explain(store, app, connection, upstream, scripts);
        const { upstream: _upstream, ...document } = result;
        ctx.out.result(ctx.out.opts.json ? document : result, () => describe(ctx, result));
      }),
    );
}

async function claimsFromFile(file: string): Promise<UpstreamProfile> {
  const { readText } = await import('../../app/files.js');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (err) {
    if (err instanceof IdpError) throw err;
    throw new IdpError(
      'FILE_INVALID',
      `${file}: not valid JSON (${(err as Error).message})`,
      'e.g. {"sub": "1234", "email": "dana@example.com", "email_verified": true}',
    );
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    typeof (parsed as { sub?: unknown }).sub !== 'string'
  ) {
    throw new IdpError(
      'FILE_INVALID',
      `${file}: must be a JSON object with a string "sub"`,
      'e.g. {"sub": "1234", "email": "dana@example.com", "email_verified": true}',
    );
  }
  const { sub, ...claims } = parsed as Record<string, unknown> & { sub: string };
  return { subject: sub, claims };
}

/** Signs the persona in at the in-process sandbox and reads its profile, stopping before anything is decided or written. */
export async function personaProfile(
  store: Store,
  connection: Connection,
  persona: string,
  personasFile: string | undefined,
): Promise<UpstreamProfile> {
  if (!connection.sandbox)
    throw new IdpError(
      'HEADLESS_NEEDS_SANDBOX',
      `${connection.name} is a real ${connection.type} connection: personas exist only in the sandbox`,
      'pass the upstream claims with --claims FILE',
    );

  const { completeSandboxConsent } = await import('../../sandbox/automate.js');
  const upstreams = await upstreamsFor(store, { personasFile });
  try {
    const { connector } = await upstreams.connector(connection);
    // The sandbox accepts its registered loopback callback on any port; nothing listens: the redirect is read, not followed.
    const auth = await connector.authorizationRequest('http://127.0.0.1:9/callback');
    const callback = await completeSandboxConsent(auth.url, { persona, consent: 'approve' });
    return await connector.fetchProfile(await connector.exchangeCode(new URL(callback), auth));
  } finally {
    await upstreams.close();
  }
}

function describe(ctx: CliContext, r: Explanation): string {
  const p = ctx.out.paint;
  // Upstream claims and the user they would make are untrusted text: escaped, so a claim cannot fake a line.
  const show = (v: unknown): string =>
    v === null || v === undefined ? '-' : typeof v === 'string' ? inert(v) : JSON.stringify(v);
  const user = !r.user
    ? 'none (no local user is written)'
    : r.user.state === 'new'
      ? `would create ${inert(r.user.username)} (${inert(r.user.email ?? 'no email')})`
      : `${inert(r.user.username)} (${r.user.id})`;
  const later = r.steps.slice(1);
  return [
    `${p.bold('decision')}    ${r.decision}`,
    `${p.bold('reason')}      ${inert(r.reason)}`,
    `${p.bold('user')}        ${user}`,
    `${p.bold('attributes')}  ${r.attributes.length ? '' : 'no changes'}`,
    ...r.attributes.map((a) => `  ${a.attribute}: ${show(a.before)} -> ${show(a.after)}`),
    `${p.bold('steps')}       step 1: ${r.steps[0]!.options.join(' | ')}${later.map((s) => `  ->  step ${s.step}: ${s.options.join(' | ')}`).join('')}`,
    `${p.bold('MFA')}         ${r.mfa_required ? (r.mfa_possible ? 'required, possible (local user)' : 'required but impossible: no local user (MFA_NEEDS_LOCAL_USER)') : 'not required'}`,
    `${p.bold('upstream')}    subject ${inert(r.upstream.subject)}; ${Object.entries(r.upstream.claims)
      .map(([k, v]) => `${inert(k)}=${show(v)}`)
      .join(', ')}`,
  ].join('\n');
}
