// `idp login`: walk one sign-in to an app stage by stage (terminal or headless), then print the JIT outcome and
// the ID token's claims; `--json` gives one document CI can assert on.
import type { Command } from 'commander';
import { exitCodeFor, IdpError } from '../../core/errors.js';
import { FLOW_LIFETIME_MS } from '../../core/flow-lifetime.js';
import type { StageEvent } from '../../core/types.js';
import type { FlowView } from '../../flow/types.js';
import { SECOND_FACTORS, type SecondFactor } from '../../core/signin.js';
import type { Store } from '../../ports.js';
import { action, loginEngine, readStdin, upstreamsFor, type CliContext } from '../context.js';
import { parseEnum, parsePositiveInt } from '../parse.js';
import { inert } from '../render.js';

export interface LoginOptions {
  app: string;
  connection?: string;
  option?: string;
  mfa?: SecondFactor;
  headless?: boolean;
  as?: string;
  consent: 'approve' | 'deny';
  username?: string;
  passwordStdin?: boolean;
  timeout?: number;
  browser: boolean;
  print?: 'id_token' | 'claims';
  redirectUri?: string;
  personas?: string;
  jitConsent?: 'approve' | 'deny';
  jitUsername?: string;
  otp?: string;
  totpSecretEnv?: string;
  otpFromOutbox?: boolean;
  passkeyKeyEnv?: string;
}

/** How long a SIGTERM waits for the flow to be marked failed and the loopback port closed. */
const TERM_GRACE_MS = 2000;

/** A flow idle longer than its lifetime expires, so no wait may outlast it. */
const MAX_TIMEOUT_S = FLOW_LIFETIME_MS / 1000;

export function registerLogin(program: Command): void {
  addLoginOptions(
    program
      .command('login')
      .description('sign in to an app, stage by stage: redirect, consent, callback, token, userinfo, JIT, MFA, session')
      .requiredOption('--app <app>', 'the application to sign in to'),
  )
    .option(
      '--print <what>',
      'print only id_token (raw) or claims (JSON) on stdout',
      parseEnum('--print', ['id_token', 'claims'] as const),
    )
    .option('--redirect-uri <uri>', "the app's redirect URI to sign in for (default: its first)")
    .addHelpText(
      'after',
      `
Examples:
  idp login --app thrift
  idp login --app thrift --connection github --no-browser
  idp login --app thrift --headless --connection github --as octocat --consent approve --json
  idp login --app thrift --headless --connection github --as hubber --mfa email-otp --otp-from-outbox
  idp login --app shop --headless --option passkey --passkey-key-env ALICE_PASSKEY --json
  printf 'thrift-demo' | idp login --app thrift --option password --username alice --password-stdin`,
    )
    .action(
      action(async (ctx, opts: LoginOptions) => {
        const { view, stages } = await runLogin(ctx, opts);
        report(ctx, opts, view, stages);
      }),
    );
}

/** The flags every sign-in shares (idp login, idp account). */
export function addLoginOptions(command: Command): Command {
  return command
    .option('--connection <name>', 'sign in through this connection (skips the chooser)')
    .option('--option <option>', 'a local option instead, e.g. password')
    .option(
      '--mfa <method>',
      'a later step that offers several: totp | email-otp | passkey (headless picks the one the flags can answer)',
      parseEnum('--mfa', SECOND_FACTORS),
    )
    .option('--headless', 'no prompts and no browser: answers come from flags (automatic without a TTY)')
    .option('--as <persona>', 'headless: the sandbox persona to sign in as (see idp sandbox accounts)')
    .option(
      '--consent <answer>',
      'headless: approve | deny at the provider',
      parseEnum('--consent', ['approve', 'deny'] as const),
      'approve',
    )
    .option('--username <name>', 'username or email for the password option')
    .option('--password-stdin', 'read the password (or, for a prompt JIT scheme, the new account password) from stdin')
    .option(
      '--jit-consent <answer>',
      'headless: approve | deny when the connection asks before creating an account',
      parseEnum('--jit-consent', ['approve', 'deny'] as const),
    )
    .option('--jit-username <name>', 'headless: username for prompt-username-password-consent')
    .option('--otp <code>', 'headless: the MFA code')
    .option('--totp-secret-env <VAR>', 'headless: compute the TOTP code from the secret in this environment variable')
    .option('--otp-from-outbox', 'headless: read the emailed code this flow just delivered to the local outbox')
    .option(
      '--passkey-key-env <VAR>',
      'headless: answer passkey steps with the software passkey (a testing aid) whose key is in this environment variable',
    )
    .option(
      '--timeout <seconds>',
      `how long to wait for the provider callback (default 300, headless 120, at most ${MAX_TIMEOUT_S}: a flow expires after that)`,
      parsePositiveInt('--timeout', MAX_TIMEOUT_S),
    )
    .option('--no-browser', 'print the URL instead of opening a browser')
    .option('--personas <file>', 'extra sandbox personas (JSON, same shape as fixtures/sandbox/personas.json)');
}

