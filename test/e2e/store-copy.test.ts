// `idp store copy`, `verify` and `migrate` through the real CLI, on SQLite data directories and across engines: the
// demo org plus 10,000 imported users and a TOTP user copied to a new directory (or a new PostgreSQL database) and
// back with the same per-table checksums, the copy usable (a TOTP login, the users list) under its own key; a
// non-empty destination refused untouched; a dry run into a blank database creating nothing; a changed cell, plain or
// sealed, found by verify; an older store refused until migrated; a password in a store URL refused unprinted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { dbPath } from '../../src/store/db.js';
import { loadKey, SEAL_KEY_FILE } from '../../src/store/seal.js';
import { seal, unseal } from '../../src/store-rows/seal.js';
import { PG_MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE } from '../../src/store-pg/migrations.js';
import { aliceLogin, dbHash, expectCode, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';
import { downgradeTo7 } from '../helpers/migrations.js';
import { admin, dropDatabase, pgUrl } from '../helpers/pg.js';

const USERS = 10_000;

interface Sum {
  table: string;
  rows: number;
  checksum: string;
}

interface CopyDoc {
  rows: number;
  tables: Sum[];
  verification: { ok: boolean; tables: (Sum & { ok: boolean; destination: Sum })[] };
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
  return idpJson(['store', 'copy', '--from', from, '--to', to, '--json'], { env: PG_ENV });
}

/** The sealing key of every org this file puts on PostgreSQL, given to the children that open one. */
const PG_KEY = randomBytes(32);
const PG_ENV = { IDP_SEAL_KEY: PG_KEY.toString('base64url'), IDP_SEAL_KEY_FILE: undefined, IDP_STORE: undefined };

const databases: string[] = [];

after(async () => {
  const names = databases.splice(0);
  if (names.length > 0)
    await admin(async (client) => {
      for (const name of names) await dropDatabase(client, name);
    });
});

/** A new empty database on the test server (its role may create them), dropped when the file's tests end: its URL. */
async function freshDatabase(): Promise<string> {
  const name = `idp_copy_${randomBytes(5).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  databases.push(name);
  const url = new URL(pgUrl());
  url.pathname = `/${name}`;
  return url.href;
}

/** Runs SQL on the database at `url` as the test role, outside idp. */
async function onDatabase<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Every table of a database (any schema but the system's) with its columns and every row: "nothing changed". */
async function databaseContents(url: string): Promise<string> {
  return onDatabase(url, async (client) => {
    const { rows: tables } = await client.query<{ schema: string; name: string; columns: string }>(
      `SELECT t.table_schema AS schema, t.table_name AS name,
              string_agg(c.column_name, ',' ORDER BY c.ordinal_position) AS columns
       FROM information_schema.tables t JOIN information_schema.columns c
         ON c.table_schema = t.table_schema AND c.table_name = t.table_name
       WHERE t.table_schema NOT IN ('pg_catalog', 'information_schema')
       GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const parts: string[] = [];
    for (const t of tables) {
      const { rows } = await client.query<{ n: string; digest: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS digest FROM "${t.schema}"."${t.name}" x`,
      );
      parts.push(`${t.schema}.${t.name}(${t.columns}) ${rows[0]!.n} ${rows[0]!.digest}`);
    }
    return parts.join('\n');
  });
}

/** A headless sign-in of alice to thrift, her TOTP code made from `secret`: the org at `where` works. */
async function aliceSignsIn(where: string[], secret: string): Promise<void> {
  const login = expectCode(
    await runIdp([...where, ...aliceLogin('--headless', '--totp-secret-env', 'ALICE_TOTP', '--json')], {
      input: 'thrift-demo',
      env: { ...PG_ENV, ALICE_TOTP: secret },
    }),
    0,
    `login against ${where.join(' ')}`,
  );
  const doc = JSON.parse(login.stdout) as { claims: { amr: string[] } };
  assert.ok(doc.claims.amr.includes('otp'), login.stdout);
}

function byTable(sums: Sum[]): Record<string, string> {
  return Object.fromEntries(sums.map((s) => [s.table, `${s.rows} ${s.checksum}`]));
}

function sealedTotp(home: string): string {
  const readonly = true; // looked at, never written
  const db = new Database(dbPath(home), { readonly });
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
  await aliceSignsIn(['--home', there], totpSecret);
  const list = await idpJson(['users', 'list', '--search', 'user9999@', '--json'], { home: there });
  assert.deepEqual(
    list.users.map((u: { username: string }) => u.username),
    ['user9999'],
  );
});

test('a copy into a store that holds an org is refused (exit 3) and leaves it as it was', async () => {
  const demo = await seededHome();
  const before = dbHash(demo);
  const r = expectCode(await runIdp(['store', 'copy', '--from', source, '--to', demo]), 3, 'copy onto the demo org');
  assert.match(r.stderr, /already holds an organisation/);
  assert.equal(dbHash(demo), before);
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

  const other = new Database(dbPath(there));
  // The name put back as imported; then a well-formed value under the destination's own key: only its plaintext
  // tells it apart.
  other.prepare("UPDATE users SET name = 'User 5000' WHERE username = 'user5000'").run();
  other
    .prepare("UPDATE mfa_factors SET secret_sealed = ? WHERE type = 'totp'")
    .run(seal(loadKey(join(there, SEAL_KEY_FILE)), 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'));
  other.close();
  const s = expectCode(await runIdp(['store', 'verify', '--from', source, '--to', there, '--json']), 9, 'verify');
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

test('to PostgreSQL and back: the same rows and checksums in every table, each secret sealed under the key of its side', async () => {
  const url = await freshDatabase();
  const out = await copy(source, url);
  assert.equal(out.verification.ok, true);
  assert.ok(out.rows > USERS);
  assert.equal(out.tables.find((t) => t.table === 'users')?.rows, USERS + 1);
  assert.deepEqual(byTable(out.verification.tables.map((t) => t.destination)), byTable(out.tables));
  const verified = await idpJson(['store', 'verify', '--from', source, '--to', url, '--json'], { env: PG_ENV });
  assert.equal(verified.ok, true);
  assert.deepEqual(byTable(verified.tables), byTable(out.tables));
  // The TOTP secret in the database opens with IDP_SEAL_KEY, not with the data directory's key file.
  const sealedThere = await onDatabase(url, async (client) => {
    const r = await client.query<{ s: string }>("SELECT secret_sealed AS s FROM mfa_factors WHERE type = 'totp'");
    return r.rows[0]!.s;
  });
  assert.equal(unseal(PG_KEY, sealedThere), totpSecret);
  assert.throws(() => unseal(loadKey(join(source, SEAL_KEY_FILE)), sealedThere));

  const back = fresh('pg-back');
  const returned = await copy(url, back);
  assert.equal(returned.verification.ok, true);
  // The database's sums are the original's, and the new directory's (read back by the copy) are too.
  assert.deepEqual(byTable(returned.tables), byTable(out.tables));
  assert.deepEqual(byTable(returned.verification.tables.map((t) => t.destination)), byTable(out.tables));
  assert.notDeepEqual(loadKey(join(back, SEAL_KEY_FILE)), loadKey(join(source, SEAL_KEY_FILE)));
  assert.equal(unseal(loadKey(join(back, SEAL_KEY_FILE)), sealedTotp(back)), totpSecret);

  // Both copies work (signing in changes them, so only once every checksum was compared).
  await aliceSignsIn(['--store', url], totpSecret);
  await aliceSignsIn(['--home', back], totpSecret);
  const list = await idpJson(['--store', url, 'users', 'list', '--search', 'user9999@', '--json'], { env: PG_ENV });
  assert.deepEqual(
    list.users.map((u: { username: string }) => u.username),
    ['user9999'],
  );
});

test('a copy into a PostgreSQL database that holds an org is refused (exit 3, STORE_NOT_EMPTY) and leaves it as it was', async () => {
  const url = await freshDatabase();
  await idpOk(['--store', url, 'init', '--quiet'], { env: PG_ENV });
  const before = await databaseContents(url);
  const r = expectCode(
    await runIdp(['store', 'copy', '--from', source, '--to', url, '--json'], { env: PG_ENV }),
    3,
    'copy into a database holding an org',
  );
  assert.equal(JSON.parse(r.stdout).error.code, 'STORE_NOT_EMPTY');
  assert.match(r.stderr, /already holds an organisation/);
  assert.equal(await databaseContents(url), before);
});

test('--dry-run into a blank PostgreSQL database prints the plan and creates nothing there, not even the schema', async () => {
  const url = await freshDatabase();
  const plan = await idpJson(['store', 'copy', '--from', source, '--to', url, '--dry-run', '--json'], { env: PG_ENV });
  assert.equal(plan.dryRun, true);
  assert.equal(plan.schemaVersion, SCHEMA_VERSION);
  assert.equal((plan.tables as Sum[]).find((t) => t.table === 'users')?.rows, USERS + 1);
  const left = await onDatabase(url, async (client) => {
    const tables = await client.query(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    const schemas = await client.query(
      "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT LIKE 'pg\\_%' AND schema_name <> 'information_schema'",
    );
    return { tables: tables.rows, schemas: schemas.rows.map((r) => r.schema_name) };
  });
  assert.deepEqual(left, { tables: [], schemas: ['public'] });

  // A database holding something else is refused by the dry run as the copy would refuse it, and left as it was.
  const other = await freshDatabase();
  await onDatabase(other, (client) => client.query('CREATE TABLE invoices (id INT PRIMARY KEY)'));
  const before = await databaseContents(other);
  const r = expectCode(
    await runIdp(['store', 'copy', '--from', source, '--to', other, '--dry-run'], { env: PG_ENV }),
    3,
    'dry run into a foreign database',
  );
  assert.match(r.stderr, /holds tables of something else \(invoices\)/);
  assert.equal(await databaseContents(other), before);
});

test('store migrate on PostgreSQL: nothing to do when up to date; --dry-run on an older schema changes nothing', async () => {
  const current = await freshDatabase();
  const made = await idpJson(['--store', current, 'store', 'migrate', '--json'], { env: PG_ENV });
  assert.deepEqual([made.from, made.to, made.migrated], [0, SCHEMA_VERSION, true]);
  const unchanged = await databaseContents(current);
  const up = await runIdp(['--store', current, 'store', 'migrate'], { env: PG_ENV });
  assert.equal(
    expectCode(up, 0, 'migrate when up to date').stdout.trim(),
    `${current}: schema ${SCHEMA_VERSION}, up to date`,
  );
  assert.equal(await databaseContents(current), unchanged);

  // A database at schema 7: the first seven PostgreSQL migrations, as an idp of that release left it.
  const old = await freshDatabase();
  await onDatabase(old, async (client) => {
    for (const step of PG_MIGRATIONS.slice(0, 7)) await client.query(step);
    await client.query(`CREATE TABLE ${VERSION_TABLE} (version BIGINT NOT NULL)`);
    await client.query(`INSERT INTO ${VERSION_TABLE} (version) VALUES (7)`);
  });
  const before = await databaseContents(old);
  const dry = await idpJson(['--store', old, 'store', 'migrate', '--dry-run', '--json'], { env: PG_ENV });
  assert.deepEqual([dry.from, dry.to, dry.migrated, dry.dryRun], [7, SCHEMA_VERSION, false, true]);
  assert.equal(await databaseContents(old), before);

  // A copy into it is refused, with the migrate command for that database as the fix, and writes nothing.
  const r = expectCode(
    await runIdp(['store', 'copy', '--from', source, '--to', old], { env: PG_ENV }),
    3,
    'copy into schema 7',
  );
  assert.match(r.stderr, /schema 7/);
  assert.ok(r.stderr.includes(`hint: migrate the older one first: idp --store ${old} store migrate`), r.stderr);
  assert.equal(await databaseContents(old), before);

  const done = await idpJson(['--store', old, 'store', 'migrate', '--json'], { env: PG_ENV });
  assert.deepEqual([done.from, done.to, done.migrated], [7, SCHEMA_VERSION, true]);
  const plan = await idpJson(['store', 'copy', '--from', source, '--to', old, '--dry-run', '--json'], { env: PG_ENV });
  assert.equal(plan.schemaVersion, SCHEMA_VERSION);
});

test('a store URL holding a password is refused (exit 2) without printing the password', async () => {
  const url = 'postgres://idp:hunter2@127.0.0.1:5432/idp';
  for (const args of [
    ['store', 'copy', '--from', url, '--to', fresh('never'), '--json'],
    ['--store', url, 'store', 'migrate', '--dry-run'],
  ]) {
    const r = expectCode(await runIdp(args, { env: PG_ENV }), 2, args.join(' '));
    assert.match(r.stderr, /carries a password/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
  }
});
