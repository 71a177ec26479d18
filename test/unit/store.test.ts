// The SQLite store in-process: where the data directory is, file modes, pragmas, identity and version checks that
// leave foreign files untouched, migrations in one transaction, repository round trips, keyset pages and rollback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IdpError } from '../../src/core/errors.js';
import { parseUserFile } from '../../src/core/user-records.js';
import { resolveHome } from '../../src/cli/context.js';
import { dbPath, openDb, prepareHome } from '../../src/store/db.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { importUsers } from '../../src/store/import.js';
import { openStore, openStoreReadOnly, SEAL_KEY_FILE, type SqliteStore as Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/idp.js';
import { hintOf } from '../helpers/hints.js';
import { downgradeTo7 } from '../helpers/migrations.js';

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function newStore(): Store {
  const home = join(tempDir('store'), 'org');
  prepareHome(home);
  return openStore(home);
}

async function addUsers(store: Store, usernames: string[], source = 'local'): Promise<void> {
  await store.tx(async (tx) => {
    for (const username of usernames)
      await tx.users.insert({ username, email: `${username.toLowerCase()}@example.test`, emailVerified: true, source });
  });
}

/** Walks every page of `users list` and returns the usernames in the order they came. */
async function walk(store: Store, query: { limit: number; search?: string; source?: string }): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.users.list(after === undefined ? query : { ...query, after });
    assert.ok(page.users.length <= query.limit);
    seen.push(...page.users.map((u) => u.username));
    if (page.next === null) return seen;
    after = page.next;
  }
  assert.fail('pagination did not end');
}

/** An idp-looking file that a failed open must not change: its hash and the directory listing. */
function fingerprint(home: string): string {
  return `${sha256(dbPath(home))} ${readdirSync(home).sort().join(',')}`;
}

function assertRefused(home: string, code: 'DB_NEWER' | 'DB_NOT_IDP'): void {
  const before = fingerprint(home);
  assert.throws(
    () => openDb(home),
    (err: unknown) =>
      err instanceof IdpError && err.code === code && err.exitCode === 3 && /untouched/.test(hintOf(err)),
  );
  assert.equal(fingerprint(home), before, 'the file must be left exactly as it was');
}

test('the data directory comes from --home, then IDP_HOME, then XDG_DATA_HOME/idp, then ~/.local/share/idp', () => {
  const env = { IDP_HOME: '/srv/idp-home', XDG_DATA_HOME: '/srv/xdg' };
  assert.equal(resolveHome('/srv/flag', env), '/srv/flag');
  assert.equal(resolveHome(undefined, env), '/srv/idp-home');
  assert.equal(resolveHome(undefined, { XDG_DATA_HOME: '/srv/xdg' }), '/srv/xdg/idp');
  assert.equal(resolveHome(undefined, {}), join(homedir(), '.local', 'share', 'idp'));
  assert.equal(resolveHome('relative/dir', {}), join(process.cwd(), 'relative', 'dir'));
});

test('prepareHome makes a 0700 directory and a 0600 database, whatever the umask; -wal and -shm are 0600 while open', async () => {
  const previous = process.umask(0);
  try {
    const home = join(tempDir('modes'), 'nested', 'org');
    prepareHome(home);
    assert.equal(mode(home), 0o700);
    assert.equal(mode(dbPath(home)), 0o600);
    const store = openStore(home);
    try {
      await store.org.setSetting('probe', 'x');
      store.seal('touch the key file');
      for (const suffix of ['-wal', '-shm']) {
        assert.ok(existsSync(dbPath(home) + suffix), `${suffix} exists while open`);
        assert.equal(mode(dbPath(home) + suffix), 0o600, `${suffix} mode`);
      }
      assert.equal(mode(join(home, SEAL_KEY_FILE)), 0o600);
    } finally {
      store.close();
    }
  } finally {
    process.umask(previous);
  }
});

test('openDb turns on WAL, synchronous=NORMAL, foreign keys and a busy timeout, and marks the file as an idp database of the current schema', () => {
  const store = newStore();
  try {
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('synchronous', { simple: true }), 1);
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(store.db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(store.db.pragma('application_id', { simple: true }), APPLICATION_ID);
  } finally {
    store.close();
  }
});

