// Test plumbing for the login suites: a demo org per test (a copy of one seeded once per process, since seeding
// hashes passwords with scrypt), headless logins through the in-process sandbox, personas files, and a recorder
// of the callback URLs a flow redeems (to look for the code and state where they must not be).
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import type { Answerer } from '../../src/cli/drivers/drive.js';
import { headlessLogin, type HeadlessLoginOptions } from '../../src/cli/drivers/headless.js';
import { exitCodeFor, type ErrorCode } from '../../src/core/errors.js';
import type { JitSettings, StageEvent, User } from '../../src/core/types.js';
import type { FlowResult, FlowView } from '../../src/flow/types.js';
import type { Connector, Upstreams } from '../../src/ports.js';
import type { GithubPersona, GooglePersona } from '../../src/sandbox/personas.js';
import { prepareHome } from '../../src/store/db.js';
import { createOrganisation, upstreamsFor } from '../../src/cli/context.js';
import { openStore, type SqliteStore as Store } from '../../src/store/store.js';
import { tempDir } from './idp.js';
import { ON_POSTGRES, pgDemoStore } from './pg-org.js';

let template: Promise<string> | undefined;

/** The demo org, seeded once per test process; tests get copies of it. */
function templateHome(): Promise<string> {
  template ??= (async () => {
    const home = join(tempDir('login-template'), 'org');
    prepareHome(home);
    const store = openStore(home);
    try {
      await createOrganisation(store, { demo: true, actor: 'test' });
    } finally {
      store.close();
    }
    return home;
  })();
  return template;
}

/** A fresh copy of the demo org in its own directory (WAL is checkpointed on close, so the file is complete). */
export async function demoHome(): Promise<string> {
  const home = join(tempDir('login'), 'org');
  cpSync(await templateHome(), home, { recursive: true });
  return home;
}

/** A fresh demo org for one test, on PostgreSQL under IDP_TEST_STORE=postgres; closed when the test ends. */
export async function demoStore(t: TestContext): Promise<Store> {
  const home = await demoHome();
  const store = ON_POSTGRES ? ((await pgDemoStore(home)) as unknown as Store) : openStore(home);
  t.after(() => store.close());
  return store;
}

/** One demo org and one set of upstreams (one sandbox) for a whole test file, closed after its last test. */
export function sharedDemoOrg(): { store: Store; upstreams: Upstreams } {
  const org = {} as { store: Store; upstreams: Upstreams };
  before(async () => {
    // IDP_TEST_STORE=postgres: the same suites on the PostgreSQL store (test/helpers/pg-org.ts).
    const home = await demoHome();
    org.store = ON_POSTGRES ? ((await pgDemoStore(home)) as unknown as Store) : openStore(home);
    org.upstreams = await upstreamsFor(org.store);
  });
  after(async () => {
    await org.upstreams.close();
    await org.store.close();
  });
  return org;
}

export interface LoginRun {
  view: FlowView;
  stages: StageEvent[];
  pages: string[];
  /** The callback URLs the flow redeemed (code and state included), in order. */
  callbacks: URL[];
}

export type LoginExtras = Partial<HeadlessLoginOptions['answers']> & { personasFile?: string };

/** One test's organisation: its store, one set of upstreams for every login (sandboxes start once), and shortcuts. */
export interface LoginWorld {
  home: string;
  store: Store;
  upstreams: Upstreams;
  /** A headless login to thrift through `connection` as `persona`, approving consent unless told otherwise. */
  login(connection: string, persona: string, extras?: LoginExtras): Promise<LoginRun>;
  /** A headless password login to thrift. */
  passwordLogin(username: string, password: string): Promise<LoginRun>;
  setJit(connection: string, patch: Partial<JitSettings>): Promise<void>;
  user(username: string): Promise<User | undefined>;
}

