// `idp login` as a process: exit codes, the --json document and --print, eight concurrent first logins of one
// upstream user against one org, and Ctrl-C on a terminal (under `script`) leaving a consistent database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { STAGES } from '../../src/core/types.js';
import { openStore } from '../../src/store/store.js';
import { aliceLogin, expectCode, IDP_BIN, childEnv, runIdp, seededHome, tempDir } from '../helpers/idp.js';
import { FEDERATED_STAGES } from '../helpers/login.js';

const LOGIN = ['login', '--app', 'thrift', '--headless'];

function githubLogin(persona: string, ...more: string[]): string[] {
  return [...LOGIN, '--connection', 'github', '--as', persona, ...more];
}

/** Reads the org directly once no idp process runs on it. */
async function withStore<T>(home: string, read: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore(home);
  try {
    return await read(store);
  } finally {
    store.close();
  }
}

test('8 concurrent first logins of octocat: all exit 0; one user, one association; one provision and seven returning', {
  timeout: 60_000,
}, async () => {
  const home = join(tempDir('concurrent'), 'org');
  expectCode(await runIdp(['init', '--quiet'], { home }), 0);
  const runs = await Promise.all(Array.from({ length: 8 }, () => runIdp(githubLogin('octocat', '--json'), { home })));
  for (const r of runs) expectCode(r, 0, 'a concurrent login');
  const docs = runs.map(
    (r) => JSON.parse(r.stdout) as { jit: { decision: string; user: { id: string } }; claims: { sub: string } },
  );
  assert.deepEqual(docs.map((d) => d.jit.decision).sort(), ['provision', ...Array<string>(7).fill('returning')]);
  assert.equal(new Set(docs.map((d) => d.claims.sub)).size, 1, 'every process signed in the same user');
  await withStore(home, async (store) => {
    const octocats = (await store.users.list({ search: 'octocat', limit: 10 })).users;
    assert.deepEqual(
      octocats.map((u) => u.username),
      ['octocat'],
    );
    assert.equal(await store.users.count(), 2, 'alice and octocat');
    assert.equal(await store.associations.countForConnection('github'), 1);
    assert.equal((await store.associations.get('github', '583231'))?.userId, octocats[0]!.id);
    assert.equal(octocats[0]!.id, docs[0]!.claims.sub);
  });
});

test('--json prints one document: flow, app, outcome, jit, stages in DESIGN order, claims, error', async () => {
  const home = await seededHome();
  const r = expectCode(await runIdp(githubLogin('hubber', '--json'), { home }), 0);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['flow', 'app', 'outcome', 'jit', 'stages', 'claims', 'error']);
  assert.match(doc.flow, /^f_/);
  assert.equal(doc.app, 'thrift');
  assert.equal(doc.outcome, 'success');
  assert.equal(doc.error, null);
  assert.deepEqual(Object.keys(doc.jit), ['decision', 'reason', 'user']);
  assert.equal(doc.jit.decision, 'provision');
  assert.equal(doc.jit.user.username, 'hubber');
  for (const stage of doc.stages) {
    assert.deepEqual(Object.keys(stage), ['stage', 'status', 'ms', 'detail']);
    assert.equal(stage.status, 'ok');
    assert.equal(typeof stage.ms, 'number');
    assert.equal(typeof stage.detail, 'string');
  }
  const names: string[] = doc.stages.map((s: { stage: string }) => s.stage);
  assert.deepEqual(names, FEDERATED_STAGES);
  const order = names.map((n) => (STAGES as readonly string[]).indexOf(n));
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'stages come in the order DESIGN.md lists them',
  );
  assert.equal(doc.claims.sub, doc.jit.user.id);
  assert.equal(doc.claims.email, 'hubber@example.com');
  assert.match(r.stderr, /jit\s+provisioned new user hubber/, 'stages are shown on stderr');
});

test("--print id_token prints only the JWT, which verifies with `idp keys jwks` for the app's client_id", async () => {
  const home = await seededHome();
  const r = expectCode(await runIdp(githubLogin('octocat', '--print', 'id_token'), { home }), 0);
  assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'one compact JWS and a newline');
  const keys = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout);
  const app = JSON.parse(expectCode(await runIdp(['app', 'show', 'thrift', '--json'], { home }), 0).stdout);
  const { payload } = await jwtVerify(r.stdout.trim(), createLocalJWKSet(keys), {
    audience: app.client_id,
    algorithms: ['RS256'],
  });
  assert.equal(payload.iss, 'http://localhost:8788/t/default/oauth2/token');
  assert.equal(payload.username, 'octocat');
  assert.ok(payload.exp! > Date.now() / 1000);
});

test('consent denied: exit 4, a failed document with UPSTREAM_DENIED, and no user written', async () => {
  const home = await seededHome();
  const r = expectCode(await runIdp(githubLogin('octocat', '--consent', 'deny', '--json'), { home }), 4);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.outcome, 'failed');
  assert.equal(doc.error.code, 'UPSTREAM_DENIED');
  assert.equal(doc.jit, null);
  assert.equal(doc.claims, null);
  assert.match(r.stderr, /error: consent denied at GitHub/);
  await withStore(home, async (store) => assert.equal(await store.users.count(), 1));
});

