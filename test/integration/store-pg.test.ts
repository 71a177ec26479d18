// The PostgreSQL store against a real server, where several instances share one org: first logins racing across two
// pools, single-use operations and counters shared between them, a unit of work cut off mid-way, migrations started
// together, the connection rules (no password in the URL, sslmode, PGPASSWORD and ~/.pgpass) and the sealing key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { isIdpError } from '../../src/core/errors.js';
import { unlinkConnection } from '../../src/app/account.js';
import { setConnection } from '../../src/app/connections.js';
import { adminOf } from '../../src/cli/context.js';
import { applyJit } from '../../src/flow/provision.js';
import type { Store, UnitOptions } from '../../src/ports.js';
import { openPgStore, type PgStore, SCHEMA_VERSION } from '../../src/store-pg/store.js';
import { ROOT, tempDir } from '../helpers/idp.js';
import { hintOf } from '../helpers/hints.js';
import { admin, dropSchemas, freshPgStore, newSchema, pgUrl } from '../helpers/pg.js';
import { refusal } from '../helpers/refusals.js';
import { addGithub } from '../helpers/store-rows.js';

after(dropSchemas);

async function closeAll(...stores: PgStore[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()));
}

/** Runs `run` on two stores (two pools, as two `idp serve` instances have) on a new org sharing its seal key. */
async function onTwoInstances(run: (a: PgStore, b: PgStore) => Promise<void>): Promise<void> {
  const sealKey = randomBytes(32);
  const a = await freshPgStore({ sealKey });
  const b = await openPgStore(pgUrl(), { schema: a.schema!, sealKey });
  try {
    await run(a, b);
  } finally {
    await closeAll(a, b);
  }
}

/**
 * A first federated login as flow/provision.ts makes it: inside one unit of work, decide on fresh reads (is the
 * subject linked? which username is free?) and write the user and the link. Two racing instances must end with one.
 */
function firstLogin(store: Store, subject: string, name = 'octocat', opts: UnitOptions = PROVISION): Promise<string> {
  return store.tx(async (tx) => {
    const link = await tx.associations.get('github', subject);
    if (link) {
      await tx.users.recordLogin(link.userId);
      return link.userId;
    }
    let username = name;
    for (let n = 2; await tx.users.identifierTaken(username); n++) username = `${name}-${n}`;
    const user = await tx.users.insert({
      username,
      email: `${name}@example.test`,
      emailVerified: true,
      source: 'github',
    });
    await tx.associations.insert({ connection: 'github', subject, userId: user.id, claims: {} });
    await tx.users.recordLogin(user.id);
    return user.id;
  }, opts);
}

/** How flow/provision.ts runs its unit (REPEATABLE READ on PostgreSQL), and the default every other unit gets. */
const PROVISION: UnitOptions = { constraintsSuffice: true };
const SERIALIZABLE: UnitOptions = {};

for (const [isolation, opts] of [
  ['REPEATABLE READ', PROVISION],
  ['SERIALIZABLE', SERIALIZABLE],
] as const)
  test(`20 concurrent first logins of one person, split across two instances, create one user and one link (${isolation})`, () =>
    onTwoInstances(async (a, b) => {
      await addGithub(a);
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => firstLogin(i % 2 ? a : b, 'gh-1001', 'octocat', opts)),
      );
      assert.equal(new Set(ids).size, 1, 'every login resolved to the same user');
      assert.equal(await a.users.count(), 1);
      assert.equal(await b.associations.countForConnection('github'), 1);
      assert.equal((await a.users.byId(ids[0]!))!.username, 'octocat');
    }));

test("the flow's provisioning (applyJit): 20 racing first logins over two instances make one user, the rest return", () =>
  onTwoInstances(async (a, b) => {
    await addGithub(a);
    const connection = (await a.connections.get('github'))!;
    const claims = { sub: '3003', preferred_username: 'mona', email: 'mona@example.test', email_verified: true };
    const upstream = { connection, subject: '3003', claims };
    const applied = await Promise.all(Array.from({ length: 20 }, (_, i) => applyJit(i % 2 ? a : b, upstream)));
    assert.deepEqual(applied.map((r) => r.decision.kind).sort(), ['provision', ...Array<string>(19).fill('returning')]);
    assert.equal(new Set(applied.map((r) => r.user!.id)).size, 1);
    assert.equal(await a.users.count(), 1);
    assert.equal((await b.users.find('mona'))!.email, 'mona@example.test');
  }));