/** Runs one sign-in with the driver the situation calls for; stages are rendered live on stderr. */
export async function runLogin(ctx: CliContext, opts: LoginOptions): Promise<{ view: FlowView; stages: StageEvent[] }> {
  if (opts.connection && opts.option)
    throw new IdpError('USAGE', 'pass --connection or --option, not both', 'e.g. --connection github');
  const store = await ctx.store();
  if (opts.connection) {
    const { requireConnection } = await import('../../app/lookup.js');
    await requireConnection(store, opts.connection);
  }
  const headless = !!opts.headless || !ctx.interactive;
  const password = opts.passwordStdin ? await readStdin() : undefined;
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const homePersonas = join(ctx.home, 'personas.json');
  const personasFile = opts.personas ?? (existsSync(homePersonas) ? homePersonas : undefined);
  const controller = new AbortController();
  // `on`, not `once`: signal-exit (loaded by ora's cursor handling) re-raises SIGINT and kills the process when it sees
  // no other listener left, which a `once` listener no longer is while it runs: the flow would never be marked failed.
  // A second Ctrl-C stops waiting for that clean-up.
  const onSigint = (): void => (controller.signal.aborted ? process.exit(130) : controller.abort());
  process.on('SIGINT', onSigint);
  // SIGTERM ends the login the same way (flow marked failed, loopback port closed), then exits 143; should the
  // clean-up itself hang, the process exits anyway.
  let terminated = false;
  const onSigterm = (): void => {
    if (terminated) process.exit(143);
    terminated = true;
    setTimeout(() => process.exit(143), TERM_GRACE_MS).unref();
    controller.abort();
  };
  process.on('SIGTERM', onSigterm);
  const stages: StageEvent[] = [];
  const onEvent = (event: StageEvent): void => {
    stages.push(event);
    ctx.out.stage(event);
  };
  let view: FlowView;
  try {
    if (headless) {
      const { headlessLogin } = await import('../drivers/headless.js');
      const answers = {
        ...opts,
        persona: opts.as,
        ...(password !== undefined && { password }),
        otp: otpSource(opts, store),
        passkey: opts.passkeyKeyEnv ? await softwarePasskey(opts.passkeyKeyEnv, store) : undefined,
      };
      ({ view } = await headlessLogin({
        store,
        app: opts.app,
        answers,
        personasFile,
        redirectUri: opts.redirectUri,
        timeoutMs: (opts.timeout ?? 120) * 1000,
        signal: controller.signal,
        onEvent,
      }));
    } else {
      view = await terminalLogin(ctx, opts, { personasFile, signal: controller.signal, onEvent });
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    if (terminated) process.exit(143);
  }
  return { view, stages };
}

function otpSource(opts: LoginOptions, store: Store) {
  let totpSecret: string | undefined;
  if (opts.totpSecretEnv) {
    totpSecret = process.env[opts.totpSecretEnv];
    if (!totpSecret)
      throw new IdpError(
        'MISSING_ANSWER',
        `--totp-secret-env names $${opts.totpSecretEnv}, which is not set`,
        `export ${opts.totpSecretEnv}=<the secret from idp users mfa enroll --json>`,
      );
  }
  const fromOutbox = opts.otpFromOutbox ? (flowId: string) => codeInOutbox(store, flowId) : undefined;
  return { ...(opts.otp && { code: opts.otp }), ...(totpSecret && { totpSecret }), ...(fromOutbox && { fromOutbox }) };
}

/**
 * The software passkey whose key is in $variable (--passkey-key-env, a scenario's passkey_key_env), answering from
 * the org's own origin, where `idp serve` would ask.
 */
export async function softwarePasskey(variable: string, store: Store) {
  const text = process.env[variable];
  if (!text)
    throw new IdpError(
      'MISSING_ANSWER',
      `the software passkey's key should be in $${variable}, which is ${text === '' ? 'empty' : 'not set'}`,
      `export ${variable}=<the key from idp users mfa enroll USER passkey --software --json>`,
    );
  const { decodeSoftwareKey } = await import('../../webauthn/software.js');
  const { orgOrigin } = await import('../../app/passkeys.js');
  return { key: decodeSoftwareKey(text), origin: await orgOrigin(store) };
}

/** The six digits of the newest message the flow delivered: what a person would copy from their mail. */
export async function codeInOutbox(store: Store, flowId: string): Promise<string | undefined> {
  const [message] = await store.codes.outbox({ flow: flowId, limit: 1 });
  return message && /\b(\d{6})\b/.exec(message.body)?.[1];
}

async function terminalLogin(
  ctx: CliContext,
  opts: LoginOptions,
  run: { personasFile?: string; signal: AbortSignal; onEvent: (e: StageEvent) => void },
): Promise<FlowView> {
  const store = await ctx.store();
  const { drive } = await import('../drivers/drive.js');
  const { terminalAnswerer } = await import('../drivers/terminal.js');
  const upstreams = await upstreamsFor(store, { personasFile: run.personasFile });
  const engine = await loginEngine({ store, upstreams, onEvent: run.onEvent });
  const answerer = terminalAnswerer({
    out: ctx.out,
    browser: opts.browser,
    username: opts.username,
    connectionByName: (name) => store.connections.get(name),
    preselected: opts.connection ?? opts.option,
    mfa: opts.mfa,
  });
  try {
    return await drive(engine, answerer, {
      app: opts.app,
      redirectUri: opts.redirectUri,
      timeoutMs: (opts.timeout ?? 300) * 1000,
      signal: run.signal,
    });
  } finally {
    await upstreams.close();
  }
}

/** A failed flow: the error and hint on stderr, and the exit code its error code maps to. */
export function reportFailure(ctx: CliContext, view: FlowView): void {
  if (view.status !== 'failed') return;
  ctx.out.error(new IdpError(view.error.code, view.error.message, view.error.hint ?? undefined), { document: false });
  process.exitCode = exitCodeFor(view.error.code);
}

function report(ctx: CliContext, opts: LoginOptions, view: FlowView, stages: StageEvent[]): void {
  const failed = view.status === 'failed' ? view : undefined;
  const done = view.status === 'done' ? view : undefined;
  const jit = done?.result.jit ?? failed?.jit ?? null;
  reportFailure(ctx, view);
  if (opts.print && done) {
    process.stdout.write(
      opts.print === 'id_token' ? `${done.result.idToken}\n` : `${JSON.stringify(done.result.claims, null, 2)}\n`,
    );
    return;
  }
  const document = {
    flow: view.flow,
    app: view.app,
    outcome: done ? 'success' : 'failed',
    jit,
    stages: stages.map(({ stage, status, ms, detail }) => ({ stage, status, ms, detail })),
    claims: done?.result.claims ?? null,
    error: failed?.error ?? null,
  };
  ctx.out.result(document, () => {
    if (!done) return undefined;
    const r = done.result;
    const who = r.user ? `${inert(r.user.username)} (${r.user.id})` : 'a pass-through user (no local account)';
    const lines = [`signed in to ${r.app} as ${who}`];
    if (r.jit) lines.push(`JIT: ${r.jit.decision}: ${inert(r.jit.reason)}`);
    lines.push(`amr ${r.amr.join(', ')}; acr ${r.acr}`, 'ID token claims:');
    const width = Math.max(...Object.keys(r.claims).map((k) => k.length));
    for (const [k, v] of Object.entries(r.claims))
      lines.push(`  ${inert(k).padEnd(width)}  ${typeof v === 'string' ? inert(v) : JSON.stringify(v)}`);
    lines.push(`(raw token: idp login ... --print id_token; verify with idp keys jwks)`);
    return lines.join('\n');
  });
}
