// Hostile conditional-authentication scripts set on thrift, met by real logins in this process: an endless loop,
// unbounded allocation and require('fs') each end the login with SCRIPT_ERROR at the script stage, and the host
// process (its globals, its files, the next login) is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { headlessLogin } from '../../src/cli/drivers/headless.js';
import { tempDir } from '../helpers/idp.js';
import { expectDone, expectFailed, stageNames, sharedDemoOrg } from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';

const org = sharedDemoOrg();

const touched = join(tempDir('script-fs'), 'written-by-a-script');

/** Each script runs step 1 (alice's password), then misbehaves on `line` (null: the sandbox cannot tell yet). */
const HOSTILE = [
  { what: 'loops forever', line: null, message: /longer than its \d+ ms budget/, body: 'while (true) {}' },
  // Reaching the memory limit through native allocations takes seconds; the script worker's wall limit may stop it first.
  {
    what: 'allocates without bound',
    line: null,
    message: /out of memory|stopped after \d+ ms/,
    body: 'var hoard = [];\n  for (;;) hoard.push(new ArrayBuffer(1 << 20));',
  },
  {
    what: "calls require('fs')",
    line: 3,
    message: /'require' is not defined/,
    body: `require('fs').writeFileSync(${JSON.stringify(touched)}, 'x');`,
  },
];

function namedLine(message: string): number | undefined {
  const line = /at line (\d+)/.exec(message)?.[1];
  return line === undefined ? undefined : Number(line);
}

function scriptWith(body: string): string {
  return `var onLoginRequest = function (context) {\n  executeStep(1);\n  ${body}\n};\n`;
}

const aliceLogin = () =>
  headlessLogin({
    store: org.store,
    app: 'thrift',
    upstreams: org.upstreams,
    answers: { option: 'password', username: 'alice', password: 'thrift-demo', consent: 'approve' },
  });

for (const hostile of HOSTILE) {
  test(`a script that ${hostile.what} fails the login with SCRIPT_ERROR (exit 3); the next login in this process succeeds`, async () => {
    await org.store.apps.update('thrift', { script: scriptWith(hostile.body) });
    const run = await aliceLogin();
    const failed = expectFailed(run.view, 'SCRIPT_ERROR', 3);
    assert.match(failed.error.message, hostile.message);
    if (hostile.line !== null) assert.equal(namedLine(failed.error.message), hostile.line);
    assert.match(hintOf(failed.error), /idp app check/);
    assert.deepEqual(stageNames(run.stages).slice(-2), ['password', 'script'], 'step 1 ran, then the script failed');
    assert.equal(run.stages.at(-1)?.status, 'failed');
    assert.equal((await org.store.flows.get(run.view.flow))?.status, 'failed');
    assert.equal((globalThis as Record<string, unknown>).onLoginRequest, undefined, 'nothing leaked into the host');
    assert.ok(!existsSync(touched), 'the script wrote no file');

    await org.store.apps.update('thrift', { script: null });
    expectDone((await aliceLogin()).view);
  });
}

test('a script stuck in one native call is stopped at the wall limit, not after seconds at the memory limit', async () => {
  await org.store.apps.update('thrift', {
    script: scriptWith('var a = [];\n  for (;;) a.push(new Array(1e5).fill(1));'),
  });
  const failed = expectFailed((await aliceLogin()).view, 'SCRIPT_ERROR', 3);
  assert.match(failed.error.message, /stopped after \d+ ms/);
  await org.store.apps.update('thrift', { script: null });
  expectDone((await aliceLogin()).view);
});

test('an endless loop names the line of the loop, or no line', async () => {
  await org.store.apps.update('thrift', { script: scriptWith('while (true) {}') });
  const failed = expectFailed((await aliceLogin()).view, 'SCRIPT_ERROR', 3);
  assert.ok([undefined, 3].includes(namedLine(failed.error.message)), failed.error.message);
});
