// A later step that offers several MFA options (thrift's "TOTP or Email OTP"): --connection/--option answer step 1
// only; headless logins take the option their code flags can answer, or --mfa; scenario files take `mfa:`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aliceLogin, expectCode, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

interface LoginDoc {
  outcome: string;
  stages: { stage: string; status: string; detail: string }[];
  claims: { amr: string[] } | null;
}

async function twoMfaOptions(): Promise<string> {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=totp,email-otp'], { home });
  return home;
}

const HUBBER = ['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'hubber', '--json'];
const ALICE = aliceLogin('--headless', '--json');

test('step 2 = totp,email-otp: --connection github --otp-from-outbox signs in with the emailed code', async () => {
  const home = await twoMfaOptions();
  const doc = JSON.parse(
    expectCode(await runIdp([...HUBBER, '--otp-from-outbox'], { home }), 0, 'hubber login').stdout,
  ) as LoginDoc;
  assert.equal(doc.outcome, 'success');
  assert.ok(
    doc.stages.some((s) => s.stage === 'options' && s.detail.startsWith('step 2: email-otp')),
    JSON.stringify(doc.stages),
  );
  assert.deepEqual(doc.claims?.amr, ['fed', 'email']);
});

test('step 2 = totp,email-otp: --option password --totp-secret-env answers with TOTP; --mfa email-otp overrides', async () => {
  const home = await twoMfaOptions();
  const { secret } = await idpJson<{ secret: string }>(['users', 'mfa', 'enroll', 'alice', 'totp', '--json'], { home });
  const totp = JSON.parse(
    expectCode(
      await runIdp([...ALICE, '--totp-secret-env', 'ALICE_TOTP'], {
        home,
        input: 'thrift-demo',
        env: { ALICE_TOTP: secret },
      }),
      0,
    ).stdout,
  ) as LoginDoc;
  assert.deepEqual(totp.claims?.amr, ['pwd', 'otp']);
  const email = JSON.parse(
    expectCode(
      await runIdp([...ALICE, '--mfa', 'email-otp', '--otp-from-outbox', '--totp-secret-env', 'ALICE_TOTP'], {
        home,
        input: 'thrift-demo',
        env: { ALICE_TOTP: secret },
      }),
      0,
    ).stdout,
  ) as LoginDoc;
  assert.deepEqual(email.claims?.amr, ['pwd', 'email']);
});

test('step 2 = totp,email-otp: no flag that picks one (or both) exits 2 naming --mfa; a bad --mfa exits 2', async () => {
  const home = await twoMfaOptions();
  for (const more of [
    ['--otp', '123456'],
    ['--otp-from-outbox', '--totp-secret-env', 'T'],
  ]) {
    const r = expectCode(
      await runIdp([...HUBBER, ...more], { home, env: { T: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } }),
      2,
      more.join(' '),
    );
    assert.match(r.stderr, /step 2 of thrift offers totp, email-otp; headless mode needs the choice/);
    assert.match(r.stderr, /--mfa totp or --mfa email-otp/);
  }
  const bad = expectCode(await runIdp([...HUBBER, '--mfa', 'sms'], { home }), 2);
  assert.match(bad.stderr, /--mfa must be one of totp, email-otp/);
});

test('a scenario file picks the later step with mfa:, or by its otp source', async () => {
  const home = await twoMfaOptions();
  const file = join(tempDir('scenario'), 'mfa.yaml');
  writeFileSync(
    file,
    `name: two MFA options
scenarios:
  - name: the outbox answers email-otp
    login: { app: thrift, connection: github, as: hubber, otp: outbox }
    expect: { outcome: success, claims: { amr: [fed, email] } }
  - name: mfa names the option
    login: { app: thrift, option: password, username: alice, password: thrift-demo, mfa: email-otp, otp: outbox }
    expect: { outcome: success, claims: { amr: [pwd, email] } }
`,
  );
  const r = expectCode(await runIdp(['check', file], { home }), 0, 'idp check');
  assert.match(r.stdout, /mfa names the option/);
  const invalid = join(tempDir('scenario'), 'bad.yaml');
  writeFileSync(
    invalid,
    'name: bad\nscenarios:\n  - name: x\n    login: { app: thrift, mfa: sms }\n    expect: { outcome: success }\n',
  );
  assert.match(expectCode(await runIdp(['check', invalid], { home }), 2).stderr, /scenarios\[0\]\.login\.mfa/);
});
