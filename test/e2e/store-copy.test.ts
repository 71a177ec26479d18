// `idp store copy`, `verify` and `migrate` on SQLite data directories: the demo org plus 10,000 imported users and a
// TOTP user copied to a new directory and back with the same per-table checksums, the copy usable (a TOTP login, the
// users list) under its own key; a non-empty destination refused untouched; a changed cell, plain or sealed, found by
// verify; an older source refused until migrated; a postgres:// store refused by this build.
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { dbPath } from '../../src/store/db.js';
import { loadKey, SEAL_KEY_FILE } from '../../src/store/seal.js';
import { seal } from '../../src/store-rows/seal.js';
import { dbHash, expectCode, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';
import { downgradeTo7 } from '../helpers/migrations.js';

const USERS = 10_000;

interface Sum {
  table: string;
  rows: number;
  checksum: string;
}

interface CopyDoc {
  rows: number;
  tables: Sum[];
  verification: { ok: boolean; tables: (Sum & { ok: boolean })[] };
}

let source: string;
let totpSecret: string;

before(async () => {
  source = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=totp'], { home: source });
  totpSecret = (await idpJson(['users', 'mfa', 'enroll', 'alice', 'totp', '--json'], { home: source })).secret;
  const csv = join(tempDir('csv'), 'people.csv');
  const lines = ['username,email,name'];
  for (let i = 0; i < USERS; i++) lines.push(`user${i},user${i}@example.com,User ${i}`);
  writeFileSync(csv, `${lines.join('\n')}\n`);
  await idpOk(['users', 'import', csv], { home: source });
});

/** A path for a data directory that does not exist yet. */
function fresh(label: string): string {
  return join(tempDir(label), 'org');
}

async function copy(from: string, to: string): Promise<CopyDoc> {
  return idpJson(['store', 'copy', '--from', from, '--to', to, '--json']);
}

function byTable(sums: Sum[]): Record<string, string> {
  return Object.fromEntries(sums.map((s) => [s.table, `${s.rows} ${s.checksum}`]));
}

function sealedTotp(home: string): string {
  const db = new Database(dbPath(home), { readonly: true });
  try {
    return db.prepare("SELECT secret_sealed FROM mfa_factors WHERE type = 'totp'").pluck().get() as string;
  } finally {
    db.close();
  }
}

test('--dry-run prints the plan (every table, its rows) and creates nothing', async () => {
  const to = fresh('dry');
  const plan = await idpJson(['store', 'copy', '--from', source, '--to', to, '--dry-run', '--json']);
  assert.equal(plan.dryRun, true);
  const users = (plan.tables as Sum[]).find((t) => t.table === 'users');
  assert.equal(users?.rows, USERS + 1);
  assert.ok((plan.tables as Sum[]).some((t) => t.table === 'mfa_factors' && t.rows === 1));
  assert.equal(existsSync(to), false);
});

test('a copy to a new directory and back gives the same rows and checksum in every table, under new keys', async () => {
  const there = fresh('there');
  const out = await copy(source, there);
  assert.equal(out.verification.ok, true);
  assert.ok(out.rows > USERS);
  // The destination is a data directory like any other: 0700, its database and key file 0600, a key of its own.
  assert.equal(statSync(there).mode & 0o777, 0o700);
  assert.equal(statSync(dbPath(there)).mode & 0o777, 0o600);
  assert.equal(statSync(join(there, SEAL_KEY_FILE)).mode & 0o777, 0o600);
  assert.notDeepEqual(loadKey(join(there, SEAL_KEY_FILE)), loadKey(join(source, SEAL_KEY_FILE)));
  assert.notEqual(sealedTotp(there), sealedTotp(source));

  const back = fresh('back');
  const returned = await copy(there, back);
  assert.deepEqual(byTable(returned.tables), byTable(out.tables));
  const verified = await idpJson(['store', 'verify', '--from', source, '--to', back, '--json']);
  assert.equal(verified.ok, true);
});

test('the copy works: the TOTP user signs in (its secret sealed again under the new key), users list pages', async () => {
  const there = fresh('works');
  await copy(source, there);
  const login = expectCode(
    await runIdp(
      [
        'login',
        '--app',
        'thrift',
        '--headless',
        '--option',
        'password',
        '--username',
        'alice',
        '--password-stdin',
        '--totp-secret-env',
        'ALICE_TOTP',
        '--json',
      ],
      { home: there, input: 'thrift-demo', env: { ALICE_TOTP: totpSecret } },
    ),
    0,
    'login against the copy',
  );
  const doc = JSON.parse(login.stdout) as { outcome: string; claims: { amr: string[]; iss: string } };
  assert.ok(doc.claims.amr.includes('otp'), login.stdout);
  const list = await idpJson(['users', 'list', '--search', 'user9999@', '--json'], { home: there });
  assert.deepEqual(
    list.users.map((u: { username: string }) => u.username),
    ['user9999'],
  );
});

test('a copy into a store that holds an org is refused (exit 3) and leaves it as it was', async () => {
  const there = fresh('full');
  await copy(source, there);
  const before = dbHash(there);
  const r = expectCode(await runIdp(['store', 'copy', '--from', source, '--to', there]), 3, 'second copy');
  assert.match(r.stderr, /already holds an organisation/);
  assert.equal(dbHash(there), before);
  const demo = await seededHome();
  expectCode(await runIdp(['store', 'copy', '--from', source, '--to', demo]), 3, 'copy onto the demo org');
});

test('verify finds a changed cell (exit 9, naming its table), and a sealed one changed to another secret', async () => {
  const there = fresh('tampered');
  await copy(source, there);
  const db = new Database(dbPath(there));
  db.prepare("UPDATE users SET name = 'Mallory' WHERE username = 'user5000'").run();
  db.close();
  const r = expectCode(await runIdp(['store', 'verify', '--from', source, '--to', there, '--json']), 9, 'verify');
  const doc = JSON.parse(r.stdout) as { ok: boolean; tables: (Sum & { ok: boolean })[] };
  assert.equal(doc.ok, false);
  assert.deepEqual(
    doc.tables.filter((t) => !t.ok).map((t) => t.table),
    ['users'],
  );
  assert.match(r.stderr, /users/);

  const sealedThere = fresh('sealed');
  await copy(source, sealedThere);
  const other = new Database(dbPath(sealedThere));
  // A well-formed value under the destination's own key: only its plaintext tells it apart.
  other
    .prepare("UPDATE mfa_factors SET secret_sealed = ? WHERE type = 'totp'")
    .run(seal(loadKey(join(sealedThere, SEAL_KEY_FILE)), 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'));
  other.close();
  const s = expectCode(await runIdp(['store', 'verify', '--from', source, '--to', sealedThere, '--json']), 9, 'verify');
  assert.deepEqual(
    (JSON.parse(s.stdout) as { tables: (Sum & { ok: boolean })[] }).tables.filter((t) => !t.ok).map((t) => t.table),
    ['mfa_factors'],
  );
});

test('an older source is refused (exit 3) with the migrate command as the fix; store migrate brings it up', async () => {
  const old = await seededHome();
  const db = new Database(dbPath(old), { fileMustExist: true });
  downgradeTo7(db);
  db.pragma('user_version = 7');
  db.close();
  const to = fresh('from-old');
  const r = expectCode(await runIdp(['store', 'copy', '--from', old, '--to', to]), 3, 'copy from schema 7');
  assert.match(r.stderr, /schema 7/);
  assert.match(r.stderr, new RegExp(`hint: .*idp --home ${old} store migrate`));
  assert.equal(existsSync(to), false);

  const before = dbHash(old);
  const dry = await idpJson(['store', 'migrate', '--dry-run', '--json'], { home: old });
  assert.equal(dry.from, 7);
  assert.equal(dry.migrated, false);
  assert.equal(dbHash(old), before);
  const done = await idpJson(['store', 'migrate', '--json'], { home: old });
  assert.deepEqual([done.from, done.to, done.migrated], [7, dry.to, true]);
  const again = await idpJson(['store', 'migrate', '--json'], { home: old });
  assert.deepEqual([again.from, again.migrated], [dry.to, false]);
  assert.equal((await copy(old, to)).verification.ok, true);
});

test('a postgres:// store is refused by this build (exit 2) without printing its password', async () => {
  const r = expectCode(
    await runIdp(['store', 'copy', '--from', source, '--to', 'postgres://idp:hunter2@127.0.0.1:5432/idp']),
    2,
    'copy to postgres',
  );
  assert.match(r.stderr, /PostgreSQL/);
  assert.doesNotMatch(r.stderr, /hunter2/);
});
