// `idp check` killed mid-run (CI cancelling a job): SIGTERM removes the throwaway copy of the org and exits 143;
// SIGKILL leaves a copy with no seal key and only sealed secrets in it, and the next run sweeps it away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { childEnv, expectCode, IDP_BIN, runIdp, seededHome, tempDir } from '../helpers/idp.js';

// Each password login takes tens of milliseconds (scrypt), so the run lasts seconds: long enough to be interrupted.
const WAITING_SCENARIOS = `name: many logins
scenarios:
${Array.from({ length: 300 }, (_, n) => `  - name: password ${n}\n    login: { app: thrift, option: password, username: alice, password: thrift-demo }\n    expect: { outcome: success }`).join('\n')}
`;

function copies(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith('idp-copy-'));
}

/** Starts `idp check` and resolves once it has opened its copy of the org (the copy's WAL file exists). */
async function checkInProgress(): Promise<{ child: ReturnType<typeof spawn>; tmp: string; home: string }> {
  const home = await seededHome();
  const file = join(tempDir('check-signals'), 'many.yaml');
  writeFileSync(file, WAITING_SCENARIOS);
  const tmp = tempDir('check-tmp');
  const child = spawn(process.execPath, [IDP_BIN, 'check', file], {
    env: childEnv({ home, env: { TMPDIR: tmp } }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  child.stderr!.resume();
  while (!copies(tmp).some((dir) => existsSync(join(tmp, dir, 'idp.db-wal')))) {
    assert.equal(child.exitCode, null, 'idp check is still running');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(copies(tmp).length, 1, 'the check runs on one copy of the org in $TMPDIR');
  return { child, tmp, home };
}

test('SIGTERM: idp check removes its copy of the org and exits 143', async () => {
  const run = await checkInProgress();
  const closed = once(run.child, 'close');
  run.child.kill('SIGTERM');
  const [code, signal] = (await closed) as [number | null, string | null];
  assert.equal(signal, null, 'it exits by itself rather than dying of the signal');
  assert.equal(code, 143);
  assert.deepEqual(copies(run.tmp), [], 'no idp-copy-* directory is left');
});

test('SIGKILL: the copy left behind holds no seal key and no private key in the clear, and the next run sweeps it', async () => {
  const run = await checkInProgress();
  const closed = once(run.child, 'close');
  run.child.kill('SIGKILL');
  await closed;
  const [left] = copies(run.tmp);
  assert.ok(left, 'SIGKILL skips every clean-up, so the copy is still there');
  const dir = join(run.tmp, left);
  assert.equal(existsSync(join(dir, 'secret.key')), false, 'the seal key never touched the disk');
  const readonly = true;
  const db = new Database(join(dir, 'idp.db'), { readonly, fileMustExist: true });
  try {
    const keys = db.prepare('SELECT private_sealed FROM signing_keys').pluck().all() as string[];
    assert.ok(keys.length > 0);
    for (const sealed of keys) assert.match(sealed, /^v1\./);
  } finally {
    db.close();
  }
  const bytes = ['idp.db', 'idp.db-wal']
    .map((f) => join(dir, f))
    .filter(existsSync)
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
  assert.equal(/"d"\s*:/.test(bytes), false, 'no private JWK member in the copied database');

  const empty = join(tempDir('check-signals'), 'empty.yaml');
  writeFileSync(
    empty,
    'name: nothing to wait for\nscenarios:\n  - name: password\n    login: { app: thrift, option: password, username: alice, password: thrift-demo }\n    expect: { outcome: success }\n',
  );
  expectCode(await runIdp(['check', empty], { home: run.home, env: { TMPDIR: run.tmp } }), 0);
  assert.deepEqual(copies(run.tmp), [], "the next run sweeps the dead run's copy");
});
