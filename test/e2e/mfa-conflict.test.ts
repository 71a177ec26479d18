// The JIT-off-before-MFA conflict through the real CLI: the warning of `idp connection set --jit=false`, `idp app check`
// (and --strict), the documented skip-MFA script set with `idp app script set` and met by logins, and scripts that do
// not compile or misbehave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { aliceLogin, expectCode, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

interface Hazard {
  severity: string;
  code: string;
  message: string;
  fix: string;
}

async function hazards(home: string): Promise<Hazard[]> {
  return (await idpJson<{ hazards: Hazard[] }>(['app', 'check', 'thrift', '--json'], { home })).hazards;
}

/** Writes thrift's script straight into the store, as an older idp or a hand edit might have left it. */
async function storeScriptBehindTheCli(home: string, script: string): Promise<void> {
  const store = openStore(home);
  try {
    await store.apps.update('thrift', { script });
  } finally {
    store.close();
  }
}

function scriptFile(source: string): string {
  const file = join(tempDir('script'), 'script.js');
  writeFileSync(file, source);
  return file;
}

test('connection set google --jit=false warns on stderr naming thrift when thrift has an MFA step 2, and only then', async () => {
  const home = await seededHome();
  const quiet = await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  assert.doesNotMatch(quiet.stderr, /warning/, 'no MFA step yet: nothing to warn about');

  await idpOk(['app', 'set', 'thrift', '--step', '2=totp'], { home });
  const warned = await idpOk(['connection', 'set', 'google', '--jit=false'], { home });
  assert.match(warned.stderr, /warning: thrift offers google in step 1 and requires MFA in step 2/);
  assert.match(warned.stderr, /idp app script set thrift --template skip-mfa-for-federated/);
  assert.equal(
    JSON.parse((await idpOk(['connection', 'show', 'google', '--json'], { home })).stdout).jit.enabled,
    false,
    'the change is made anyway',
  );
});

test('app check lists the conflict; --strict exits 9; with the skip-MFA script set the conflict disappears', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=email-otp'], { home });
  await idpOk(['connection', 'set', 'google', '--jit=false'], { home });

  const conflict = (await hazards(home)).filter((h) => h.code === 'MFA_NEEDS_LOCAL_USER');
  assert.equal(conflict.length, 1);
  assert.match(conflict[0]!.message, /^google \(step 1\) has JIT off/);
  assert.match(conflict[0]!.fix, /idp connection set google --jit=true/);
  assert.match(conflict[0]!.fix, /context\.steps\[1\]\.idp == 'LOCAL'/);
  const strict = await runIdp(['app', 'check', 'thrift', '--strict'], { home });
  expectCode(strict, 9);
  assert.match(strict.stdout, /google \(step 1\) has JIT off/);
  assert.match(strict.stderr, /error: 1 hazard\(s\) in thrift's sign-in policy/);

  await idpOk(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federated'], { home });
  assert.deepEqual(await hazards(home), []);
  expectCode(await runIdp(['app', 'check', 'thrift', '--strict'], { home }), 0);
});

test('a script that does not compile is refused by app script set (exit 2, with its line) and reported by app check', async () => {
  const home = await seededHome();
  const broken =
    'var onLoginRequest = function (context) {\n  executeStep(1);\n  if (context.steps[1].idp == ) {\n};\n';
  const file = scriptFile(broken);
  const refused = await runIdp(['app', 'script', 'set', 'thrift', '--file', file], { home });
  expectCode(refused, 2);
  assert.match(refused.stderr, new RegExp(`error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: SyntaxError`));
  assert.equal(
    (await idpJson<{ script: string | null }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    null,
    'the app was not changed',
  );

  await storeScriptBehindTheCli(home, broken);
  const found = (await hazards(home)).find((h) => h.code === 'SCRIPT_ERROR');
  assert.match(found?.message ?? '', /^the script does not compile \(line 3\)/);
  expectCode(await runIdp(['app', 'check', 'thrift', '--strict'], { home }), 9);
});

test('the documented script, verbatim: alice still gets her email code, bob passes through google (JIT off) without MFA', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=email-otp'], { home });
  await idpOk(['connection', 'set', 'google', '--jit=false'], { home });
  await idpOk(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federated'], { home });
  assert.equal(
    (await idpJson<{ script: string }>(['app', 'script', 'show', 'thrift', '--json'], { home })).script,
    SKIP_MFA_SCRIPT,
  );

  const alice = await idpJson(aliceLogin('--otp-from-outbox', '--json'), { home, input: 'thrift-demo' });
  const bob = await idpJson(
    ['login', '--app', 'thrift', '--headless', '--connection', 'google', '--as', 'bob', '--json'],
    { home },
  );
  assert.deepEqual(alice.claims.amr, ['pwd', 'email']);
  assert.deepEqual(
    alice.stages.filter((s: { stage: string }) => s.stage === 'script').map((s: { detail: string }) => s.detail),
    ['after step 1 (idp LOCAL): runs step 2', 'after step 2 (idp LOCAL): done; ran step 1, 2'],
  );
  assert.equal(bob.jit.decision, 'pass-through');
  assert.deepEqual(bob.claims.amr, ['fed']);
  assert.deepEqual(
    bob.stages.map((s: { stage: string }) => s.stage),
    ['app', 'options', 'redirect', 'consent', 'callback', 'token', 'userinfo', 'jit', 'script', 'session'],
  );
});

test("a script calling require('fs') compiles, so app script set takes it; logins then fail with SCRIPT_ERROR (exit 3) naming its line", async () => {
  const home = await seededHome();
  const file = scriptFile(
    "var onLoginRequest = function (context) {\n  executeStep(1);\n  require('fs').readFileSync('/etc/passwd');\n};\n",
  );
  await idpOk(['app', 'script', 'set', 'thrift', '--file', file], { home });
  const r = await runIdp(
    ['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin', '--json'],
    { home, input: 'thrift-demo' },
  );
  expectCode(r, 3);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'SCRIPT_ERROR');
  assert.match(doc.error.message, /at line 3: ReferenceError: 'require' is not defined/);
  assert.doesNotMatch(r.stdout + r.stderr, /root:/, 'nothing of the file was read');
  await idpOk(['app', 'script', 'clear', 'thrift'], { home });
  await idpOk(['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'], {
    home,
    input: 'thrift-demo',
  });
});

// Its top level refills one array forever: QuickJS checks its CPU budget only between bytecodes, rarely in this loop,
// and on the main thread this ran for tens of seconds. The test's own timeout, not a timed assertion, catches that.
const STUCK_TOP_LEVEL =
  'var a = new Array(4e5);\nfor (;;) { a.fill(1); }\nfunction onLoginRequest(context) { executeStep(1); }\n';

test('a script whose top level never ends is stopped at the wall limit by app script set and app check', {
  timeout: 15_000,
}, async () => {
  const home = await seededHome();
  const refused = expectCode(
    await runIdp(['app', 'script', 'set', 'thrift', '--file', scriptFile(STUCK_TOP_LEVEL)], { home }),
    2,
  );
  assert.match(
    refused.stderr,
    /the conditional-authentication script was stopped after 1000 ms\nhint: fix the script; the app was not changed/,
  );

  await storeScriptBehindTheCli(home, STUCK_TOP_LEVEL);
  const found = (await hazards(home)).find((h) => h.code === 'SCRIPT_ERROR');
  assert.match(
    found?.message ?? '',
    /^the script does not compile: the conditional-authentication script was stopped after 1000 ms/,
  );
});
