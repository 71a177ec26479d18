// The MFA / pass-through conflict matrix, in process: every combination of JIT on google, thrift's step 2 and the
// documented skip-MFA script, walked by a headless google login as bob through the sandbox (one set of upstreams for
// the whole file, one org reset between combinations); and alice's password path, which the script still sends to MFA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeInOutbox } from '../../src/cli/commands/login.js';
import { headlessLogin, type HeadlessLoginOptions } from '../../src/cli/drivers/headless.js';
import { enrolTotp } from '../../src/app/account.js';
import { adminOf } from '../../src/cli/context.js';
import { totpCode } from '../../src/mfa/totp.js';
import { expectDone, expectFailed, stageNames, sharedDemoOrg } from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

const STEP_1 = ['password', 'google', 'github'];

const org = sharedDemoOrg();

interface Setup {
  jit: boolean;
  step2: 'none' | 'totp' | 'email-otp';
  script: boolean;
}

/** Puts the shared org in this combination: no bob, google's JIT, thrift's steps and script. */
async function configure({ jit, step2, script }: Setup): Promise<void> {
  const bob = await org.store.users.find('bob');
  if (bob) await org.store.users.delete(bob.id);
  const google = (await org.store.connections.get('google'))!;
  await org.store.connections.update('google', { jit: { ...google.jit, enabled: jit } });
  await org.store.apps.update('thrift', {
    steps: step2 === 'none' ? [STEP_1] : [STEP_1, [step2]],
    script: script ? SKIP_MFA_SCRIPT : null,
  });
}

function login(answers: Partial<HeadlessLoginOptions['answers']>) {
  const otp = { fromOutbox: async (flow: string) => codeInOutbox(org.store, flow) };
  return headlessLogin({
    store: org.store,
    app: 'thrift',
    upstreams: org.upstreams,
    answers: { consent: 'approve', otp, ...answers },
  });
}

const bobViaGoogle = () => login({ connection: 'google', persona: 'bob' });

function scriptDetail(stages: { stage: string; detail: string }[]): string | undefined {
  return stages.filter((s) => s.stage === 'script').at(-1)?.detail;
}

for (const jit of [false, true]) {
  for (const step2 of ['none', 'totp', 'email-otp'] as const) {
    for (const script of [false, true]) {
      const setup: Setup = { jit, step2, script };
      const mfa = step2 !== 'none';
      const name = `google JIT ${jit ? 'on' : 'off'}, step 2 ${step2}, ${script ? 'skip-MFA script' : 'no script'}: bob`;

      if (!mfa) {
        test(`${name} signs in without MFA${jit ? ' as a provisioned user' : ', passing through'}`, async () => {
          await configure(setup);
          const run = await bobViaGoogle();
          const result = expectDone(run.view);
          assert.deepEqual(result.amr, ['fed']);
          assert.equal(result.passThrough, !jit);
          assert.equal(!!(await org.store.users.find('bob')), jit);
          assert.ok(!stageNames(run.stages).includes('mfa'));
          assert.equal(stageNames(run.stages).includes('script'), script);
        });
      } else if (!jit && !script) {
        test(`${name} fails with MFA_NEEDS_LOCAL_USER (exit 8) naming google and both fixes`, async () => {
          await configure(setup);
          const run = await bobViaGoogle();
          const failed = expectFailed(run.view, 'MFA_NEEDS_LOCAL_USER', 8);
          assert.match(failed.error.message, /google has JIT off/);
          assert.ok(hintOf(failed.error).includes('idp connection set google --jit=true'), hintOf(failed.error));
          assert.ok(hintOf(failed.error).includes("context.steps[1].idp == 'LOCAL'"), hintOf(failed.error));
          assert.ok(hintOf(failed.error).includes('idp app script set thrift'), hintOf(failed.error));
          assert.equal(failed.jit?.decision, 'pass-through');
          assert.equal(run.stages.at(-1)?.stage, 'mfa');
          assert.equal(run.stages.at(-1)?.status, 'failed');
          assert.equal(await org.store.users.find('bob'), undefined, 'pass-through writes no user');
          assert.equal(
            (await org.store.codes.outbox({ to: 'bob@example.com', limit: 1 })).length,
            0,
            'no code was mailed',
          );
        });
      } else if (script) {
        test(`${name} signs in and the script skips step 2 (${jit ? 'provisioned' : 'pass-through'})`, async () => {
          await configure(setup);
          const run = await bobViaGoogle();
          const result = expectDone(run.view);
          assert.deepEqual(result.amr, ['fed']);
          assert.equal(result.passThrough, !jit);
          assert.equal(result.jit?.decision, jit ? 'provision' : 'pass-through');
          assert.ok(!stageNames(run.stages).includes('mfa'));
          assert.match(
            scriptDetail(run.stages) ?? '',
            /after step 1 \(idp google\): done; ran step 1, skipped step 2$/,
          );
        });
      } else if (step2 === 'email-otp') {
        test(`${name} is provisioned and reaches the email OTP, which the outbox answers`, async () => {
          await configure(setup);
          const run = await bobViaGoogle();
          const result = expectDone(run.view);
          assert.equal(result.jit?.decision, 'provision');
          assert.deepEqual(result.amr, ['fed', 'email']);
          assert.equal(result.acr, 'urn:idp:acr:mfa');
          assert.equal((await org.store.codes.outbox({ to: 'bob@example.com', limit: 5 })).length, 1);
        });
      } else {
        test(`${name} is provisioned and reaches TOTP, which a headless login cannot enrol: MFA_NOT_ENROLLED (exit 8)`, async () => {
          await configure(setup);
          const run = await bobViaGoogle();
          const failed = expectFailed(run.view, 'MFA_NOT_ENROLLED', 8);
          assert.equal(failed.jit?.decision, 'provision');
          const bob = await org.store.users.find('bob');
          assert.ok(bob, 'bob was provisioned before MFA');
          assert.deepEqual(await org.store.factors.forUser(bob.id), []);
        });
      }
    }
  }
}

test('the skip-MFA script still runs step 2 for alice signing in with a password: email OTP, then TOTP', async () => {
  const alice = (await org.store.users.find('alice'))!;
  for (const step2 of ['email-otp', 'totp'] as const) {
    await configure({ jit: true, step2, script: true });
    const totp =
      step2 === 'totp'
        ? { otp: { code: await totpCode((await enrolTotp(adminOf(org.store, 'test'), alice)).secret) } }
        : {};
    const run = await login({ option: 'password', username: 'alice', password: 'thrift-demo', ...totp });
    const result = expectDone(run.view);
    assert.deepEqual(result.amr, ['pwd', step2 === 'totp' ? 'otp' : 'email'], step2);
    assert.equal(result.acr, 'urn:idp:acr:mfa');
    assert.deepEqual(
      run.stages.filter((s) => s.stage === 'script').map((s) => s.detail),
      ['after step 1 (idp LOCAL): runs step 2', 'after step 2 (idp LOCAL): done; ran step 1, 2'],
    );
    assert.equal(run.stages.filter((s) => s.stage === 'mfa').at(-1)?.detail, `${step2} verified for alice`);
  }
});