test('an unknown persona: exit 2, naming the close match and listing the personas', async () => {
  const home = await seededHome();
  const r = expectCode(await runIdp(githubLogin('octocatt'), { home }), 2);
  assert.match(r.stderr, /the sandbox has no persona 'octocatt'/);
  assert.match(r.stderr, /did you mean 'octocat'\?/);
  for (const persona of ['octocat', 'hubber', 'alice-gh', 'unverified-gh'])
    assert.ok(r.stderr.includes(persona), `lists ${persona}`);
});

test('headless refuses a real provider: exit 2 HEADLESS_NEEDS_SANDBOX, nothing contacted', async () => {
  const home = await seededHome();
  expectCode(
    await runIdp(
      [
        'connection',
        'add',
        'corp',
        '--type',
        'oidc',
        '--issuer',
        'http://127.0.0.1:9',
        '--client-id',
        'corp',
        '--client-secret-env',
        'CORP_SECRET',
        '--quiet',
      ],
      { home },
    ),
    0,
  );
  const r = expectCode(
    await runIdp([...LOGIN, '--connection', 'corp', '--json'], {
      home,
      env: { CORP_SECRET: 'corp-secret-0123456789' },
    }),
    2,
  );
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'HEADLESS_NEEDS_SANDBOX');
  assert.ok(!doc.stages.some((s: { stage: string }) => s.stage === 'redirect'));
  assert.ok(!r.stdout.includes('corp-secret-0123456789') && !r.stderr.includes('corp-secret-0123456789'));
});

test('password option: the right password exits 0 with amr pwd; a wrong one exits 7 without a retry', async () => {
  const home = await seededHome();
  const password = aliceLogin('--json');
  const ok = JSON.parse(expectCode(await runIdp(password, { home, input: 'thrift-demo\n' }), 0).stdout);
  assert.deepEqual(ok.claims.amr, ['pwd']);
  assert.deepEqual(
    ok.stages.map((s: { stage: string }) => s.stage),
    ['app', 'options', 'password', 'session'],
  );
  const wrong = expectCode(await runIdp(password, { home, input: 'not-the-password\n' }), 7);
  const doc = JSON.parse(wrong.stdout);
  assert.equal(doc.error.code, 'BAD_CREDENTIALS');
  assert.deepEqual(
    doc.stages
      .filter((s: { stage: string }) => s.stage === 'password')
      .map((s: { status: string; detail: string }) => `${s.status}: ${s.detail}`),
    [
      'failed: wrong username or password (attempt 1 of 3)',
      'failed: wrong username or password (headless mode does not ask again)',
    ],
    'the attempt, then the driver ending the flow: two distinct events, not one twice',
  );
  await withStore(home, async (store) =>
    assert.equal(
      (await store.users.passwordState((await store.users.find('alice'))!.id)).failedLogins,
      1,
      'one attempt, no retry',
    ),
  );
});

const hasScript = spawnSync('script', ['--version']).status === 0;
const NEEDS_SCRIPT = { skip: !hasScript && 'needs util-linux script for a pseudo-terminal', timeout: 30_000 };

/**
 * Runs `idp login` on a pseudo-terminal (util-linux script) and types ^C once `prompt` shows; returns the exit code and
 * the terminal output. The terminal gets a size: ora misdraws on a 0-column one.
 */
async function interruptTerminalLogin(
  home: string,
  args: string[],
  prompt: string,
): Promise<{ code: number | null; output: string }> {
  const argv = [process.execPath, IDP_BIN, ...args].map((a) => JSON.stringify(a)).join(' ');
  const child = spawn('script', ['-qefc', `stty cols 120 rows 40; exec ${argv}`, '/dev/null'], {
    env: childEnv({ home }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let typed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (!typed && output.includes(prompt)) {
      typed = true;
      child.stdin.write('\x03');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

/** The database after an interrupted login: intact, the flow failed at `stage`, no user written. */
async function assertInterruptedFlow(home: string, stage: string): Promise<void> {
  await withStore(home, async (store) => {
    assert.deepEqual(store.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    const [flow] = await store.flows.recent(1);
    assert.equal(flow?.status, 'failed');
    const last = (await store.events.list({ flow: flow!.id, limit: 50 })).at(-1)!;
    assert.deepEqual([last.stage, last.status], [stage, 'failed']);
    assert.equal(await store.users.count(), 1);
  });
}

test(
  'Ctrl-C while a terminal login waits for the provider: exit 130, flow failed, database intact',
  NEEDS_SCRIPT,
  async () => {
    const home = await seededHome();
    const { code, output } = await interruptTerminalLogin(
      home,
      ['login', '--app', 'thrift', '--connection', 'github', '--no-browser'],
      'waiting for GitHub',
    );
    assert.equal(code, 130, output);
    assert.match(output, /interrupted while waiting for the browser callback/);
    await assertInterruptedFlow(home, 'consent');
  },
);

test(
  'Ctrl-C at the sign-in chooser: exit 130 and the flow is marked failed, not left active',
  NEEDS_SCRIPT,
  async () => {
    const home = await seededHome();
    const { code, output } = await interruptTerminalLogin(
      home,
      ['login', '--app', 'thrift', '--no-browser'],
      'github (sandbox)',
    );
    assert.equal(code, 130, output);
    assert.match(output, /interrupted at a prompt/);
    await assertInterruptedFlow(home, 'options');
  },
);