test('a database from a newer idp is refused with exit 3 and left untouched', () => {
  const home = join(tempDir('newer'), 'org');
  prepareHome(home);
  const db = new Database(dbPath(home));
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.exec('CREATE TABLE future (x)');
  db.close();
  assertRefused(home, 'DB_NEWER');
});

test('random bytes are not an idp database: exit 3, file untouched', () => {
  const home = tempDir('random');
  writeFileSync(dbPath(home), randomBytes(8192));
  assertRefused(home, 'DB_NOT_IDP');
});

test("another application's SQLite database is refused and left untouched", () => {
  const home = tempDir('foreign');
  const db = new Database(dbPath(home));
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
  db.close();
  assertRefused(home, 'DB_NOT_IDP');
  const other = tempDir('foreign-id');
  const tagged = new Database(dbPath(other));
  tagged.pragma('application_id = 1234'); // a different application's marker, even with no tables
  tagged.close();
  assertRefused(other, 'DB_NOT_IDP');
});

test('a migration runs in one transaction: when it fails half way, nothing of it stays and user_version is unchanged', () => {
  const home = join(tempDir('migrate'), 'org');
  prepareHome(home);
  const db = new Database(dbPath(home));
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.exec('CREATE TABLE apps (clash INTEGER)'); // migration 1 creates org_settings first, then fails on apps
  db.close();
  assert.throws(() => openDb(home), /apps already exists/);
  const check = new Database(dbPath(home), { fileMustExist: true });
  try {
    assert.equal(check.pragma('user_version', { simple: true }), 0);
    const tables = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['apps']);
  } finally {
    check.close();
  }
});

