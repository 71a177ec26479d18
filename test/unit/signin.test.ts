// Sign-in methods (src/core/signin.ts): editing steps with --step, validation, the printed form, and the
// JIT-off-before-MFA conflicts that `connection set --jit=false` warns about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError, type ErrorCode } from '../../src/core/errors.js';
import {
  editSteps,
  enrolmentRefusal,
  formatMethod,
  mfaConflicts,
  multiFactor,
  usedHeldFactor,
  validateSteps,
} from '../../src/core/signin.js';
import type { App, Connection } from '../../src/core/types.js';
import { hintOf } from '../helpers/hints.js';

const CONNECTIONS = ['github', 'google'];

function refused(fn: () => unknown, code: ErrorCode, text: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof IdpError && err.code === code && text.test(`${err.message} | ${hintOf(err)}`),
  );
}

test('editSteps replaces, appends and removes steps in the order the flags came', () => {
  const start = [['password']];
  assert.deepEqual(editSteps(start, [[1, ['password', 'google', 'github']]], CONNECTIONS), [
    ['password', 'google', 'github'],
  ]);
  assert.deepEqual(editSteps(start, [[2, ['totp']]], CONNECTIONS), [['password'], ['totp']]);
  assert.deepEqual(editSteps([['password'], ['totp']], [[2, []]], CONNECTIONS), [['password']]);
  assert.deepEqual(
    editSteps(
      start,
      [
        [2, ['totp']],
        [3, ['email-otp']],
        [2, []],
      ],
      CONNECTIONS,
    ),
    [['password'], ['email-otp']],
  );
  assert.deepEqual(
    editSteps(start, [[1, ['github', 'github', 'password']]], CONNECTIONS),
    [['github', 'password']],
    'duplicates collapse',
  );
  assert.deepEqual(start, [['password']], 'the input is not mutated');
});

test('editSteps refuses gaps and removing a step that does not exist', () => {
  refused(() => editSteps([['password']], [[3, ['totp']]], CONNECTIONS), 'INVALID_VALUE', /step 3 .* before step 2/);
  refused(() => editSteps([['password']], [[2, []]], CONNECTIONS), 'INVALID_VALUE', /no step 2/);
  refused(() => editSteps([['password']], [[1, []]], CONNECTIONS), 'INVALID_VALUE', /at least step 1/);
});

test('an unknown option is refused with exit 2 and the list of valid ones', () => {
  assert.throws(
    () => editSteps([['password']], [[2, ['sms']]], CONNECTIONS),
    (err: unknown) =>
      err instanceof IdpError &&
      err.code === 'UNKNOWN_SIGN_IN_OPTION' &&
      err.exitCode === 2 &&
      /'sms' in step 2/.test(err.message) &&
      err.hint === 'valid options: password, email-otp, totp, passkey, github, google',
  );
  refused(() => validateSteps([['password', 'gitlab']], CONNECTIONS), 'UNKNOWN_SIGN_IN_OPTION', /gitlab/);
});

test('MFA options cannot be in step 1; connections and password may be in later steps', () => {
  refused(() => validateSteps([['totp']], CONNECTIONS), 'INVALID_VALUE', /'totp' cannot be in step 1.*--step 2=totp/);
  refused(() => validateSteps([['password', 'email-otp']], CONNECTIONS), 'INVALID_VALUE', /email-otp/);
  assert.doesNotThrow(() => validateSteps([['github'], ['password', 'totp']], CONNECTIONS));
});

test('a passkey may be in any step: passwordless in step 1, a second factor later', () => {
  assert.deepEqual(editSteps([['password']], [[1, ['passkey', 'github']]], CONNECTIONS), [['passkey', 'github']]);
  assert.deepEqual(editSteps([['password']], [[2, ['totp', 'passkey']]], CONNECTIONS), [
    ['password'],
    ['totp', 'passkey'],
  ]);
});

test('formatMethod prints steps as "step 1: a | b  ->  step 2: c"', () => {
  assert.equal(
    formatMethod([['password', 'google', 'github'], ['totp']]),
    'step 1: password | google | github  ->  step 2: totp',
  );
  assert.equal(formatMethod([['password']]), 'step 1: password');
});

