// The headless driver (CI, no TTY): every answer comes from flags; sandbox pages are driven over real HTTP and the
// provider's redirect is delivered to the loopback server as a browser would. Real upstreams are refused.
import { IdpError } from '../../core/errors.js';
import { isSecondFactor, type SecondFactor } from '../../core/signin.js';
import type { Connection } from '../../core/types.js';
import type { StageEvent } from '../../core/types.js';
import type { FlowView } from '../../flow/types.js';
import type { Store, Upstreams } from '../../ports.js';
import type { SoftwareKey } from '../../webauthn/software.js';
import { loginEngine, upstreamsFor } from '../context.js';
import { drive, type Answerer } from './drive.js';

export interface HeadlessAnswers {
  /** Step 1's choice (connection or local option); later steps are chosen by `mfa` or by the code sources given. */
  connection?: string;
  option?: string;
  mfa?: SecondFactor;
  persona?: string;
  consent: 'approve' | 'deny';
  username?: string;
  password?: string;
  jitConsent?: 'approve' | 'deny';
  jitUsername?: string;
  /** Where MFA codes come from: --otp, --totp-secret-env, --otp-from-outbox, or (idp check) the user's stored factor. */
  otp?: {
    code?: string;
    totpSecret?: string;
    fromOutbox?: (flowId: string) => Promise<string | undefined>;
    fromFactor?: (flowId: string) => Promise<string | undefined>;
  };
  /** The software authenticator's key (--passkey-key-env), and the origin its answers come from: the org's. */
  passkey?: { key: SoftwareKey; origin: string };
  personas: () => string[];
  connectionByName: (name: string) => Promise<Connection | undefined>;
}

export function headlessAnswerer(answers: HeadlessAnswers): Answerer & { pages: Promise<string>[] } {
  const pages: Promise<string>[] = [];
  return {
    pages,
    async choose(view) {
      // A refused choice would be made again from the same flags: say why instead.
      if (view.retry) throw new IdpError(view.retry.code, view.retry.message, view.retry.hint ?? undefined);
      if (view.step > 1) return chooseLaterStep(view, answers);
      const wanted = answers.connection ?? answers.option ?? (view.options.length === 1 ? view.options[0] : undefined);
      if (!wanted)
        throw new IdpError(
          'MISSING_ANSWER',
          `step ${view.step} of ${view.app} offers ${view.options.join(', ')}; headless mode needs the choice`,
          'pass --connection NAME or --option password',
        );
      const connection = await answers.connectionByName(wanted);
      if (connection && !connection.sandbox) {
        throw new IdpError(
          'HEADLESS_NEEDS_SANDBOX',
          `${wanted} is a real ${connection.type} connection; headless mode cannot sign in to a real provider (it would need a person at its consent page)`,
          'run without --headless on a terminal, or use a sandbox connection (idp connection add NAME --type github --sandbox)',
        );
      }
      return wanted;
    },
    async credentials(view) {
      if (view.retry)
        throw new IdpError(
          'BAD_CREDENTIALS',
          'wrong username or password (headless mode does not ask again)',
          'check --username and the password given on stdin',
        );
      if (!answers.username || answers.password === undefined)
        throw new IdpError(
          'MISSING_ANSWER',
          'the password option needs a username and a password',
          'pass --username NAME --password-stdin',
        );
      return { username: answers.username, password: answers.password };
    },
    async callback(view, loopback, opts) {
      if (!answers.persona)
        throw new IdpError(
          'MISSING_ANSWER',
          `headless sign-in at ${view.provider} needs a sandbox persona`,
          `pass --as PERSONA (${answers.personas().join(', ')})`,
        );
      const { completeSandboxConsent } = await import('../../sandbox/automate.js');
      // Waiting starts before the sandbox pages, so --timeout and Ctrl-C also end a page that never answers.
      const waiting = loopback.waitForCallback(opts);
      const gaveUp = new Promise<never>((_, reject) => waiting.catch(reject));
      const redirect = await Promise.race([
        completeSandboxConsent(view.url, { persona: answers.persona, consent: answers.consent }),
        gaveUp,
      ]);
      // The browser's request: its response is the outcome page, held by the loopback server until the flow ends.
      pages.push(
        fetch(redirect)
          .then((res) => res.text())
          .catch(() => ''),
      );
      return waiting;
    },
    async jitPrompt(view) {
      if (!answers.jitConsent)
        throw new IdpError(
          'MISSING_ANSWER',
          `${view.connection} asks before creating a local account (${view.scheme})`,
          'pass --jit-consent approve or --jit-consent deny',
        );
      const consent = answers.jitConsent === 'approve';
      if (!consent || view.scheme === 'prompt-consent') return { consent };
      if (view.retry)
        throw new IdpError(
          'USER_EXISTS',
          `${view.retry.message} (headless mode does not ask again)`,
          'pass another --jit-username',
        );
      if (answers.password === undefined)
        throw new IdpError(
          'MISSING_ANSWER',
          `${view.scheme} needs a password for the new account`,
          'pipe one to --password-stdin',
        );
      return { consent, username: answers.jitUsername ?? view.proposed.username, password: answers.password };
    },
    async mfa(view) {
      if (view.retry)
        throw new IdpError(
          'MFA_FAILED',
          `the ${view.method} code was refused: ${view.retry.message}`,
          'check the code source (--otp, --totp-secret-env, --otp-from-outbox)',
        );
      if (view.enrol)
        throw new IdpError(
          'MFA_NOT_ENROLLED',
          'this user has no TOTP factor, and a headless login cannot enrol one',
          'enrol first: idp users mfa enroll USER totp --json, then pass --totp-secret-env VAR',
        );
      const source = answers.otp ?? {};
      if (source.code) return source.code;
      if (source.totpSecret && view.method === 'totp')
        return (await import('../../mfa/totp.js')).totpCode(source.totpSecret);
      const found = await (view.method === 'email-otp' ? source.fromOutbox : source.fromFactor)?.(view.flow);
      if (found) return found;
      throw new IdpError(
        'MISSING_ANSWER',
        `step ${view.step} needs a ${view.method} code`,
        view.method === 'totp' ? 'pass --otp CODE or --totp-secret-env VAR' : 'pass --otp CODE or --otp-from-outbox',
      );
    },
    async passkey(view) {
      if (view.retry)
        throw new IdpError(
          'MFA_FAILED',
          `the passkey was refused: ${view.retry.message} (headless mode does not ask again)`,
          'check the key in --passkey-key-env: it must be a software passkey enrolled for this user in this organisation',
        );
      if (view.mode === 'enrol')
        throw new IdpError(
          'MFA_NOT_ENROLLED',
          'this user has no passkey, and a headless login cannot enrol one (it would have nowhere to keep the key)',
          'enrol first: idp users mfa enroll USER passkey --software --json, then pass --passkey-key-env VAR',
        );
      if (!answers.passkey)
        throw new IdpError(
          'MISSING_ANSWER',
          `step ${view.step} of ${view.app} needs a passkey`,
          view.alternatives.length
            ? `pass --passkey-key-env VAR (a software passkey), or choose ${view.alternatives.join(' or ')}`
            : 'pass --passkey-key-env VAR (a software passkey: idp users mfa enroll USER passkey --software --json)',
        );
      const { softwareAssertion } = await import('../../webauthn/software.js');
      const { key, origin } = answers.passkey;
      return { response: softwareAssertion(key, view.options, origin), origin };
    },
  };
}