test('reopening an up-to-date database migrates nothing and keeps its data', async () => {
  const store = newStore();
  await store.org.setSetting('org_id', 'abc');
  store.close();
  const again = openStore(store.home);
  try {
    assert.equal(await again.org.setting('org_id'), 'abc');
    assert.equal(again.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  } finally {
    again.close();
  }
});

test('apps, connections (sealed secrets), users, associations and events round-trip through their repositories', async () => {
  const store = newStore();
  try {
    await store.apps.insert({
      name: 'shop',
      clientId: 'cid-shop',
      redirectUris: ['http://localhost:3000/cb'],
      steps: [['password', 'github'], ['totp']],
      attributes: ['email'],
    });
    await store.apps.update('shop', { steps: [['password']] });
    const app = (await store.apps.get('shop'))!;
    assert.deepEqual(
      [app.clientId, app.redirectUris, app.steps, app.attributes, app.builtIn, app.script],
      ['cid-shop', ['http://localhost:3000/cb'], [['password']], ['email'], false, null],
    );

    const jit = { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' } as const;
    const base = {
      type: 'github' as const,
      sandbox: true,
      issuer: null,
      clientId: 'id',
      scopes: ['read:user'],
      jit,
      attributeMap: {},
    };
    await store.connections.insert({
      ...base,
      name: 'long',
      secret: { kind: 'value', value: 'a-long-client-secret-WXYZ' },
    });
    await store.connections.insert({ ...base, name: 'short', secret: { kind: 'value', value: 'tiny' } });
    await store.connections.insert({ ...base, name: 'env', secret: { kind: 'env', variable: 'GH_SECRET' } });
    assert.deepEqual((await store.connections.get('long'))!.secret, { kind: 'stored', last4: 'WXYZ' });
    assert.deepEqual(
      (await store.connections.get('short'))!.secret,
      { kind: 'stored', last4: '' },
      'a short secret shows no tail',
    );
    assert.deepEqual((await store.connections.get('env'))!.secret, { kind: 'env', variable: 'GH_SECRET' });
    assert.equal(await store.connections.storedSecret('long'), 'a-long-client-secret-WXYZ');
    assert.equal(await store.connections.storedSecret('env'), null);
    const sealed = store.db
      .prepare("SELECT secret_sealed FROM connections WHERE name = 'long'")
      .pluck()
      .get() as string;
    assert.ok(!sealed.includes('client-secret'), 'sealed at rest');
    await store.connections.update('long', { jit: { ...jit, enabled: false }, attributeMap: { login: 'nickname' } });
    const long = (await store.connections.get('long'))!;
    assert.equal(long.jit.enabled, false);
    assert.equal(long.jit.scheme, 'silent');
    assert.deepEqual(long.attributeMap, { login: 'nickname' });
    assert.equal(
      await store.connections.storedSecret('long'),
      'a-long-client-secret-WXYZ',
      'an update without a secret keeps it',
    );

    const user = await store.users.insert({
      username: 'Bob',
      email: 'Bob@Example.test',
      emailVerified: true,
      name: 'Bob B',
      attributes: { dept: 'ops' },
      source: 'local',
    });
    for (const ref of [user.id, 'bob', 'BOB', 'bob@example.test'])
      assert.equal((await store.users.find(ref))?.id, user.id, `find(${ref})`);
    await store.users.updateProfile(user.id, { name: 'Robert', attributes: { dept: 'finance' } });
    await store.users.setStatus(user.id, 'locked');
    const changed = (await store.users.byId(user.id))!;
    assert.deepEqual(
      [changed.name, changed.attributes, changed.status, changed.hasPassword],
      ['Robert', { dept: 'finance' }, 'locked', false],
    );

    await store.associations.insert({ connection: 'long', subject: '42', userId: user.id, claims: { login: 'bob' } });
    assert.equal((await store.associations.get('long', '42'))?.userId, user.id);
    assert.deepEqual(
      (await store.associations.forUser(user.id)).map((a) => a.lastClaims),
      [{ login: 'bob' }],
    );

    await store.events.recordConfig({
      actor: 'me',
      action: 'app.set',
      target: 'app shop',
      detail: 'steps',
      before: { a: 1 },
      after: { a: 2 },
    });
    for (const seq of [2, 1])
      await store.events.recordStage({
        flow: 'f_1',
        seq,
        stage: seq === 1 ? 'app' : 'options',
        status: 'ok',
        ms: 1,
        detail: `s${seq}`,
        at: new Date().toISOString(),
      });
    assert.deepEqual(
      (await store.events.list({ flow: 'f_1', limit: 10 })).map((e) => e.stage),
      ['app', 'options'],
      "a flow's stages come in seq order",
    );
    const newest = await store.events.list({ limit: 10 });
    assert.equal(newest.length, 3);
    const config = newest.find((e) => e.kind === 'config')!;
    assert.deepEqual([config.before, config.after], [{ a: 1 }, { a: 2 }]);
  } finally {
    store.close();
  }
});

test('signingKey(alg) is the newest active key of that algorithm, and the only private half a login unseals', async () => {
  const store = newStore();
  try {
    const key = (kid: string, alg: 'RS256' | 'ES256', createdAt: string) => ({
      kid,
      alg,
      privateJwk: { kty: 'oct', k: kid },
      publicJwk: { kty: 'oct' },
      createdAt,
    });
    await store.tx(async (tx) => {
      await tx.org.addSigningKey(key('rs-old', 'RS256', '2026-01-01T00:00:00.000Z'));
      await tx.org.addSigningKey(key('es', 'ES256', '2026-01-02T00:00:00.000Z'));
      await tx.org.addSigningKey(key('rs-new', 'RS256', '2026-01-03T00:00:00.000Z'));
    });
    let unsealed = 0;
    const unseal = store.unseal.bind(store);
    store.unseal = (sealed) => {
      unsealed++;
      return unseal(sealed);
    };
    const rs = await store.org.signingKey('RS256');
    assert.equal(unsealed, 1);
    assert.deepEqual(rs, (await store.org.signingKeys())[0]);
    assert.deepEqual(rs?.privateJwk, { kty: 'oct', k: 'rs-new' });
    assert.equal((await store.org.signingKey('ES256'))?.kid, 'es');
  } finally {
    store.close();
  }
});

test('deleting a user cascades to associations and MFA factors; deleting a connection cascades to its associations', async () => {
  const store = newStore();
  try {
    const jit = { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' } as const;
    await store.connections.insert({
      name: 'gh',
      type: 'github',
      sandbox: true,
      issuer: null,
      clientId: 'id',
      secret: { kind: 'none' },
      scopes: [],
      jit,
      attributeMap: {},
    });
    const [carol, dave] = await Promise.all(
      ['carol', 'dave'].map((u) =>
        store.users.insert({ username: u, email: null, emailVerified: false, source: 'gh' }),
      ),
    );
    await store.associations.insert({ connection: 'gh', subject: '1', userId: carol!.id, claims: {} });
    await store.associations.insert({ connection: 'gh', subject: '2', userId: dave!.id, claims: {} });
    store.db
      .prepare(
        "INSERT INTO mfa_factors (id, user_id, type, secret_sealed, created_at) VALUES ('f1', ?, 'totp', 'x', 'now')",
      )
      .run(carol!.id);
    await store.users.delete(carol!.id);
    assert.equal(await store.associations.get('gh', '1'), undefined);
    assert.deepEqual(await store.factors.forUser(carol!.id), []);
    assert.equal(store.db.prepare('SELECT count(*) FROM mfa_factors').pluck().get(), 0);
    await store.connections.delete('gh');
    assert.equal(await store.associations.countForConnection('gh'), 0);
    assert.ok(await store.users.byId(dave!.id), 'provisioned users stay when their connection goes');
  } finally {
    store.close();
  }
});

test('keyset pagination visits every user exactly once, in username order, for any page size', async () => {
  const store = newStore();
  try {
    // Mixed case, shared prefixes and punctuation: the cursor must follow the same (NOCASE) order as the query.
    const names = Array.from(
      { length: 230 },
      (_, i) => `${i % 3 === 0 ? 'User' : 'user'}${String(i).padStart(3, '0')}${['', '.x', '_y', '-z'][i % 4]}`,
    );
    names.push('a', 'A.b', 'zz', 'Zz.top', 'user', 'user0');
    await addUsers(store, names);
    const sorted = store.db.prepare('SELECT username FROM users ORDER BY username').pluck().all() as string[];
    for (const limit of [1, 7, 50, 1000]) {
      const seen = await walk(store, { limit });
      assert.equal(new Set(seen).size, seen.length, `no duplicates at limit ${limit}`);
      assert.deepEqual(seen, sorted, `every user, in order, at limit ${limit}`);
    }
  } finally {
    store.close();
  }
});

test('pagination combines with --search (LIKE wildcards taken literally) and --source', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['ann', 'a_n', 'a%n', 'bob', 'bobby'], 'local');
    await addUsers(store, ['gh-ann', 'gh-bob'], 'github');
    assert.deepEqual(await walk(store, { limit: 1, search: '_' }), ['a_n']);
    assert.deepEqual(await walk(store, { limit: 1, search: '%' }), ['a%n']);
    assert.deepEqual(await walk(store, { limit: 2, search: 'bob' }), ['bob', 'bobby', 'gh-bob']);
    assert.deepEqual(await walk(store, { limit: 1, source: 'github' }), ['gh-ann', 'gh-bob']);
    assert.deepEqual(await walk(store, { limit: 1, source: 'github', search: 'ann' }), ['gh-ann']);
  } finally {
    store.close();
  }
});