function app(name: string, steps: string[][], script: string | null = null): App {
  return {
    name,
    clientId: name,
    type: 'spa',
    origins: [],
    idTokenAlg: 'RS256',
    hasSecret: false,
    redirectUris: [],
    steps,
    attributes: [],
    script,
    builtIn: false,
    createdAt: '',
    updatedAt: '',
  };
}

function connection(name: string, jit: boolean): Connection {
  return {
    name,
    type: 'github',
    sandbox: true,
    issuer: null,
    tokenAuth: null,
    baseUrl: null,
    clientId: name,
    secret: { kind: 'none' },
    scopes: [],
    jit: { enabled: jit, scheme: 'silent', sync: 'override-all', linking: 'off' },
    attributeMap: {},
    createdAt: '',
    updatedAt: '',
  };
}

test('mfaConflicts finds each app offering a JIT-off connection in a step followed by an MFA step', () => {
  const apps = [
    app('thrift', [['password', 'google', 'github'], ['totp']]),
    app('scripted', [['github'], ['password'], ['email-otp']], 'function onLoginRequest() {}'),
    app('no-mfa', [['github'], ['password']]),
    app('mfa-first-then-github', [['password'], ['totp'], ['github']]),
    app('passkey-second', [['github'], ['passkey']]),
    app('passwordless-beside-github', [['passkey', 'github']]),
  ];
  const conflicts = mfaConflicts(apps, [connection('github', false), connection('google', true)]);
  assert.deepEqual(conflicts, [
    { app: 'thrift', connection: 'github', step: 1, mfaStep: 2, scripted: false },
    { app: 'scripted', connection: 'github', step: 1, mfaStep: 3, scripted: true },
    { app: 'passkey-second', connection: 'github', step: 1, mfaStep: 2, scripted: false },
  ]);
  assert.deepEqual(
    mfaConflicts(apps, [connection('github', true), connection('google', true)]),
    [],
    'none while JIT is on',
  );
});

test('multi-factor means two kinds of factor in the amr, whichever steps ran them', () => {
  assert.equal(multiFactor(['pwd']), false);
  assert.equal(multiFactor(['fed']), false);
  assert.equal(multiFactor(['hwk']), false, 'a key without user verification');
  assert.equal(multiFactor(['hwk', 'user']), true, 'a passkey verifying the person: two factors in one step');
  assert.equal(multiFactor(['swk', 'user']), true);
  assert.equal(multiFactor(['pwd', 'otp']), true);
  assert.equal(multiFactor(['pwd', 'email']), true);
  assert.equal(multiFactor(['fed', 'otp']), true, 'an upstream sign-in, then a local factor');
  assert.equal(multiFactor(['pwd', 'hwk']), true);
  assert.equal(multiFactor(['hwk', 'otp']), false, 'two things held are one kind');
  assert.equal(multiFactor([]), false);
});

test('a sign-in enrols a second factor only for an account with none; else it names what the account holds', () => {
  const none = { totp: false, passkey: false };
  assert.equal(enrolmentRefusal('passkey', none, ['totp', 'passkey']), null);
  assert.equal(enrolmentRefusal('totp', none, ['totp']), null);
  const refused = enrolmentRefusal('passkey', { totp: true, passkey: false }, ['totp', 'passkey']);
  assert.equal(refused?.code, 'MFA_NOT_ENROLLED');
  assert.match(refused!.message, /holds totp/);
  assert.match(String(refused!.hint), /^use totp/);
  const elsewhere = enrolmentRefusal('totp', { totp: false, passkey: true }, ['totp']);
  assert.match(String(elsewhere!.hint), /this step does not offer passkey/);
  assert.equal(enrolmentRefusal('passkey', { totp: false, passkey: true }, ['passkey'])?.code, 'MFA_NOT_ENROLLED');
});

test('a sign-in used a held factor when its amr has a TOTP code or either kind of passkey key, not only a password', () => {
  assert.equal(usedHeldFactor(['pwd', 'otp']), true);
  assert.equal(usedHeldFactor(['pwd', 'hwk', 'user']), true);
  assert.equal(usedHeldFactor(['pwd', 'swk']), true, "the software authenticator's key is still the passkey held");
  assert.equal(usedHeldFactor(['pwd']), false);
  assert.equal(usedHeldFactor(['fed', 'email']), false);
});
