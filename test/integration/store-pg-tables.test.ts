// The PostgreSQL store's tables against SQLite's, and its table-level port (StoreTables) and bulk import: the same
// tables, columns and keys as SQLite at the same schema version; an org read out and loaded into an empty store
// comes back cell for cell; a load or an import that fails leaves nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { IdpError } from '../../src/core/errors.js';
import { parseUserFile } from '../../src/core/user-records.js';
import type { Row, TableInfo } from '../../src/ports/store-tables.js';
import type { Store } from '../../src/ports.js';
import { openDb, prepareHome } from '../../src/store/db.js';
import { SCHEMA_VERSION as SQLITE_VERSION } from '../../src/store/migrations.js';
import { importUsers } from '../../src/store-pg/import.js';
import { SCHEMA_VERSION } from '../../src/store-pg/migrations.js';
import type { PgStore } from '../../src/store-pg/store.js';
import { tempDir } from '../helpers/idp.js';
import { dropSchemas, freshPgStore } from '../helpers/pg.js';
import { addGithub } from '../helpers/store-rows.js';

after(dropSchemas);

test('PostgreSQL holds the tables, columns (in order) and keys SQLite does, at the same schema version', async () => {
  assert.equal(SCHEMA_VERSION, SQLITE_VERSION, 'migrations for both engines are numbered together');
  const home = join(tempDir('parity'), 'org');
  prepareHome(home);
  const db = openDb(home);
  let sqlite: { name: string; columns: string[]; key: string[] }[];
  try {
    const names = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    sqlite = names.map((name) => {
      const info = db.prepare(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`).all(name) as {
        name: string;
        pk: number;
      }[];
      const key = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      return { name, columns: info.map((c) => c.name), key: key.map((c) => c.name) };
    });
  } finally {
    db.close();
  }
  const store = await freshPgStore();
  try {
    const pg = (await store.tables())
      .map(({ name, columns, key }) => ({ name, columns, key }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(pg, sqlite);
  } finally {
    await store.close();
  }
});

/** An org with a row in every table, sealed values among them. */
async function fillOrg(store: Store): Promise<void> {
  await store.org.setSetting('org_id', 'abc');
  await store.org.addSigningKey({
    kid: 'k1',
    alg: 'ES256',
    publicJwk: { kty: 'EC' },
    privateJwk: { kty: 'EC', d: 'private' },
    createdAt: '2030-01-01T00:00:00.000Z',
  });
  await store.apps.insert({
    name: 'web',
    clientId: 'c-web',
    type: 'web',
    clientSecret: 'app-secret',
    redirectUris: ['http://localhost/cb'],
    steps: [['password', 'github']],
    attributes: ['email'],
  });
  await addGithub(store, { secret: { kind: 'value', value: 'gh-secret-1234' }, scopes: ['read:user'] });
  for (let i = 0; i < 1500; i++)
    await store.users.insert({
      username: `user${String(i).padStart(4, '0')}${i % 3 ? '' : 'X'}`,
      email: null,
      emailVerified: false,
      source: 'local',
    });
  const u = await store.users.insert({
    username: 'Zoë',
    email: 'zoe@example.test',
    emailVerified: true,
    source: 'github',
  });
  await store.associations.insert({ connection: 'github', subject: '7', userId: u.id, claims: { login: 'zoe' } });
  await store.factors.addTotp(u.id, store.seal('TOTPSECRET'), 3);
  await store.passkeys.add(u.id, {
    credentialId: 'cred',
    publicKey: 'pk',
    counter: 2,
    transports: ['usb'],
    aaguid: 'g',
    name: 'key',
    software: false,
  });
  await store.passkeys.holdChallenge(u.id, { challenge: 'c', origin: 'o', expiresAt: '2999-01-01T00:00:00.000Z' });
  await store.flows.insert('f1', 'web', { chosen: ['github'] });
  await store.codes.issue('f1', u.id, 'zoe@example.test', 'hash', '2999-01-01T00:00:00.000Z');
  await store.codes.deliver({ to: 'zoe@example.test', subject: 's', body: 'b', flow: 'f1' });
  await store.events.recordStage({
    at: '2030-01-01T00:00:00.000Z',
    flow: 'f1',
    seq: 1,
    stage: 'app',
    status: 'ok',
    ms: 0.25,
    detail: 'd',
  });
  await store.events.recordConfig({ actor: 'a', action: 'x', target: 't', detail: 'd', before: null, after: { n: 1 } });
  await store.oidc.upsert('Session', 's1', { uid: 'u' }, 2_000_000_000);
}

async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** What `idp store copy` compares per table: the row count and a hash of every cell in column order. */
async function checksum(store: PgStore, table: TableInfo): Promise<{ rows: number; sha256: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const row of store.rows(table.name)) {
    rows++;
    hash.update(JSON.stringify(table.columns.map((c) => row[c])));
  }
  return { rows, sha256: hash.digest('hex') };
}

test('StoreTables: an org read out table by table and loaded into an empty store comes back cell for cell', async () => {
  const sealKey = randomBytes(32);
  const source = await freshPgStore({ sealKey });
  const target = await freshPgStore({ sealKey });
  try {
    await fillOrg(source);
    assert.equal(await source.schemaVersion(), SCHEMA_VERSION);
    assert.equal(await source.isEmpty(), false);
    assert.equal(await target.isEmpty(), true);
    const tables = await source.tables();
    const order = tables.map((t) => t.name);
    for (const [parent, child] of [
      ['users', 'associations'],
      ['connections', 'associations'],
      ['flows', 'one_time_codes'],
      ['users', 'passkeys'],
    ])
      assert.ok(order.indexOf(parent!) < order.indexOf(child!), `${parent} before ${child}`);
    assert.deepEqual(tables.find((t) => t.name === 'associations')!.key, ['connection', 'subject']);
    assert.deepEqual(tables.find((t) => t.name === 'apps')!.sealed, ['client_secret_sealed']);
    assert.deepEqual(tables.find((t) => t.name === 'signing_keys')!.sealed, ['private_sealed']);
    assert.ok(!order.includes('schema_version'), 'the version is not org data');

    const users = await collect(source.rows('users'));
    assert.equal(users.length, 1501, 'more than one batch');
    const ids = users.map((u) => u.id as string);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)),
      'key order, bytewise',
    );
    for (const row of users)
      for (const cell of Object.values(row)) assert.ok(cell === null || ['string', 'number'].includes(typeof cell));
    const [event] = await collect(source.rows('events'));
    assert.equal(event!.ms, 0.25);
    assert.equal(typeof event!.id, 'number');

    await target.load(tables.map((t) => ({ table: t.name, rows: source.rows(t.name) })));
    for (const table of tables)
      assert.deepEqual(await checksum(target, table), await checksum(source, table), table.name);
    assert.equal(await target.isEmpty(), false);
    assert.equal(await target.apps.clientSecret('web'), 'app-secret');
    assert.equal((await target.users.find('zoë'))?.username, 'Zoë', 'indexes came with the schema');
    await target.events.recordConfig({
      actor: 'a',
      action: 'y',
      target: 't',
      detail: 'after',
      before: null,
      after: null,
    });
    const [newest] = await target.events.list({ limit: 1 });
    assert.equal(newest!.detail, 'after');
    assert.ok(newest!.id > (event!.id as number) + 1, 'new ids continue after the loaded ones');
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
});

test('StoreTables: a load that fails part-way leaves the destination empty', async () => {
  const source = await freshPgStore();
  const target = await freshPgStore();
  try {
    await fillOrg(source);
    const tables = await source.tables();
    async function* failing(table: string): AsyncIterable<Row> {
      yield* source.rows(table);
      if (table === 'passkeys') throw new Error('the source went away');
    }
    await assert.rejects(
      () => target.load(tables.map((t) => ({ table: t.name, rows: failing(t.name) }))),
      /the source went away/,
    );
    assert.equal(await target.isEmpty(), true);
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
});

test('importUsers on PostgreSQL: links, factors and passkeys come along in one unit, and an event records it', async () => {
  const store = await freshPgStore();
  try {
    await addGithub(store);
    const lines = [
      { username: 'ann', email: 'ann@example.test', associations: [{ connection: 'github', subject: '1' }] },
      {
        username: 'ben',
        mfa: [{ type: 'totp', secret_sealed: store.seal('S'), confirmed_at: '2030-01-01T00:00:00Z' }, { type: 'totp' }],
      },
      {
        username: 'cat',
        passkeys: [
          { credential_id: 'Y3JlZA', public_key: 'cGs', aaguid: '00000000-0000-4000-8000-000000000000', name: 'k' },
        ],
      },
      ...Array.from({ length: 5000 }, (_, i) => ({ username: `bulk${i}` })),
    ];
    const records = parseUserFile(lines.map((l) => JSON.stringify(l)).join('\n'), 'people.jsonl');
    const result = await importUsers(store, records, 'people.jsonl', 'me');
    assert.deepEqual(result, {
      imported: 5003,
      associations: 1,
      factors: 1,
      passkeys: 1,
      mfaToEnrol: ['ben'],
      passwordToSet: [],
    });
    assert.equal(await store.users.count(), 5003);
    const ann = (await store.users.find('ANN'))!;
    assert.equal((await store.associations.get('github', '1'))!.userId, ann.id);
    const ben = (await store.users.find('ben'))!;
    assert.equal(store.unseal((await store.factors.totpFor(ben.id))!.secretSealed), 'S');
    assert.equal((await store.passkeys.byCredential('Y3JlZA'))!.name, 'k');
    const [event] = await store.events.list({ limit: 1 });
    assert.equal(event!.action, 'users.import');
  } finally {
    await store.close();
  }
});

test('importUsers on PostgreSQL is all or nothing and names the line of the first conflicting record', async () => {
  const store = await freshPgStore();
  try {
    await store.users.insert({
      username: 'existing',
      email: 'existing@example.test',
      emailVerified: true,
      source: 'local',
    });
    const refused = async (text: string, file: string, message: RegExp) =>
      assert.rejects(
        () => importUsers(store, parseUserFile(text, file), file, 'me'),
        (err: unknown) => err instanceof IdpError && err.code === 'IMPORT_INVALID' && message.test(err.message),
      );
    await refused(
      'username,email\nnew1,n1@example.test\nnew2,n2@example.test\nNEW1,other@example.test\n',
      'people.csv',
      /^people\.csv:4: username NEW1 already exists/,
    );
    await refused(
      '[\n {"username": "new3"},\n {"username": "x", "email": "EXISTING@example.test"}\n]',
      'p.json',
      /^p\.json:3: email EXISTING@example\.test already exists/,
    );
    await refused(
      'username,email\nok1,ok1@example.test\nbob@example.test,eve@example.test\n',
      'p.csv',
      /username 'bob@example\.test' looks like an email address/,
    );
    assert.equal(await store.users.count(), 1);
    assert.deepEqual(await store.events.list({ limit: 10 }), [], 'no import event either');
    assert.equal((await importUsers(store, parseUserFile('username\nn1\nn2\n', 'ok.csv'), 'ok.csv', 'me')).imported, 2);
    assert.equal(await store.users.count(), 3);
  } finally {
    await store.close();
  }
});