test('a page cursor stays valid when users are added behind and ahead of it', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['b', 'd', 'f', 'h']);
    const first = await store.users.list({ limit: 2 });
    assert.deepEqual(
      first.users.map((u) => u.username),
      ['b', 'd'],
    );
    await addUsers(store, ['a', 'c', 'g']);
    const rest = await store.users.list({ limit: 10, after: first.next! });
    assert.deepEqual(
      rest.users.map((u) => u.username),
      ['f', 'g', 'h'],
    );
    assert.equal(rest.next, null);
  } finally {
    store.close();
  }
});

test('a statement is prepared once per SQL text, and reused in the default mode whatever its last use set', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['ann', 'bob']);
    const sql = 'SELECT username FROM users ORDER BY username';
    assert.equal(store.db.prepare(sql), store.db.prepare(sql), 'one statement for one SQL text');
    assert.deepEqual(store.db.prepare(sql).pluck().all(), ['ann', 'bob']);
    assert.deepEqual(store.db.prepare(sql).all(), [{ username: 'ann' }, { username: 'bob' }]);
    assert.deepEqual(store.db.prepare(sql).raw().get(), ['ann']);
    assert.deepEqual(store.db.prepare(sql).get(), { username: 'ann' });
    assert.deepEqual(store.db.prepare(sql).expand().get(), { users: { username: 'ann' } });
    assert.deepEqual(store.db.prepare(sql).get(), { username: 'ann' });
  } finally {
    store.close();
  }
});

