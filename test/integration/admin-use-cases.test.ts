// The organisation-admin use cases (src/app) on a real org, without the CLI: refusals carry a code and their remedies
// as data (never CLI text), each change records its audit event under the acting admin, dry runs write nothing,
// and the JIT-off-before-MFA conflicts come back as data from every way a change arrives.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, setApp } from '../../src/app/apps.js';
import { addConnection, setConnection } from '../../src/app/connections.js';
import type { Admin } from '../../src/app/deps.js';
import { applyPolicy } from '../../src/app/policy.js';
import { setScript } from '../../src/app/app-script.js';
import { adminOf } from '../../src/cli/context.js';
import type { IdpError } from '../../src/core/errors.js';
import type { Fix } from '../../src/core/fixes.js';
import { demoStore } from '../helpers/login.js';
import { asyncRefusal } from '../helpers/refusals.js';

async function admin(t: TestContext): Promise<Admin> {
  return adminOf(await demoStore(t), 'tester');
}

function fixesOf(err: IdpError): Fix[] {
  return typeof err.hint === 'string' || !err.hint ? [] : err.hint.filter((p): p is Fix => typeof p !== 'string');
}

const configEvents = async (a: Admin) =>
  (await a.store.events.list({ limit: 1000 })).filter((e) => e.kind === 'config');

test('a refusal names its remedy as data, and no message or hint spells a command', async (t) => {
  const a = await admin(t);
  const exists = await asyncRefusal(createApp(a, 'thrift', {}));
  assert.equal(exists.code, 'APP_EXISTS');
  assert.deepEqual(fixesOf(exists), [{ kind: 'set', on: 'app', name: 'thrift' }]);
  const inUse = await asyncRefusal(addConnection(a, 'github', { type: 'github', sandbox: true }));
  assert.equal(inUse.code, 'CONNECTION_EXISTS');
  const noClient = await asyncRefusal(addConnection(a, 'corp', { type: 'oidc', sandbox: false }));
  assert.deepEqual(fixesOf(noClient), [
    { kind: 'option', option: 'client-id' },
    { kind: 'option', option: 'sandbox' },
  ]);
  for (const err of [exists, inUse, noClient]) {
    const text = [
      err.message,
      ...(typeof err.hint === 'string' ? [err.hint] : (err.hint ?? []).filter((p) => typeof p === 'string')),
    ].join(' ');
    assert.doesNotMatch(text, /\bidp \w|--\w/, `CLI syntax in ${err.code}: ${text}`);
  }
});

test('each change records one audit event under the acting admin; a dry run records and writes nothing', async (t) => {
  const a = await admin(t);
  const before = (await configEvents(a)).length;
  const dry = await setApp(a, 'thrift', { steps: [[2, ['totp']]] }, { dryRun: true });
  assert.deepEqual(
    dry.changes.map((c) => c.path),
    ['steps'],
  );
  assert.deepEqual((await a.store.apps.get('thrift'))!.steps, [['password', 'google', 'github']]);
  assert.equal((await configEvents(a)).length, before);
  await setApp(a, 'thrift', { steps: [[2, ['totp']]] }, { dryRun: false });
  assert.deepEqual((await a.store.apps.get('thrift'))!.steps, [['password', 'google', 'github'], ['totp']]);
  const [latest] = await configEvents(a);
  assert.equal((await configEvents(a)).length, before + 1);
  assert.deepEqual([latest!.action, latest!.actor], ['app.set', 'tester']);
});

test('turning JIT off before an MFA step comes back as the same conflict from connection set and from a policy', async (t) => {
  const a = await admin(t);
  await setApp(a, 'thrift', { steps: [[2, ['totp']]] }, { dryRun: false });
  const viaSet = await setConnection(a, 'github', { jit: false }, { dryRun: true });
  const viaPolicy = await applyPolicy(
    a,
    { apps: {}, connections: { github: { jit: { enabled: false } } } },
    { file: 'p.yaml', prune: false, dryRun: true },
  );
  const expected = [{ app: 'thrift', connection: 'github', step: 1, mfaStep: 2, scripted: false }];
  assert.deepEqual(viaSet.conflicts, expected);
  assert.deepEqual(viaPolicy.conflicts, expected);
  assert.equal((await a.store.connections.get('github'))!.jit.enabled, true, 'dry runs changed nothing');
});

test('a script is held to the same size limit and load check from app script set and from a policy', async (t) => {
  const a = await admin(t);
  const huge = `function onLoginRequest(context) { executeStep(1); }\n//${'x'.repeat(100 * 1024)}\n`;
  const viaSet = await asyncRefusal(setScript(a, 'thrift', { text: huge, from: 'huge.js' }));
  const viaPolicy = await asyncRefusal(
    applyPolicy(
      a,
      { apps: { thrift: { script: huge } }, connections: {} },
      { file: 'p.yaml', prune: false, dryRun: false },
    ),
  );
  assert.deepEqual([viaSet.code, viaPolicy.code], ['FILE_INVALID', 'FILE_INVALID']);
  assert.match(viaSet.message, /^huge\.js: the script is 101 KiB; the limit is 64 KiB$/);
  assert.match(viaPolicy.message, /^p\.yaml: apps\.thrift\.script: the script is 101 KiB/);
  assert.equal((await a.store.apps.get('thrift'))!.script, null);
});