/** A later (MFA) step offering several options: --mfa names one, else the one the given code source can answer. */
function chooseLaterStep(view: Extract<FlowView, { waiting: 'choose' }>, answers: HeadlessAnswers): string {
  const offered = `step ${view.step} of ${view.app} offers ${view.options.join(', ')}`;
  const choices = view.options.filter(isSecondFactor).map((o) => `--mfa ${o}`);
  if (answers.mfa) {
    if (view.options.includes(answers.mfa)) return answers.mfa;
    throw new IdpError(
      'MISSING_ANSWER',
      `--mfa ${answers.mfa}, but ${offered}`,
      choices.length ? `pass ${choices.join(' or ')}` : 'drop --mfa',
    );
  }
  const source = answers.otp ?? {};
  const answerable = view.options.filter(
    (o) =>
      (o === 'email-otp' && source.fromOutbox) ||
      (o === 'totp' && (source.totpSecret || source.fromFactor)) ||
      (o === 'passkey' && answers.passkey),
  );
  if (answerable.length === 1) return answerable[0]!;
  throw new IdpError(
    'MISSING_ANSWER',
    `${offered}; headless mode needs the choice`,
    choices.length ? `pass ${choices.join(' or ')}` : `${view.app}'s step ${view.step} cannot be answered headless`,
  );
}

export interface HeadlessLoginOptions {
  store: Store;
  app: string;
  answers: Omit<HeadlessAnswers, 'personas' | 'connectionByName'>;
  /** Reuse a running set of upstreams (and so one sandbox) across logins; else one is made and closed here. */
  upstreams?: Upstreams;
  personasFile?: string;
  redirectUri?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: StageEvent) => void;
}

/** One whole headless login, in process: the library entry point for CI checks, tests and benchmarks. */
export async function headlessLogin(
  opts: HeadlessLoginOptions,
): Promise<{ view: FlowView; stages: StageEvent[]; pages: string[] }> {
  const { loadPersonas } = await import('../../sandbox/personas.js');
  const upstreams = opts.upstreams ?? (await upstreamsFor(opts.store, { personasFile: opts.personasFile }));
  const stages: StageEvent[] = [];
  const engine = await loginEngine({
    store: opts.store,
    upstreams,
    onEvent: (e) => {
      stages.push(e);
      opts.onEvent?.(e);
    },
  });
  const answerer = headlessAnswerer({
    ...opts.answers,
    personas: () => {
      const known = loadPersonas(opts.personasFile);
      return [...known.github.map((p) => p.login), ...known.google.map((p) => p.username)];
    },
    connectionByName: (name) => opts.store.connections.get(name),
  });
  try {
    const view = await drive(engine, answerer, {
      app: opts.app,
      redirectUri: opts.redirectUri,
      timeoutMs: opts.timeoutMs ?? 120_000,
      signal: opts.signal ?? new AbortController().signal,
    });
    return { view, stages, pages: await Promise.all(answerer.pages) };
  } finally {
    if (!opts.upstreams) await upstreams.close();
  }
}