test('a statement still being iterated is not reused: the same query inside the loop gets its own', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['ann', 'bob', 'cy']);
    const sql = 'SELECT username FROM users ORDER BY username';
    const pairs: string[] = [];
    for (const outer of store.db.prepare(sql).pluck().iterate() as IterableIterator<string>)
      pairs.push(`${outer}:${(store.db.prepare(sql).pluck().all() as string[]).join(',')}`);
    assert.deepEqual(pairs, ['ann:ann,bob,cy', 'bob:ann,bob,cy', 'cy:ann,bob,cy']);
    assert.equal(store.db.prepare(sql).all().length, 3, 'the first statement is free again once its iteration ends');
  } finally {
    store.close();
  }
});

test('tx rolls back everything when its function throws', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['keep']);
    await assert.rejects(
      store.tx(async (tx) => {
        await tx.users.insert({ username: 'lost', email: null, emailVerified: false, source: 'local' });
        await tx.events.recordConfig({ actor: 'me', action: 'x', target: 'y', detail: 'z', before: null, after: null });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.users.count(), 1);
    assert.equal(await store.users.find('lost'), undefined);
    assert.deepEqual(await store.events.list({ limit: 10 }), []);
  } finally {
    store.close();
  }
});

test("an import runs with its own page cache and checkpointing, and leaves the connection's settings as they were", async () => {
  const store = newStore();
  try {
    const settings = () => [
      store.db.pragma('cache_size', { simple: true }),
      store.db.pragma('wal_autocheckpoint', { simple: true }),
    ];
    const before = settings();
    await importUsers(store, parseUserFile('username\nann\n', 'ok.csv'), 'ok.csv', 'me');
    assert.deepEqual(settings(), before);
    await assert.rejects(
      async () => importUsers(store, parseUserFile('username\nann\n', 'again.csv'), 'again.csv', 'me'),
      /already exists/,
    );
    assert.deepEqual(settings(), before, 'a failed import restores them too');
  } finally {
    store.close();
  }
});

test('importUsers is all or nothing and names the line of the first conflicting record', async () => {
  const store = newStore();
  try {
    await addUsers(store, ['existing']);
    const dupInFile = parseUserFile(
      'username,email\nnew1,n1@example.test\nnew2,n2@example.test\nNEW1,other@example.test\n',
      'people.csv',
    );
    await assert.rejects(
      async () => importUsers(store, dupInFile, 'people.csv', 'me'),
      (err: unknown) =>
        err instanceof IdpError &&
        err.code === 'IMPORT_INVALID' &&
        err.message.startsWith('people.csv:4:') &&
        /username NEW1/.test(err.message),
    );
    const clashStore = parseUserFile(
      '[\n {"username": "new3"},\n {"username": "x", "email": "EXISTING@example.test"}\n]',
      'p.json',
    );
    await assert.rejects(
      async () => importUsers(store, clashStore, 'p.json', 'me'),
      /p\.json:3: email EXISTING@example\.test already exists/,
    );
    assert.equal(await store.users.count(), 1);
    assert.deepEqual(await store.events.list({ limit: 10 }), [], 'no import event either');
    assert.equal((await importUsers(store, parseUserFile('username\nn1\nn2\n', 'ok.csv'), 'ok.csv', 'me')).imported, 2);
    assert.equal(await store.users.count(), 3);
    assert.equal((await store.events.list({ limit: 10 }))[0]?.action, 'users.import');
  } finally {
    store.close();
  }
});

test('a store opened read-only neither migrates nor writes', async () => {
  const home = join(tempDir('readonly'), 'org');
  prepareHome(home);
  const before = sha256(dbPath(home));
  const store = openStoreReadOnly(home);
  try {
    await assert.rejects(async () => store.users.count(), /no such table/);
  } finally {
    store.close();
  }
  assert.equal(sha256(dbPath(home)), before);
});

