// `idp app check` replays the app's script the way logins run it (same runner, same limits), at the start and after
// each option of step 1: a script that loops, throws for one connection, or lets a password skip MFA is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCode, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

interface Hazard {
  severity: string;
  code: string;
  message: string;
  fix: string;
}

async function withScript(source: string, steps: string[] = []): Promise<string> {
  const home = await seededHome();
  for (const step of steps) await idpOk(['app', 'set', 'thrift', '--step', step], { home });
  const file = join(tempDir('script'), 'script.js');
  writeFileSync(file, source);
  await idpOk(['app', 'script', 'set', 'thrift', '--file', file], { home });
  return home;
}

const hazards = async (home: string): Promise<Hazard[]> =>
  (await idpJson<{ hazards: Hazard[] }>(['app', 'check', 'thrift', '--json'], { home })).hazards;

test('an onLoginRequest that loops forever: app check --strict exits 9 naming the budget every login would hit', async () => {
  const home = await withScript('var onLoginRequest = function (context) { for (;;) {} };\n');
  const r = expectCode(await runIdp(['app', 'check', 'thrift', '--strict'], { home }), 9, 'app check --strict');
  assert.match(
    r.stdout,
    /every login fails: the conditional-authentication script failed: it ran longer than its 100 ms budget/,
  );
  assert.match(r.stdout, /fix: see it with idp app script show thrift, then fix it: idp app script set thrift/);
  const login = expectCode(
    await runIdp(['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'], {
      home,
      input: 'thrift-demo',
    }),
    3,
  );
  assert.match(login.stderr, /ran longer than its 100 ms budget/, 'the same limit a login hits');
});

test('a script that throws for github sign-ins only is reported for github, and for nothing else', async () => {
  const home = await withScript(`var onLoginRequest = function (context) {
  executeStep(1, { onSuccess: function (context) {
    if (context.steps[1].idp == 'github') { throw new Error('no GitHub users here'); }
  } });
};
`);
  const found = await hazards(home);
  assert.deepEqual(
    found.map((h) => h.code),
    ['SCRIPT_ERROR'],
    JSON.stringify(found),
  );
  assert.match(
    found[0]!.message,
    /^logins through github \(step 1\) fail: the conditional-authentication script failed at line 3: Error: no GitHub users here/,
  );
  expectCode(await runIdp(['app', 'check', 'thrift', '--strict'], { home }), 9);
});

test('a script that skips the MFA step after the password is a warning; skipping it after a connection is not', async () => {
  const home = await withScript(
    `var onLoginRequest = function (context) {
  executeStep(1, { onSuccess: function (context) {
    if (context.steps[1].idp != 'LOCAL') { executeStep(2); }
  } });
};
`,
    ['2=totp'],
  );
  const found = await hazards(home);
  assert.deepEqual(
    found.map((h) => [h.severity, h.code]),
    [['warning', 'MFA_SKIPPED']],
    JSON.stringify(found),
  );
  assert.match(
    found[0]!.message,
    /the script skips the MFA step 2 after the password option: a password alone signs in/,
  );
});

test('a script that refuses one connection (fail()) is reported as a warning naming it', async () => {
  const home = await withScript(`var onLoginRequest = function (context) {
  executeStep(1, { onSuccess: function (context) {
    if (context.steps[1].idp == 'google') { fail({ errorMessage: 'google is retired' }); }
  } });
};
`);
  const found = await hazards(home);
  assert.deepEqual(
    found.map((h) => [h.severity, h.code, h.message]),
    [['warning', 'SCRIPT_FAILS_LOGIN', 'the script refuses every login through google (step 1): google is retired']],
  );
});
