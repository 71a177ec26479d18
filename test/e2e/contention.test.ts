// Two idp processes on one organisation: a command that finds the write lock held waits out the busy timeout, then
// fails with STORE_BUSY (exit 5) naming the directory, never "database is locked" as an internal error; one that
// finds the lock released within the timeout simply succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expectCode, idpJson, ROOT, runIdp, seededHome } from '../helpers/idp.js';

/** A second process holding the write lock (BEGIN IMMEDIATE) for `ms`, resolved once it holds it. */
async function holdWriteLock(home: string, ms: number): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(join(ROOT, 'node_modules', 'better-sqlite3'))});
    const db = new Database(${JSON.stringify(join(home, 'idp.db'))});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('held\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, ${ms});
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before holding the lock`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

test('a write while another process holds the lock past the busy timeout: STORE_BUSY, exit 5, the directory named, nothing written', async () => {
  const home = await seededHome();
  const holder = await holdWriteLock(home, 60_000);
  try {
    const [text, json] = await Promise.all([
      runIdp(['users', 'create', 'zed', '--email', 'zed@example.com'], { home }),
      runIdp(['users', 'create', 'zed', '--email', 'zed@example.com', '--json'], { home }),
    ]);
    assert.equal(
      expectCode(text, 5).stderr,
      `error: the database stayed locked for 5 s\nhint: another idp process is writing to ${home}; run this again when it has finished\n`,
    );
    assert.equal(JSON.parse(expectCode(json, 5).stdout).error.code, 'STORE_BUSY');
  } finally {
    holder.kill();
    await exited(holder);
  }
  const missing = expectCode(await runIdp(['users', 'show', 'zed'], { home }), 2);
  assert.match(missing.stderr, /no user with id, username or email 'zed'/);
});

test('a write while the lock is held briefly waits for it and succeeds', async () => {
  const home = await seededHome();
  const holder = await holdWriteLock(home, 1000);
  try {
    const created = await idpJson(['users', 'create', 'zed', '--email', 'zed@example.com', '--json'], { home });
    assert.equal(created.username, 'zed');
  } finally {
    await exited(holder);
  }
});