/** Turns a store back into schema 5: no identifier triggers, no MFA failure count. */
function downgradeTo5(store: Store): void {
  downgradeTo7(store.db);
  store.db.exec('ALTER TABLE connections DROP COLUMN token_auth; ALTER TABLE connections DROP COLUMN base_url'); // 7
  store.db.exec(
    'DROP TRIGGER users_email_username_insert; DROP TRIGGER users_email_username_update; ALTER TABLE users DROP COLUMN mfa_failures',
  );
  store.db.pragma('user_version = 5');
}

test("one identifier, one account: id, else username, else email; a username with an @ must be the user's own email", async () => {
  const store = newStore();
  try {
    const alice = await store.users.insert({
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      source: 'local',
    });
    const dana = await store.users.insert({
      username: 'Dana@Example.com',
      email: 'dana@example.com',
      emailVerified: true,
      source: 'local',
    });
    assert.equal((await store.users.find(alice.id))?.id, alice.id);
    assert.equal((await store.users.find('ALICE@example.com'))?.id, alice.id);
    assert.equal((await store.users.find('dana@example.com'))?.id, dana.id);
    // Every way a row could make an address name a second account is refused by the store itself.
    const refused = (write: () => Promise<unknown>) =>
      assert.rejects(
        write,
        (err: IdpError) =>
          err.code === 'INVALID_VALUE' && /username with an @ must be the user's own email/.test(err.message),
      );
    await refused(async () =>
      store.users.insert({
        username: 'alice@example.com',
        email: 'evil@example.com',
        emailVerified: true,
        source: 'github',
      }),
    );
    await refused(async () =>
      store.users.insert({ username: 'evil@example.com', email: null, emailVerified: false, source: 'github' }),
    );
    await refused(async () => store.users.updateProfile(dana.id, { email: 'other@example.com' }));
    assert.equal(await store.users.count(), 2);
    assert.equal(await store.users.identifierTaken('ALICE@EXAMPLE.COM'), true);
    assert.equal(await store.users.identifierTaken(alice.id), true);
    assert.equal(await store.users.identifierTaken('nobody'), false);
  } finally {
    store.close();
  }
});

test("migration 6 renames a username stored earlier as another user's email (with an event), so the address names its owner", async () => {
  const store = newStore();
  const alice = await store.users.insert({
    username: 'alice',
    email: 'alice@example.com',
    emailVerified: true,
    source: 'local',
  });
  downgradeTo5(store);
  const impostor = await store.users.insert({
    username: 'alice@example.com',
    email: 'evil@example.com',
    emailVerified: true,
    source: 'github',
  });
  store.close();
  const again = openStore(store.home);
  try {
    assert.equal(again.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal((await again.users.byId(impostor.id))?.username, 'alice-2');
    assert.equal((await again.users.find('alice@example.com'))?.id, alice.id);
    const [event] = (await again.events.list({ limit: 10 })).filter((e) => e.action === 'users.rename');
    assert.match(event?.detail ?? '', /renamed user alice@example\.com to alice-2/);
  } finally {
    again.close();
  }
});

test('a bulk import checks the username rule once over the table, and leaves the store guarding it row by row', async () => {
  const store = newStore();
  try {
    // The import use case refuses such a record first; the store refuses it too, on its own.
    const broken = parseUserFile('username,email\nok1,ok1@example.test\nbob@example.test,eve@example.test\n', 'p.csv');
    await assert.rejects(
      async () => importUsers(store, broken, 'p.csv', 'me'),
      (err: unknown) =>
        err instanceof IdpError && err.code === 'IMPORT_INVALID' && /bob@example\.test/.test(err.message),
    );
    assert.equal(await store.users.count(), 0, 'nothing was imported');
    await importUsers(store, parseUserFile('username,email\nok2,ok2@example.test\n', 'q.csv'), 'q.csv', 'me');
    assert.equal(await store.users.count(), 1);
    await assert.rejects(
      async () =>
        store.users.insert({
          username: 'carol@example.test',
          email: 'mallory@example.test',
          emailVerified: false,
          source: 'local',
        }),
      /a username with an @ must be the user's own email/,
      'the per-row guard is back after the import',
    );
  } finally {
    store.close();
  }
});