export async function loginWorld(t: TestContext): Promise<LoginWorld> {
  const home = await demoHome();
  const store = ON_POSTGRES ? ((await pgDemoStore(home)) as unknown as Store) : openStore(home);
  const recorded: URL[] = [];
  const upstreams = recordingUpstreams(await upstreamsFor(store), recorded);
  const extraUpstreams: Upstreams[] = [];
  t.after(async () => {
    await Promise.all([upstreams, ...extraUpstreams].map((u) => u.close()));
    await store.close();
  });

  async function run(answers: HeadlessLoginOptions['answers'], personasFile?: string): Promise<LoginRun> {
    // A personas file is read when a sandbox starts, so logins that bring one get upstreams of their own.
    let own = upstreams;
    if (personasFile) {
      own = recordingUpstreams(await upstreamsFor(store, { personasFile }), recorded);
      extraUpstreams.push(own);
    }
    const before = recorded.length;
    const result = await headlessLogin({ store, app: 'thrift', answers, upstreams: own, personasFile });
    return { ...result, callbacks: recorded.slice(before) };
  }

  return {
    home,
    store,
    upstreams,
    login: (connection, persona, extras = {}) => {
      const { personasFile, ...answers } = extras;
      return run({ connection, persona, consent: 'approve', ...answers }, personasFile);
    },
    passwordLogin: (username, password) => run({ option: 'password', username, password, consent: 'approve' }),
    async setJit(connection, patch) {
      const current = await store.connections.get(connection);
      assert.ok(current, `no connection ${connection}`);
      await store.connections.update(connection, { jit: { ...current.jit, ...patch } });
    },
    user: async (username) => {
      const found = await store.users.find(username);
      return found?.username === username ? found : undefined;
    },
  };
}

/** Upstreams whose connectors are `wrap`ped: the real connectors, with a test looking at or changing one call. */
export function mapConnectors(inner: Upstreams, wrap: (connector: Connector) => Connector): Upstreams {
  return {
    async connector(connection) {
      const resolved = await inner.connector(connection);
      return { ...resolved, connector: wrap(resolved.connector) };
    },
    close: () => inner.close(),
  };
}

/** Records every callback URL a connector redeems. */
export function recordingUpstreams(inner: Upstreams, into: URL[]): Upstreams {
  return mapConnectors(inner, (connector) => ({
    ...connector,
    exchangeCode: (url, request) => {
      into.push(new URL(url.href));
      return connector.exchangeCode(url, request);
    },
  }));
}

export function expectDone(run: { view: FlowView } | FlowView): FlowResult {
  const view = 'view' in run ? run.view : run;
  assert.equal(
    view.status,
    'done',
    `expected a finished login, got ${JSON.stringify(view.status === 'failed' ? view.error : view)}`,
  );
  return (view as Extract<FlowView, { status: 'done' }>).result;
}

/** Asserts a failed login with `code` (and the exit code the CLI would use) and returns the failed view. */
export function expectFailed(
  run: { view: FlowView } | FlowView,
  code: ErrorCode,
  exit: number,
): Extract<FlowView, { status: 'failed' }> {
  const view = 'view' in run ? run.view : run;
  assert.equal(view.status, 'failed', `expected ${code}, got ${view.status}`);
  const failed = view as Extract<FlowView, { status: 'failed' }>;
  assert.equal(failed.error.code, code, `expected ${code}, got ${failed.error.code}: ${failed.error.message}`);
  assert.equal(exitCodeFor(failed.error.code), exit);
  assert.ok(failed.error.hint, `${code} carries a hint`);
  return failed;
}

/** A personas file (merged over the bundled ones by login / username) in a fresh directory. */
export function personasFile(personas: { github?: GithubPersona[]; google?: GooglePersona[] }): string {
  const file = join(tempDir('personas'), 'personas.json');
  writeFileSync(file, JSON.stringify(personas));
  return file;
}

/** A GitHub persona with one verified, public, primary email. */
export function githubPersona(login: string, id: number, opts: { name?: string; email?: string } = {}): GithubPersona {
  const email = opts.email ?? `${login}@personas.example`;
  return {
    login,
    id,
    name: opts.name ?? `Persona ${login}`,
    publicEmail: email,
    emails: [{ email, primary: true, verified: true, visibility: 'public' }],
    avatarUrl: `https://avatars.example/${login}.png`,
    appSuspended: false,
    rateLimited: false,
  };
}

/** An answerer for driving the engine by hand: the given answers, and a test failure for any question not expected. */
export function scriptedAnswerer(answers: Partial<Answerer>): Answerer {
  const unexpected = (what: string) => (): never =>
    assert.fail(`the flow asked for ${what}, which this test does not answer`);
  return {
    choose: answers.choose ?? unexpected('a choice'),
    credentials: answers.credentials ?? unexpected('credentials'),
    callback: answers.callback ?? unexpected('the provider callback'),
    jitPrompt: answers.jitPrompt ?? unexpected('a JIT answer'),
    mfa: answers.mfa ?? unexpected('an MFA code'),
    passkey: answers.passkey ?? unexpected('a passkey'),
  };
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port, false when it is refused. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function stageNames(stages: { stage: string }[]): string[] {
  return stages.map((s) => s.stage);
}

/** The stages of a federated first-step login that ends with a session, in DESIGN order. */
export const FEDERATED_STAGES = [
  'app',
  'options',
  'redirect',
  'consent',
  'callback',
  'token',
  'userinfo',
  'jit',
  'session',
];
