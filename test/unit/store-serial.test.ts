// Units of work on one SqliteStore in one process: one connection answers every caller, so while a unit awaits between
// its statements nothing else may run inside its BEGIN…COMMIT; and users.iterate reads in pages, holding no statement.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepareHome } from '../../src/store/db.js';
import { openStore, type SqliteStore } from '../../src/store/store.js';
import type { Store } from '../../src/ports.js';
import { tempDir } from '../helpers/idp.js';

function newStore(t: TestContext): SqliteStore {
  const home = join(tempDir('serial'), 'org');
  prepareHome(home);
  const store = openStore(home);
  t.after(() => store.close());
  return store;
}

function addUser(store: Store, username: string): Promise<unknown> {
  return store.users.insert({ username, email: null, emailVerified: false, source: 'local' });
}

/** Lets every other ready callback run: what a unit of work awaiting a network answer lets happen. */
async function yieldTurns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function usernames(store: Store): Promise<string[]> {
  const names: string[] = [];
  for await (const user of store.users.iterate()) names.push(user.username);
  return names;
}

test('a unit of work started while another awaits runs after it ends: the first rolls back alone, the second commits', async (t) => {
  const store = newStore(t);
  const log: string[] = [];
  let bStarted!: () => void;
  const bIsQueued = new Promise<void>((resolve) => (bStarted = resolve));
  const a = store.tx(async (tx) => {
    log.push('a begins');
    await addUser(tx, 'a1');
    await bIsQueued;
    await yieldTurns(); // b, if it were let in now, would write inside a's transaction
    await addUser(tx, 'a2');
    log.push('a throws');
    throw new Error('a fails after its second write');
  });
  const b = store.tx(async (tx) => {
    log.push('b begins');
    assert.deepEqual(await usernames(tx), [], "b sees nothing of a's rolled-back writes");
    await addUser(tx, 'b1');
    await yieldTurns();
    await addUser(tx, 'b2');
    log.push('b commits');
  });
  bStarted();
  await assert.rejects(a, /a fails after its second write/);
  await b;
  assert.deepEqual(log, ['a begins', 'a throws', 'b begins', 'b commits'], 'no interleaving inside a unit of work');
  assert.deepEqual(await usernames(store), ['b1', 'b2']);
  assert.equal(store.db.inTransaction, false);
});

test('units of work started together run one after another, each seeing the writes of the one before', async (t) => {
  const store = newStore(t);
  const seen: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map((i) =>
      store.tx(async (tx) => {
        seen.push(await tx.users.count());
        await yieldTurns();
        await addUser(tx, `u${i}`);
      }),
    ),
  );
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.deepEqual(await usernames(store), ['u0', 'u1', 'u2', 'u3']);
});

test('a plain write made while a unit of work is open is not part of it: it survives that unit rolling back', async (t) => {
  const store = newStore(t);
  let plain: Promise<unknown> | undefined;
  const unit = store.tx(async (tx) => {
    await addUser(tx, 'in-unit');
    plain = addUser(store, 'plain'); // not awaited here: it waits for this unit (awaiting it would deadlock)
    await yieldTurns();
    throw new Error('the unit fails');
  });
  await assert.rejects(unit, /the unit fails/);
  await plain;
  assert.deepEqual(await usernames(store), ['plain']);
});

test('a plain read made while a unit of work is open sees the state before it, never its uncommitted writes', async (t) => {
  const store = newStore(t);
  await addUser(store, 'before');
  let read: Promise<number> | undefined;
  const unit = store.tx(async (tx) => {
    await addUser(tx, 'uncommitted');
    read = store.users.count();
    await yieldTurns();
    throw new Error('rolled back');
  });
  await assert.rejects(unit, /rolled back/);
  assert.equal(await read, 1);
});

test('tx.tx joins the open unit of work: a throw in the outer function rolls back what the inner one wrote', async (t) => {
  const store = newStore(t);
  await assert.rejects(
    store.tx(async (tx) => {
      await tx.tx(async (inner) => addUser(inner, 'joined'));
      throw new Error('outer fails');
    }),
    /outer fails/,
  );
  assert.equal(await store.users.count(), 0);
  await store.tx(async (tx) => tx.tx(async (inner) => addUser(inner, 'kept')));
  assert.deepEqual(await usernames(store), ['kept']);
});

test('users.iterate visits every user once, in order, across pages, while the loop body writes to the store', async (t) => {
  const store = newStore(t);
  const names = Array.from({ length: 1203 }, (_, i) => `${i % 2 ? 'User' : 'user'}${String(i).padStart(4, '0')}`);
  await store.tx(async (tx) => {
    for (const name of names) await addUser(tx, name);
  });
  const seen: string[] = [];
  for await (const user of store.users.iterate()) {
    seen.push(user.username);
    await store.users.setStatus(user.id, 'disabled'); // a write while the iteration is between pages or inside one
  }
  const sorted = store.db.prepare('SELECT username FROM users ORDER BY username').pluck().all();
  assert.deepEqual(seen, sorted);
  assert.equal(new Set(seen).size, names.length);
  assert.equal(store.db.prepare("SELECT count(*) FROM users WHERE status = 'disabled'").pluck().get(), names.length);
});