test('20 different people proposing one username log in first at once over two instances: each gets a username', () =>
  onTwoInstances(async (a, b) => {
    await addGithub(a);
    const connection = (await a.connections.get('github'))!;
    // Each loses the insert of "mona" (then "mona-2", ...) to the others in turn: more than a few lost unique races.
    const applied = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        applyJit(i % 2 ? a : b, {
          connection,
          subject: `s-${i}`,
          claims: { sub: `s-${i}`, preferred_username: 'mona', email: `mona${i}@example.test`, email_verified: true },
        }),
      ),
    );
    assert.deepEqual(
      applied.map((r) => r.decision.kind),
      Array<string>(20).fill('provision'),
    );
    const names = applied.map((r) => r.user!.username).sort();
    assert.equal(new Set(names).size, 20);
    assert.ok(names.includes('mona') && names.every((n) => /^mona(-\d+)?$/.test(n)), names.join(' '));
  }));

test('first logins of 200 different people, 20 at a time over two instances, all succeed', () =>
  onTwoInstances(async (a, b) => {
    await addGithub(a);
    // Neighbouring usernames and subjects: under SERIALIZABLE, page-level index locks would make such units abort each
    // other often; provisioning runs at REPEATABLE READ, and each must get through within the store's reruns.
    let next = 0;
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, worker) => {
        while (next < 200) {
          const i = next++;
          await firstLogin(worker % 2 ? a : b, `sub-${i}`, `user${i}`).catch((err: unknown) => failures.push(err));
        }
      }),
    );
    assert.deepEqual(failures, []);
    assert.equal(await a.associations.countForConnection('github'), 200);
    assert.equal(await b.users.count(), 200);
  }));

test("a rule resting on rows it only reads stays SERIALIZABLE: two instances unlinking a user's two only ways to sign in leave one", () =>
  onTwoInstances(async (a, b) => {
    await addGithub(a);
    await addGithub(a, { name: 'google', type: 'google', clientId: 'go' });
    // Each unlink reads both links and deletes one; at REPEATABLE READ both would see two and leave none (write skew).
    const users = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const user = await a.users.insert({
          username: `pat${i}`,
          email: `pat${i}@example.test`,
          emailVerified: true,
          source: 'github',
        });
        await a.associations.insert({ connection: 'github', subject: `gh-${i}`, userId: user.id, claims: {} });
        await a.associations.insert({ connection: 'google', subject: `go-${i}`, userId: user.id, claims: {} });
        return user;
      }),
    );
    const outcomes = await Promise.allSettled(
      users.flatMap((user) => [
        unlinkConnection({ store: a, actor: 'test' }, user, 'github', { by: 'self' }),
        unlinkConnection({ store: b, actor: 'test' }, user, 'google', { by: 'self' }),
      ]),
    );
    for (const [i, user] of users.entries()) {
      const pair = outcomes.slice(2 * i, 2 * i + 2);
      assert.equal(pair.filter((o) => o.status === 'fulfilled').length, 1, `${user.username}: one unlink goes through`);
      const refused = pair.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.equal((refused.reason as { code?: string }).code, 'LAST_SIGN_IN_METHOD');
      assert.equal((await b.associations.forUser(user.id)).length, 1, `${user.username} keeps a way to sign in`);
    }
  }));

