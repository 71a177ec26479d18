// MFA through the real CLI: `idp users mfa enroll --json`, logins with --totp-secret-env, --otp and --otp-from-outbox,
// `idp outbox` and its optional SMTP relay (`idp org set --smtp`), and the exit code 8 of every MFA failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCode, idpJson, idpOk, ROOT, runIdp, seededHome } from '../helpers/idp.js';
import { smtpCatcher } from '../helpers/smtp-catcher.js';

const ALICE = ['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin', '--json'];
const PASSWORD = { input: 'thrift-demo' };

interface LoginDoc {
  flow: string;
  outcome: string;
  stages: { stage: string; status: string; detail: string }[];
  claims: { amr: string[]; acr: string } | null;
  error: { code: string; message: string; hint: string | null } | null;
}

async function mfaHome(step2: 'totp' | 'email-otp'): Promise<string> {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', `2=${step2}`], { home });
  return home;
}

async function aliceLogin(home: string, more: string[], env: Record<string, string> = {}, code = 0): Promise<LoginDoc> {
  const r = expectCode(
    await runIdp([...ALICE, ...more], { home, ...PASSWORD, env }),
    code,
    `idp login ${more.join(' ')}`,
  );
  return JSON.parse(r.stdout) as LoginDoc;
}

test('users mfa enroll --json gives {secret, uri}; the login with --totp-secret-env signs in with amr otp and acr mfa', async () => {
  const home = await mfaHome('totp');
  const enrolled = await idpJson<{ factor: string; user: string; secret: string; uri: string }>(
    ['users', 'mfa', 'enroll', 'alice', 'totp', '--json'],
    { home },
  );
  assert.equal(enrolled.user, 'alice');
  assert.match(enrolled.secret, /^[A-Z2-7]{32}$/);
  assert.ok(
    enrolled.uri.startsWith('otpauth://totp/') && enrolled.uri.includes(`secret=${enrolled.secret}`),
    enrolled.uri,
  );

  const doc = await aliceLogin(home, ['--totp-secret-env', 'ALICE_TOTP'], { ALICE_TOTP: enrolled.secret });
  assert.equal(doc.outcome, 'success');
  assert.ok(doc.claims?.amr.includes('otp'), `amr ${doc.claims?.amr}`);
  assert.equal(doc.claims?.acr, 'urn:idp:acr:mfa');
  assert.ok(doc.stages.some((s) => s.stage === 'mfa' && s.status === 'ok'));

  const listed = await idpOk(['users', 'mfa', 'list', 'alice', '--json'], { home });
  assert.equal(JSON.parse(listed.stdout).factors[0].id, enrolled.factor);
  assert.ok(!listed.stdout.includes(enrolled.secret), 'the list never shows the secret');
  for (const file of ['idp.db', 'idp.db-wal'].map((f) => join(home, f)).filter((f) => existsSync(f))) {
    assert.ok(!readFileSync(file).toString('latin1').includes(enrolled.secret), `${file} holds the secret in clear`);
  }
});

test('a TOTP step without a factor: the headless login exits 8 with MFA_NOT_ENROLLED and says how to enrol', async () => {
  const home = await mfaHome('totp');
  const r = await runIdp([...ALICE, '--otp', '123456'], { home, ...PASSWORD });
  expectCode(r, 8);
  const doc = JSON.parse(r.stdout) as LoginDoc;
  assert.equal(doc.error?.code, 'MFA_NOT_ENROLLED');
  assert.match(r.stderr, /hint: .*idp users mfa enroll/);
  assert.equal(
    JSON.parse((await idpOk(['users', 'mfa', 'list', 'alice', '--json'], { home })).stdout).factors.length,
    0,
  );
});

test('a wrong --otp exits 8 with MFA_FAILED', async () => {
  const home = await mfaHome('email-otp');
  const doc = await aliceLogin(home, ['--otp', '12345x'], {}, 8);
  assert.equal(doc.outcome, 'failed');
  assert.equal(doc.error?.code, 'MFA_FAILED');
});

test('email OTP: --otp-from-outbox signs in with amr email; idp outbox --json shows the message to alice for that flow', async () => {
  const home = await mfaHome('email-otp');
  const doc = await aliceLogin(home, ['--otp-from-outbox']);
  assert.equal(doc.outcome, 'success');
  assert.deepEqual(doc.claims?.amr, ['pwd', 'email']);
  assert.equal(doc.claims?.acr, 'urn:idp:acr:mfa');
  const { messages } = await idpJson<{ messages: { to: string; subject: string; body: string; flow: string }[] }>(
    ['outbox', '--to', 'alice@example.com', '--json'],
    { home },
  );
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.to, 'alice@example.com');
  assert.equal(messages[0]!.flow, doc.flow);
  assert.match(messages[0]!.subject, /thrift/);
  assert.match(messages[0]!.body, /\b\d{6}\b/);
  const none = await idpJson<{ messages: unknown[] }>(['outbox', '--to', 'bob@example.com', '--json'], { home });
  assert.deepEqual(none.messages, []);
});

test('with an SMTP relay set, the emailed code also reaches the mail catcher; a relay that is down fails nothing; checks never relay', async (t) => {
  const catcher = await smtpCatcher();
  t.after(() => catcher.close());
  const home = await mfaHome('email-otp');
  const remote = expectCode(await runIdp(['org', 'set', '--smtp', 'smtp://mail.example.com:25'], { home }), 2);
  assert.match(remote.stderr, /must be on this machine/);
  const set = await idpJson<{ changed: boolean; after: { smtp_relay: string } }>(
    ['org', 'set', '--smtp', catcher.url, '--json'],
    { home },
  );
  assert.deepEqual([set.changed, set.after.smtp_relay], [true, catcher.url]);

  const relayed = await aliceLogin(home, ['--otp-from-outbox']);
  assert.equal(relayed.outcome, 'success');
  const waiting = (doc: LoginDoc) => doc.stages.find((s) => s.stage === 'mfa' && s.status === 'waiting')?.detail ?? '';
  assert.equal(waiting(relayed), `email code sent to alice@example.com (idp outbox; relayed to ${catcher.url})`);
  const { messages } = await idpJson<{ messages: { body: string; flow: string }[] }>(['outbox', '--json'], { home });
  const code = /\b(\d{6})\b/.exec(messages.find((m) => m.flow === relayed.flow)!.body)![1];
  assert.equal(catcher.mails.length, 1);
  assert.ok(catcher.mails[0]!.commands.includes('RCPT TO:<alice@example.com>'));
  assert.ok(catcher.mails[0]!.data.includes(`Your code is ${code}.`), 'the catcher got the code this flow issued');

  const check = await runIdp(['check', join(ROOT, 'fixtures', 'scenarios', 'skip-mfa-script.yaml')], { home });
  expectCode(check, 0);
  assert.equal(catcher.connections(), 1, 'scenario logins read the outbox of their copy and send nothing');

  await catcher.close();
  const down = await aliceLogin(home, ['--otp-from-outbox']);
  assert.equal(down.outcome, 'success', 'the outbox still has the code');
  assert.match(
    waiting(down),
    /^email code sent to alice@example\.com \(idp outbox; the relay to smtp:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/,
  );
});