test('a change of upstream racing first logins on another instance leaves no link for the new provider', () =>
  onTwoInstances(async (a, b) => {
    await addGithub(a, { name: 'ghe', sandbox: false, baseUrl: 'https://ghe-one.example' });
    const signedInAt = (await b.connections.get('ghe'))!;
    // 30 first logins through the old provider on B while A points the connection at another, forgetting its links:
    // each login links before the change (and is forgotten with it) or is refused after it, never in between.
    const logins = Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        applyJit(b, {
          connection: signedInAt,
          subject: `old-${i}`,
          claims: { sub: `old-${i}`, email_verified: false },
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    await setConnection(
      adminOf(a, 'test'),
      'ghe',
      { baseUrl: 'https://ghe-two.example' },
      { dryRun: false, forgetAssociations: true },
    );
    const outcomes = await logins;
    for (const o of outcomes)
      if (o.status === 'rejected')
        assert.equal((o.reason as { code?: string }).code, 'CONNECTION_CHANGED', String(o.reason));
    assert.equal((await a.connections.get('ghe'))!.baseUrl, 'https://ghe-two.example');
    assert.equal(await a.associations.countForConnection('ghe'), 0, 'no link of the old provider survives the change');
  }));

test('a unit that read "no such row" and lost the insert to another instance runs again and finds it; a plain duplicate fails', async () => {
  const store = await freshPgStore();
  try {
    let attempts = 0;
    const id = await store.tx(async (tx) => {
      attempts++;
      const existing = await tx.users.byEmail('wendy@example.test');
      if (existing) return existing.id;
      if (attempts === 1)
        await admin((c) =>
          c.query(
            `INSERT INTO "${store.schema}".users (id, username, email, created_at, updated_at) VALUES ('w', 'wendy', 'wendy@example.test', 'now', 'now')`,
          ),
        );
      return (
        await tx.users.insert({ username: 'wendy', email: 'wendy@example.test', emailVerified: true, source: 'local' })
      ).id;
    });
    assert.equal(id, 'w', "the rerun found the other instance's user");
    assert.equal(attempts, 2);
    let tries = 0;
    const duplicate = await refusal(() =>
      store.tx(async (tx) => {
        tries++;
        await tx.users.insert({ username: 'WENDY', email: null, emailVerified: false, source: 'local' });
      }),
    );
    assert.equal((duplicate as { code?: string }).code, '23505');
    assert.ok(tries > 1 && tries <= 4, `reran a bounded number of times (${tries})`);
  } finally {
    await store.close();
  }
});

test('one TOTP step, one code redemption, one challenge and one passkey counter are each taken once across instances', () =>
  onTwoInstances(async (a, b) => {
    const u = await a.users.insert({ username: 'tia', email: null, emailVerified: false, source: 'local' });
    const factor = (await a.factors.addTotp(u.id, a.seal('secret')))!;
    const split = <T>(run: (s: PgStore) => Promise<T>) =>
      Promise.all(Array.from({ length: 20 }, (_, i) => run(i % 2 ? a : b)));
    const wins = (results: boolean[]) => results.filter(Boolean).length;
    assert.equal(wins(await split((s) => s.factors.claimStep(factor, 5000))), 1, 'TOTP step');

    await a.oidc.upsert('AuthorizationCode', 'code-1', { grantId: 'g' }, null, 'g');
    assert.equal(wins(await split((s) => s.oidc.consume('AuthorizationCode', 'code-1', 1))), 1, 'authorization code');

    await a.flows.insert('f', 'thrift', {});
    const code = await a.codes.issue('f', u.id, 'tia@example.test', 'h', '2999-01-01T00:00:00.000Z');
    assert.equal(wins(await split((s) => s.codes.markUsed(code))), 1, 'email code');

    const held = await a.passkeys.holdChallenge(u.id, {
      challenge: 'c',
      origin: 'o',
      expiresAt: '2999-01-01T00:00:00.000Z',
    });
    const taken = await split((s) => s.passkeys.takeChallenge(u.id, held));
    assert.equal(taken.filter((t) => t !== undefined).length, 1, 'enrolment challenge');

    const key = (await a.passkeys.add(u.id, {
      credentialId: 'cred',
      publicKey: 'pk',
      counter: 1,
      transports: [],
      aaguid: 'g',
      name: 'k',
      software: false,
    }))!;
    assert.equal(wins(await split((s) => s.passkeys.recordUse(key.id, 2))), 1, 'passkey counter');
  }));

test('failed-login and MFA counters are one count shared by every instance', () =>
  onTwoInstances(async (a, b) => {
    const u = await a.users.insert({ username: 'uma', email: null, emailVerified: false, source: 'local' });
    const logins = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).users.recordFailedLogin(u.id)),
    );
    assert.deepEqual(
      logins.sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'each failure saw the count after it, none lost',
    );
    const mfa = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).users.recordFailedMfa(u.id)));
    assert.equal(Math.max(...mfa), 10);
    assert.deepEqual(await b.users.passwordState(u.id), { hash: null, failedLogins: 20, mfaFailures: 10 });
  }));

test('a unit of work whose connection is cut mid-way leaves neither row, and the store carries on', async () => {
  const store = await freshPgStore();
  try {
    await addGithub(store);
    const err = await refusal(() =>
      store.tx(async (tx) => {
        const user = await tx.users.insert({ username: 'vic', email: null, emailVerified: false, source: 'github' });
        const { pid } = (await (tx as PgStore).sql.row<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!;
        await admin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
        await tx.associations.insert({ connection: 'github', subject: 's-vic', userId: user.id, claims: {} });
      }),
    );
    assert.ok(err instanceof Error);
    assert.equal(await store.users.count(), 0);
    assert.equal(await store.associations.countForConnection('github'), 0);
    assert.ok(await firstLogin(store, 's-vic'), 'a new unit of work runs on a fresh connection');
    assert.equal(await store.users.count(), 1);
  } finally {
    await store.close();
  }
});

test('an instance killed in the middle of a first login leaves neither row, and the other instance provisions', async () => {
  const store = await freshPgStore();
  try {
    await addGithub(store);
    const schema = store.schema!;
    const script = join(tempDir('pg-kill'), 'half-login.mjs');
    writeFileSync(
      script,
      `import { openPgStore } from ${JSON.stringify(join(ROOT, 'dist/src/store-pg/store.js'))};
const store = await openPgStore(process.env.IDP_TEST_PG_URL, { schema: ${JSON.stringify(schema)} });
await store.tx(async (tx) => {
  await tx.users.insert({ username: 'octocat', email: 'octocat@example.test', emailVerified: true, source: 'github' });
  process.stdout.write('user written\\n');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
});
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('user written') && resolve());
      child.on('exit', (code) => reject(new Error(`the child ended early (${code})`)));
    });
    child.kill('SIGKILL');
    // The killed unit's uncommitted user holds the username's index entry until the server sees the connection go;
    // this login waits for that, then finds the name free.
    const id = await firstLogin(store, 'gh-2002');
    assert.equal(await store.users.count(), 1);
    assert.equal((await store.users.byId(id))!.username, 'octocat');
    assert.equal((await store.associations.get('github', 'gh-2002'))!.userId, id);
  } finally {
    await store.close();
  }
});

test('instances starting together on a new schema migrate it once', async () => {
  const schema = newSchema();
  const stores = await Promise.all(Array.from({ length: 4 }, () => freshPgStore({ schema })));
  try {
    assert.deepEqual(await Promise.all(stores.map((s) => s.schemaVersion())), [10, 10, 10, 10]);
    const rows = await admin((c) => c.query(`SELECT version FROM "${schema}".schema_version`));
    assert.deepEqual(rows.rows, [{ version: '10' }]);
  } finally {
    await closeAll(...stores);
  }
});

test('a store opened without migrating is left as it is until asked (idp store migrate)', async () => {
  const store = await freshPgStore({ migrate: false });
  try {
    assert.equal(await store.schemaVersion(), 0);
    assert.deepEqual(await store.migrate(), { from: 0, to: SCHEMA_VERSION });
    assert.deepEqual(await store.migrate(), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    assert.equal(await store.users.count(), 0);
  } finally {
    await store.close();
  }
});

test('a schema from a newer idp, or holding something else, is refused and left untouched', async () => {
  const store = await freshPgStore();
  const schema = store.schema!;
  await store.close();
  await admin((c) => c.query(`UPDATE "${schema}".schema_version SET version = 99`));
  const newer = await refusal(() => openPgStore(pgUrl(), { schema }));
  assert.ok(isIdpError(newer) && newer.code === 'DB_NEWER' && newer.exitCode === 3, String(newer));
  const foreign = newSchema();
  await admin(async (c) => {
    await c.query(`CREATE SCHEMA "${foreign}"`);
    await c.query(`CREATE TABLE "${foreign}".invoices (id int)`);
  });
  const notIdp = await refusal(() => freshPgStore({ schema: foreign }));
  assert.ok(isIdpError(notIdp) && notIdp.code === 'DB_NOT_IDP', String(notIdp));
  const tables = await admin((c) =>
    c.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [foreign]),
  );
  assert.deepEqual(tables.rows, [{ table_name: 'invoices' }]);
});

test('the store URL: postgres:// only, never with a password in it', async () => {
  const u = new URL(pgUrl());
  u.password = 'hunter2';
  const withPassword = await refusal(() => openPgStore(u.toString()));
  assert.ok(isIdpError(withPassword) && withPassword.code === 'STORE_URL_INVALID', String(withPassword));
  assert.equal(withPassword.exitCode, 2);
  assert.doesNotMatch(withPassword.message, /hunter2/);
  assert.match(hintOf(withPassword), /PGPASSWORD/);
  assert.match(hintOf(withPassword), /~\/\.pgpass/);
  assert.match(hintOf(withPassword), /--store-password-stdin/);
  const mysql = await refusal(() => openPgStore('mysql://idp@127.0.0.1/idp'));
  assert.ok(isIdpError(mysql) && mysql.code === 'STORE_URL_INVALID');
});

/** Runs `run` with environment variables set (undefined: removed), restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await run();
  } finally {
    apply(saved);
  }
}

test('the password comes from the caller, PGPASSWORD or ~/.pgpass; a wrong or missing one is a named refusal', async () => {
  const password = process.env.PGPASSWORD;
  assert.ok(password, 'PGPASSWORD is set by .ci/with-pg.sh');
  const u = new URL(pgUrl());
  const pgpass = join(tempDir('pgpass'), 'pgpass');
  writeFileSync(pgpass, `${u.hostname}:${u.port}:*:${u.username}:${password}\n`, { mode: 0o600 });
  chmodSync(pgpass, 0o600);
  const nowhere = join(tempDir('pgpass'), 'none');
  await withEnv({ PGPASSWORD: undefined, PGPASSFILE: pgpass }, async () => {
    const fromFile = await freshPgStore();
    assert.equal(await fromFile.users.count(), 0);
    await fromFile.close();
  });
  await withEnv({ PGPASSWORD: undefined, PGPASSFILE: nowhere }, async () => {
    const given = await freshPgStore({ password });
    await given.close();
    const missing = await refusal(() => freshPgStore());
    assert.ok(isIdpError(missing) && missing.code === 'STORE_AUTH_FAILED', String(missing));
    assert.match(hintOf(missing), /--store-password-stdin/);
  });
  const wrong = await refusal(() => freshPgStore({ password: 'wrong' }));
  assert.ok(isIdpError(wrong) && wrong.code === 'STORE_AUTH_FAILED' && wrong.exitCode === 3, String(wrong));
});

test('an unreachable server is a named refusal', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const err = await refusal(() => openPgStore(`postgres://idp@127.0.0.1:${port}/idp`));
  assert.ok(isIdpError(err) && err.code === 'STORE_UNREACHABLE', String(err));
  // A server that accepts and then says nothing: the URL's connect_timeout (libpq's, in seconds) ends the wait.
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const { port: mute } = silent.address() as { port: number };
    const timedOut = await refusal(() => openPgStore(`postgres://idp@127.0.0.1:${mute}/idp?connect_timeout=1`));
    assert.ok(isIdpError(timedOut) && timedOut.code === 'STORE_UNREACHABLE', String(timedOut));
  } finally {
    for (const socket of held) socket.destroy();
    silent.close();
  }
});

test('sslmode means what libpq says: require insists on TLS, prefer falls back to the clear, disable never tries', async () => {
  const withMode = (mode: string) => {
    const u = new URL(pgUrl());
    u.searchParams.set('sslmode', mode);
    return u.toString();
  };
  // The throwaway server has no certificate: it refuses TLS.
  const required = await refusal(() => openPgStore(withMode('require'), { schema: newSchema() }));
  assert.ok(isIdpError(required) && required.code === 'STORE_UNREACHABLE', String(required));
  assert.match(required.message, /does not accept TLS/);
  const made = await freshPgStore();
  await made.close();
  for (const mode of ['prefer', 'disable']) {
    const store = await openPgStore(withMode(mode), { schema: made.schema! });
    assert.equal(await store.users.count(), 0, mode);
    await store.close();
  }
});

test('the sealing key: never in the database, required only to seal or open, and it must be the right one', async () => {
  const key = randomBytes(32);
  const store = await freshPgStore({ sealKey: key });
  const schema = store.schema!;
  try {
    await store.apps.insert({
      name: 'web',
      clientId: 'c',
      type: 'web',
      clientSecret: 'top-secret-value',
      redirectUris: [],
      steps: [['password']],
      attributes: [],
    });
    const dump = await admin(async (c) => {
      const out: string[] = [];
      for (const { name } of (await store.tables()).map((t) => t)) {
        const { rows } = await c.query(`SELECT * FROM "${schema}"."${name}"`);
        out.push(JSON.stringify(rows));
      }
      return out.join('\n');
    });
    assert.doesNotMatch(dump, new RegExp(key.toString('base64url')));
    assert.doesNotMatch(dump, new RegExp(key.toString('hex')));
    assert.doesNotMatch(dump, /top-secret-value/);
  } finally {
    await store.close();
  }
  await withEnv({ IDP_SEAL_KEY: undefined, IDP_SEAL_KEY_FILE: undefined }, async () => {
    const keyless = await openPgStore(pgUrl(), { schema });
    try {
      assert.equal((await keyless.apps.get('web'))!.hasSecret, true, 'reading what is not sealed needs no key');
      const missing = await refusal(() => keyless.apps.clientSecret('web'));
      assert.ok(isIdpError(missing) && missing.code === 'SEAL_KEY_MISSING', String(missing));
      assert.match(hintOf(missing), /IDP_SEAL_KEY/);
    } finally {
      await keyless.close();
    }
  });
  await withEnv({ IDP_SEAL_KEY: randomBytes(32).toString('base64url'), IDP_SEAL_KEY_FILE: undefined }, async () => {
    const wrongKey = await openPgStore(pgUrl(), { schema });
    try {
      const wrong = await refusal(() => wrongKey.apps.clientSecret('web'));
      assert.ok(isIdpError(wrong) && wrong.code === 'SEAL_KEY_INVALID', String(wrong));
    } finally {
      await wrongKey.close();
    }
  });
  await withEnv({ IDP_SEAL_KEY: key.toString('base64'), IDP_SEAL_KEY_FILE: undefined }, async () => {
    const right = await openPgStore(pgUrl(), { schema });
    try {
      assert.equal(await right.apps.clientSecret('web'), 'top-secret-value');
    } finally {
      await right.close();
    }
  });
});

test('a throwaway copy left by a killed process is dropped by a later copy once a day old, a recent one is kept', async () => {
  const store = await freshPgStore();
  const old = `idp_copy_${Math.floor(Date.now() / 1000) - 2 * 86400}_dead`;
  const recent = `idp_copy_${Math.floor(Date.now() / 1000) - 60}_live`;
  try {
    await admin(async (c) => {
      for (const schema of [old, recent]) await c.query(`CREATE SCHEMA "${schema}"`);
    });
    await store.withThrowawayCopy(async () => undefined);
    const left = await admin((c) =>
      c.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY 1', [[old, recent]]),
    );
    assert.deepEqual(
      left.rows.map((r) => r.nspname),
      [recent],
    );
  } finally {
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${recent}"`));
    await store.close();
  }
});
