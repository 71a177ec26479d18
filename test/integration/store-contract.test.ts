// The Store port's contract, asserted the same way on both engines (SQLite and PostgreSQL): every repository method's
// meaning, case-insensitive lookups, the single-use operations, units of work that roll back whole, throwaway copies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FLOW_LIFETIME_MS } from '../../src/core/flow-lifetime.js';
import { isIdpError } from '../../src/core/errors.js';
import type { Clock, Store } from '../../src/ports.js';
import { prepareHome } from '../../src/store/db.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../helpers/idp.js';
import { refusal } from '../helpers/refusals.js';
import { dropSchemas, freshPgStore } from '../helpers/pg.js';
import { addGithub, SILENT_JIT } from '../helpers/store-rows.js';

interface Opened {
  store: Store;
  close(): Promise<void>;
}

interface Engine {
  name: string;
  open(clock?: Clock): Promise<Opened>;
}

const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    open: async (clock) => {
      const home = join(tempDir('contract'), 'org');
      prepareHome(home);
      const store = openStore(home, { clock });
      return { store: store as unknown as Store, close: async () => store.close() };
    },
  },
  {
    name: 'postgres',
    open: async (clock) => {
      const store = await freshPgStore({ clock });
      return { store, close: () => store.close() };
    },
  },
];

after(dropSchemas);

/** A clock the test moves by hand. */
function handClock(start = '2030-01-01T00:00:00.000Z'): { clock: Clock; advance(ms: number): void } {
  let now = Date.parse(start);
  return { clock: () => new Date(now), advance: (ms) => (now += ms) };
}

async function using<T>(engine: Engine, run: (store: Store) => Promise<T>, clock?: Clock): Promise<T> {
  const { store, close } = await engine.open(clock);
  try {
    return await run(store);
  } finally {
    await close();
  }
}

async function addUser(
  store: Store,
  username: string,
  email: string | null = `${username.toLowerCase()}@example.test`,
) {
  return store.users.insert({ username, email, emailVerified: true, source: 'local' });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

for (const engine of ENGINES) {
  const name = (what: string) => `${engine.name}: ${what}`;

  test(name('users are found by id, else username, else email, the last two ignoring ASCII case'), () =>
    using(engine, async (store) => {
      const alice = await addUser(store, 'Alice', 'Alice.Smith@Example.test');
      const bob = await addUser(store, 'bob');
      assert.equal((await store.users.find(alice.id))?.id, alice.id);
      assert.equal((await store.users.find('ALICE'))?.id, alice.id);
      assert.equal((await store.users.find('alice.smith@example.TEST'))?.id, alice.id);
      assert.equal((await store.users.byEmail('ALICE.SMITH@example.test'))?.id, alice.id);
      assert.equal(await store.users.find('carol'), undefined);
      assert.equal((await store.users.byId(bob.id))?.username, 'bob');
      assert.equal(await store.users.identifierTaken('BOB'), true);
      assert.equal(await store.users.identifierTaken('Bob@Example.Test'), true);
      assert.equal(await store.users.identifierTaken(alice.id), true);
      assert.equal(await store.users.identifierTaken('carol'), false);
      assert.equal(await store.users.count(), 2);
      await refusal(() => addUser(store, 'ALICE', 'other@example.test'));
      assert.equal(await store.users.count(), 2, 'a username differing only in case is the same username');
    }),
  );

  test(name('a username with an @ must be its own email (ASCII case aside); the store refuses any other'), () =>
    using(engine, async (store) => {
      await addUser(store, 'dana@example.test', 'Dana@Example.TEST');
      const err = await refusal(() => addUser(store, 'eve@example.test', 'someone@example.test'));
      assert.ok(isIdpError(err) && err.code === 'INVALID_VALUE', String(err));
      assert.ok(isIdpError(await refusal(() => addUser(store, 'frank@example.test', null))));
      const dana = (await store.users.find('dana@example.test'))!;
      const changed = await refusal(() => store.users.updateProfile(dana.id, { email: 'elsewhere@example.test' }));
      assert.ok(isIdpError(changed) && changed.code === 'INVALID_VALUE');
      assert.equal((await store.users.byId(dana.id))?.email, 'Dana@Example.TEST');
    }),
  );

  test(name('lookalikes: same first letter, length within two, for "did you mean"'), () =>
    using(engine, async (store) => {
      for (const u of ['alice', 'Alicia', 'al', 'bob', 'alexandra']) await addUser(store, u);
      assert.deepEqual((await store.users.lookalikes('alise')).sort(), ['Alicia', 'alice']);
      assert.deepEqual((await store.users.lookalikes('alice@example.tes')).sort(), [
        'al@example.test',
        'alice@example.test',
        'alicia@example.test',
      ]);
      assert.deepEqual(await store.users.lookalikes(''), []);
    }),
  );

  test(name('users list: keyset pages in case-insensitive username order, by source and search'), () =>
    using(engine, async (store) => {
      const names = ['carol', 'Bob', 'alice', 'Dave', 'erin_x', 'frank'];
      for (const u of names) await addUser(store, u);
      await store.users.insert({
        username: 'gh-1',
        email: null,
        emailVerified: false,
        source: 'github',
        name: 'Erin X',
      });
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.users.list({ limit: 2, ...(after ? { after } : {}) });
        assert.ok(page.users.length <= 2);
        seen.push(...page.users.map((u) => u.username));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(seen, ['alice', 'Bob', 'carol', 'Dave', 'erin_x', 'frank', 'gh-1']);
      assert.deepEqual(
        (await store.users.list({ limit: 10, source: 'github' })).users.map((u) => u.username),
        ['gh-1'],
      );
      // LIKE ignores ASCII case, and _ is a literal underscore in the search, not a wildcard.
      assert.deepEqual(
        (await store.users.list({ limit: 10, search: 'ERIN' })).users.map((u) => u.username),
        ['erin_x', 'gh-1'],
      );
      assert.deepEqual(
        (await store.users.list({ limit: 10, search: 'n_x' })).users.map((u) => u.username),
        ['erin_x'],
      );
      const bad = await refusal(() => store.users.list({ limit: 10, after: 'not a cursor!' }));
      assert.ok(isIdpError(bad) && bad.code === 'INVALID_VALUE');
      const all = await collect(store.users.iterate());
      assert.deepEqual(
        all.map((u) => u.username),
        seen,
      );
      assert.equal(all[0]!.passwordHash, null);
    }),
  );

  test(name('profile, status, password and the failure counters'), () =>
    using(engine, async (store) => {
      const u = await addUser(store, 'gina');
      await store.users.updateProfile(u.id, { name: 'Gina G', attributes: { team: 'blue' } });
      const updated = (await store.users.byId(u.id))!;
      assert.equal(updated.name, 'Gina G');
      assert.deepEqual(updated.attributes, { team: 'blue' });
      assert.equal(updated.email, 'gina@example.test', 'fields outside the patch stay');
      await store.users.setPasswordHash(u.id, 'scrypt$x');
      assert.equal((await store.users.byId(u.id))!.hasPassword, true);
      assert.equal(await store.users.recordFailedLogin(u.id), 1);
      assert.equal(await store.users.recordFailedLogin(u.id), 2);
      assert.equal(await store.users.recordFailedMfa(u.id), 1);
      assert.deepEqual(await store.users.passwordState(u.id), { hash: 'scrypt$x', failedLogins: 2, mfaFailures: 1 });
      await store.users.recordMfaSuccess(u.id);
      assert.equal((await store.users.passwordState(u.id)).mfaFailures, 0);
      await store.users.recordLogin(u.id);
      const logged = await store.users.passwordState(u.id);
      assert.equal(logged.failedLogins, 0);
      assert.ok((await store.users.byId(u.id))!.lastLoginAt);
      await store.users.recordFailedLogin(u.id);
      await store.users.recordFailedMfa(u.id);
      await store.users.setStatus(u.id, 'locked');
      assert.deepEqual(await store.users.passwordState(u.id), { hash: 'scrypt$x', failedLogins: 0, mfaFailures: 0 });
      assert.equal((await store.users.byId(u.id))!.status, 'locked');
      await store.users.recordFailedLogin(u.id);
      await store.users.unlock(u.id);
      assert.equal((await store.users.byId(u.id))!.status, 'active');
      assert.equal((await store.users.passwordState(u.id)).failedLogins, 0);
      assert.deepEqual(await store.users.passwordState('nobody'), { hash: null, failedLogins: 0, mfaFailures: 0 });
    }),
  );

  test(name('apps: client settings, order, a sealed client secret, update and delete'), () =>
    using(engine, async (store) => {
      const base = { redirectUris: ['http://localhost:3000/cb'], steps: [['password']], attributes: ['email'] };
      await store.apps.insert({ name: 'zeta', clientId: 'c-zeta', ...base });
      await store.apps.insert({ name: 'alpha', clientId: 'c-alpha', type: 'web', clientSecret: 's3cret', ...base });
      await store.apps.insert({ name: 'my-account', clientId: 'c-my', builtIn: true, ...base });
      assert.deepEqual(
        (await store.apps.list()).map((a) => a.name),
        ['alpha', 'zeta', 'my-account'],
      );
      assert.deepEqual(await store.apps.names(), ['alpha', 'my-account', 'zeta']);
      const alpha = (await store.apps.byClientId('c-alpha'))!;
      assert.equal(alpha.type, 'web');
      assert.equal(alpha.hasSecret, true);
      assert.equal(alpha.idTokenAlg, 'RS256');
      assert.equal(await store.apps.clientSecret('alpha'), 's3cret');
      assert.equal(await store.apps.clientSecret('zeta'), null);
      await store.apps.setClientSecret('alpha', 'n3w');
      assert.equal(await store.apps.clientSecret('alpha'), 'n3w');
      await store.apps.update('zeta', {
        steps: [['password'], ['totp']],
        script: 'x',
        origins: ['http://localhost:3000'],
      });
      const zeta = (await store.apps.get('zeta'))!;
      assert.deepEqual(zeta.steps, [['password'], ['totp']]);
      assert.equal(zeta.script, 'x');
      assert.deepEqual(zeta.redirectUris, base.redirectUris);
      assert.equal((await store.apps.get('my-account'))!.builtIn, true);
      await store.apps.delete('zeta');
      assert.equal(await store.apps.get('zeta'), undefined);
    }),
  );

  test(name('connections: settings, secrets by reference or sealed, partial JIT updates, delete takes links'), () =>
    using(engine, async (store) => {
      await addGithub(store, {
        secret: { kind: 'value', value: 'abcdefgh1234' },
        scopes: ['read:user'],
        attributeMap: { login: 'username' },
      });
      await store.connections.insert({
        name: 'corp',
        type: 'oidc',
        sandbox: false,
        issuer: 'https://issuer.example',
        clientId: 'corp',
        secret: { kind: 'env', variable: 'CORP_SECRET' },
        tokenAuth: 'client_secret_post',
        scopes: ['openid'],
        jit: SILENT_JIT,
        attributeMap: {},
      });
      assert.deepEqual(await store.connections.names(), ['corp', 'github']);
      const gh = (await store.connections.get('github'))!;
      assert.deepEqual(gh.secret, { kind: 'stored', last4: '1234' });
      assert.equal(gh.sandbox, true);
      assert.equal(await store.connections.storedSecret('github'), 'abcdefgh1234');
      assert.deepEqual((await store.connections.get('corp'))!.secret, { kind: 'env', variable: 'CORP_SECRET' });
      assert.equal((await store.connections.get('corp'))!.tokenAuth, 'client_secret_post');
      assert.equal(await store.connections.storedSecret('corp'), null);
      await store.connections.update('github', { jit: { enabled: false } as never });
      const off = (await store.connections.get('github'))!;
      assert.deepEqual(off.jit, { ...SILENT_JIT, enabled: false });
      assert.deepEqual(off.secret, { kind: 'stored', last4: '1234' }, 'a patch without a secret keeps it');
      await store.connections.update('github', { secret: { kind: 'none' } });
      assert.deepEqual((await store.connections.get('github'))!.secret, { kind: 'none' });
      const u = await addUser(store, 'hal');
      await store.associations.insert({ connection: 'github', subject: '42', userId: u.id, claims: {} });
      await store.connections.delete('github');
      assert.equal(await store.associations.get('github', '42'), undefined);
      assert.ok(await store.users.byId(u.id), 'the user stays');
    }),
  );

  test(name('associations: one per (connection, subject); logins recorded; removed with their user'), () =>
    using(engine, async (store) => {
      const jit = { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' } as const;
      for (const n of ['github', 'google'])
        await store.connections.insert({
          name: n,
          type: n as 'github',
          sandbox: true,
          issuer: null,
          clientId: n,
          secret: { kind: 'none' },
          scopes: [],
          jit,
          attributeMap: {},
        });
      const u = await addUser(store, 'ivy');
      await store.associations.insert({ connection: 'google', subject: 's1', userId: u.id, claims: { a: 1 } });
      await store.associations.insert({ connection: 'github', subject: 's1', userId: u.id, claims: {} });
      await refusal(() => store.associations.insert({ connection: 'github', subject: 's1', userId: u.id, claims: {} }));
      assert.deepEqual(
        (await store.associations.forUser(u.id)).map((a) => a.connection),
        ['github', 'google'],
      );
      await store.associations.recordLogin('google', 's1', { b: 2 });
      assert.deepEqual((await store.associations.get('google', 's1'))!.lastClaims, { b: 2 });
      assert.equal(await store.associations.countForConnection('github'), 1);
      assert.equal(await store.associations.deleteForConnection('github'), 1);
      assert.equal(await store.associations.countForConnection('github'), 0);
      await store.associations.delete('google', 's1');
      assert.deepEqual(await store.associations.forUser(u.id), []);
      await store.associations.insert({ connection: 'google', subject: 's2', userId: u.id, claims: {} });
      await store.users.delete(u.id);
      assert.equal(await store.associations.get('google', 's2'), undefined);
    }),
  );

  test(name('events: config and stage events, filtered by kind, flow, user, connection and time'), () => {
    const hand = handClock();
    return using(
      engine,
      async (store) => {
        await store.flows.insert('f1', 'thrift', { identity: { username: 'Jack' }, chosen: ['password', 'github'] });
        await store.flows.insert('f2', 'thrift', { identity: null, chosen: ['google'] });
        await store.events.recordConfig({
          actor: 'admin',
          action: 'users.add',
          target: 'user JACK',
          detail: 'added',
          before: null,
          after: { username: 'JACK' },
        });
        hand.advance(1000);
        const at = hand.clock().toISOString();
        for (const [flow, seq, stage] of [
          ['f1', 2, 'callback'],
          ['f1', 1, 'app'],
          ['f2', 1, 'app'],
        ] as const)
          await store.events.recordStage({ at, flow, seq, stage, status: 'ok', ms: 1.5, detail: `${flow} ${stage}` });
        await store.events.recordConfig({
          actor: 'admin',
          action: 'connection.set',
          target: 'connection github',
          detail: 'jit off',
          before: { jit: true },
          after: { jit: false },
        });
        const all = await store.events.list({ limit: 100 });
        assert.equal(all.length, 5);
        assert.ok(all[0]!.id > all[4]!.id, 'newest first');
        assert.deepEqual(all[0]!.before, { jit: true });
        assert.deepEqual(
          (await store.events.list({ flow: 'f1', limit: 10 })).map((e) => e.seq),
          [1, 2],
        );
        assert.deepEqual(
          (await store.events.list({ kind: 'stage', limit: 2 })).map((e) => e.detail),
          ['f2 app', 'f1 app'],
        );
        assert.equal((await store.events.list({ kind: 'stage', limit: 10 }))[0]!.ms, 1.5);
        assert.deepEqual((await store.events.list({ user: 'jack', limit: 10 })).map((e) => e.detail).sort(), [
          'added',
          'f1 app',
          'f1 callback',
        ]);
        assert.deepEqual((await store.events.list({ connection: 'github', limit: 10 })).map((e) => e.detail).sort(), [
          'f1 app',
          'f1 callback',
          'jit off',
        ]);
        assert.deepEqual(
          (await store.events.list({ connection: 'google', kind: 'stage', limit: 10 })).map((e) => e.detail),
          ['f2 app'],
        );
        assert.equal((await store.events.list({ since: at, limit: 10 })).length, 4);
      },
      hand.clock,
    );
  });

  test(name('org settings, SMTP relay, name and base URL, and signing keys sealed at rest'), () =>
    using(engine, async (store) => {
      assert.equal(await store.org.setting('org_id'), undefined);
      await store.org.setSetting('org_id', 'a');
      await store.org.setSetting('org_id', 'b');
      assert.equal(await store.org.setting('org_id'), 'b');
      assert.equal(await store.org.smtpRelay(), null);
      await store.org.setSmtpRelay('smtp://127.0.0.1:2525');
      assert.equal(await store.org.smtpRelay(), 'smtp://127.0.0.1:2525');
      await store.org.setSmtpRelay(null);
      assert.equal(await store.org.smtpRelay(), null);
      await store.org.setName('acme');
      assert.equal(await store.org.name(), 'acme');
      assert.equal(await store.org.baseUrl(), 'http://localhost:8788');
      await store.org.setBaseUrl('https://idp.example//');
      assert.equal(await store.org.baseUrl(), 'https://idp.example');
      const key = (kid: string, alg: 'RS256' | 'ES256', createdAt: string) => ({
        kid,
        alg,
        publicJwk: { kty: 'EC', x: kid },
        privateJwk: { kty: 'EC', d: `secret-${kid}` },
        createdAt,
      });
      await store.org.addSigningKey(key('k1', 'RS256', '2030-01-01T00:00:00.000Z'));
      await store.org.addSigningKey(key('k2', 'ES256', '2030-01-02T00:00:00.000Z'));
      await store.org.addSigningKey(key('k3', 'RS256', '2030-01-03T00:00:00.000Z'));
      assert.deepEqual(
        (await store.org.publicKeys()).map((k) => k.kid),
        ['k3', 'k2', 'k1'],
      );
      assert.equal((await store.org.signingKey('RS256'))!.kid, 'k3');
      assert.deepEqual((await store.org.signingKey('ES256'))!.privateJwk, { kty: 'EC', d: 'secret-k2' });
      assert.equal((await store.org.signingKeys()).length, 3);
    }),
  );

  test(name('TOTP: one factor per user, and a time step is claimed once'), () =>
    using(engine, async (store) => {
      const u = await addUser(store, 'kim');
      const id = await store.factors.addTotp(u.id, store.seal('JBSWY3DPEHPK3PXP'));
      assert.ok(id);
      assert.equal(await store.factors.addTotp(u.id, store.seal('other')), null, 'a second enrolment loses');
      const factor = (await store.factors.totpFor(u.id))!;
      assert.equal(store.unseal(factor.secretSealed), 'JBSWY3DPEHPK3PXP');
      assert.equal(factor.lastUsedStep, null);
      assert.equal(await store.factors.claimStep(id, 100), true);
      assert.equal(await store.factors.claimStep(id, 100), false, 'the same step again');
      assert.equal(await store.factors.claimStep(id, 99), false, 'an earlier step');
      assert.equal(await store.factors.claimStep(id, 101), true);
      assert.equal((await store.factors.totpFor(u.id))!.lastUsedStep, 101);
      assert.deepEqual(
        (await store.factors.forUser(u.id)).map((f) => [f.id, f.type]),
        [[id, 'totp']],
      );
      assert.equal(await store.factors.remove(u.id, 'no-such-factor'), 0);
      assert.equal(await store.factors.remove(u.id), 1);
      assert.equal(await store.factors.totpFor(u.id), undefined);
    }),
  );

  test(name('passkeys: unique credentials, counters that must climb, renames, and single-use challenges'), () => {
    const hand = handClock();
    return using(
      engine,
      async (store) => {
        const u = await addUser(store, 'lee');
        const v = await addUser(store, 'max');
        const credential = {
          credentialId: 'cred-1',
          publicKey: 'pk',
          counter: 0,
          transports: ['internal'],
          aaguid: 'aaguid-soft',
          name: 'laptop',
          software: true,
        };
        const added = (await store.passkeys.add(u.id, credential))!;
        assert.equal(added.userId, u.id);
        assert.deepEqual(added.transports, ['internal']);
        assert.equal(added.software, true);
        assert.equal(await store.passkeys.add(v.id, credential), null, 'a credential id names one user');
        await store.passkeys.add(v.id, { ...credential, credentialId: 'cred-2', software: false, aaguid: 'x' });
        assert.deepEqual(await store.passkeys.softwareHolders('aaguid-soft'), ['lee']);
        assert.deepEqual(await store.passkeys.softwareHolders('x'), ['lee', 'max']);
        assert.equal((await store.passkeys.byCredential('cred-1'))!.id, added.id);
        assert.equal(await store.passkeys.recordUse(added.id, 0), true, 'an authenticator without a counter');
        assert.equal(await store.passkeys.recordUse(added.id, 5), true);
        assert.equal(await store.passkeys.recordUse(added.id, 5), false, 'a counter that did not climb');
        assert.equal(await store.passkeys.recordUse(added.id, 0), false);
        assert.equal((await store.passkeys.forUser(u.id))[0]!.counter, 5);
        assert.ok((await store.passkeys.forUser(u.id))[0]!.lastUsedAt);
        assert.equal(await store.passkeys.rename(v.id, added.id, 'stolen'), false, "another user's passkey");
        assert.equal(await store.passkeys.rename(u.id, added.id, 'work laptop'), true);
        assert.equal((await store.passkeys.byCredential('cred-1'))!.name, 'work laptop');
        const expiresAt = new Date(hand.clock().getTime() + 60_000).toISOString();
        const pending = { challenge: 'ch', origin: 'http://localhost:8788', expiresAt };
        const held = await store.passkeys.holdChallenge(u.id, pending);
        assert.equal(await store.passkeys.takeChallenge(v.id, held), undefined, "another user's challenge");
        assert.deepEqual(await store.passkeys.takeChallenge(u.id, held), pending);
        assert.equal(await store.passkeys.takeChallenge(u.id, held), undefined, 'single use');
        const late = await store.passkeys.holdChallenge(u.id, pending);
        hand.advance(120_000);
        assert.equal(await store.passkeys.takeChallenge(u.id, late), undefined, 'expired');
        assert.equal(await store.passkeys.remove(u.id, 'nope'), 0);
        assert.equal(await store.passkeys.remove(u.id), 1);
        assert.deepEqual(await store.passkeys.forUser(u.id), []);
      },
      hand.clock,
    );
  });

  test(name('flows: stored state, recent first, and a flow idle past its lifetime reads as expired'), () => {
    const hand = handClock();
    return using(
      engine,
      async (store) => {
        await store.flows.insert('old', 'thrift', { waiting: { kind: 'mfa', secret: 'x' }, chosen: [] });
        hand.advance(1000);
        await store.flows.insert('new', 'thrift', { waiting: { kind: 'choose' } });
        await store.flows.save('new', 'done', { waiting: { kind: 'none' }, result: 1 });
        assert.deepEqual(
          (await store.flows.recent(10)).map((f) => [f.id, f.status]),
          [
            ['new', 'done'],
            ['old', 'active'],
          ],
        );
        assert.deepEqual(JSON.parse((await store.flows.get('new'))!.state), { waiting: { kind: 'none' }, result: 1 });
        hand.advance(FLOW_LIFETIME_MS);
        const old = (await store.flows.get('old'))!;
        assert.equal(old.status, 'expired');
        assert.deepEqual(JSON.parse(old.state), { waiting: { kind: 'none' }, chosen: [] });
        assert.equal((await store.flows.get('new'))!.status, 'done');
        assert.equal(await store.flows.get('none'), undefined);
      },
      hand.clock,
    );
  });

  test(name('email codes: the latest of a flow, used once, attempts counted; the outbox newest first'), () => {
    const hand = handClock();
    return using(
      engine,
      async (store) => {
        const u = await addUser(store, 'ned');
        await store.flows.insert('f', 'thrift', {});
        const later = new Date(hand.clock().getTime() + 300_000).toISOString();
        await store.codes.issue('f', u.id, 'ned@example.test', 'h1', later);
        const second = await store.codes.issue('f', u.id, 'ned@example.test', 'h2', later);
        const latest = (await store.codes.latestForFlow('f'))!;
        assert.deepEqual(latest, { id: second, flowId: 'f', hash: 'h2', expiresAt: later, usedAt: null, attempts: 0 });
        await store.codes.recordAttempt(second);
        assert.equal((await store.codes.latestForFlow('f'))!.attempts, 1);
        assert.equal(await store.codes.markUsed(second), true);
        assert.equal(await store.codes.markUsed(second), false);
        assert.ok((await store.codes.latestForFlow('f'))!.usedAt);
        assert.equal(await store.codes.latestForFlow('other'), undefined);
        await store.codes.deliver({ to: 'Ned@Example.test', subject: 'one', body: 'b', flow: 'f' });
        await store.codes.deliver({ to: 'someone@example.test', subject: 'two', body: 'b', flow: null });
        await store.codes.deliver({ to: 'ned@example.test', subject: 'three', body: 'b', flow: null });
        assert.deepEqual(
          (await store.codes.outbox({ to: 'NED@example.test', limit: 10 })).map((m) => m.subject),
          ['three', 'one'],
        );
        const [byFlow] = await store.codes.outbox({ flow: 'f', limit: 10 });
        assert.equal(byFlow!.to, 'Ned@Example.test');
        assert.equal(byFlow!.flow, 'f');
        assert.equal(typeof byFlow!.id, 'number');
        assert.equal((await store.codes.outbox({ limit: 1 })).length, 1);
      },
      hand.clock,
    );
  });

  test(name('oidc models: upsert, expiry, lookups by uid, a single consume, grant revocation and purge'), () =>
    using(engine, async (store) => {
      await store.oidc.upsert('Session', 's1', { uid: 'u1', accountId: 'a' }, 2000);
      await store.oidc.upsert('Session', 's1', { uid: 'u2', accountId: 'b' }, 2000);
      await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 2000, 'g1');
      await store.oidc.upsert('RefreshToken', 'r1', { grantId: 'g1' }, null, 'g1');
      await store.oidc.upsert('Interaction', 'i1', {}, 1000);
      assert.deepEqual(await store.oidc.find('Session', 's1', 1500), { uid: 'u2', accountId: 'b' });
      assert.deepEqual(await store.oidc.findByUid('Session', 'u2', 1500), { uid: 'u2', accountId: 'b' });
      assert.equal(await store.oidc.findByUid('Session', 'u1', 1500), undefined);
      assert.equal(await store.oidc.find('Session', 's1', 2000), undefined, 'expired at its expiry');
      assert.ok((await store.oidc.find('Session', 's1', 1999.5)) !== undefined, 'a fraction before its expiry');
      assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', 1600), true);
      assert.equal(await store.oidc.consume('AuthorizationCode', 'c1', 1601), false);
      assert.deepEqual(await store.oidc.find('AuthorizationCode', 'c1', 1700), { grantId: 'g1', consumed: 1600 });
      assert.equal(await store.oidc.purgeExpired(1500), 1);
      await store.oidc.revokeByGrantId('g1');
      assert.equal(await store.oidc.find('RefreshToken', 'r1', 1700), undefined);
      await store.oidc.destroy('Session', 's1');
      assert.equal(await store.oidc.find('Session', 's1', 1500), undefined);
    }),
  );

  test(name('iterateForExport: each user with links, factors (sealed) and passkeys, in username order'), () =>
    using(engine, async (store) => {
      await addGithub(store);
      const bo = await addUser(store, 'Bo');
      const al = await addUser(store, 'al');
      await store.users.setPasswordHash(al.id, 'scrypt$h');
      await store.associations.insert({ connection: 'github', subject: 'z', userId: al.id, claims: {} });
      await store.factors.addTotp(al.id, 'v1.sealed', 7);
      await store.passkeys.add(al.id, {
        credentialId: 'c',
        publicKey: 'p',
        counter: 3,
        transports: ['usb', 'nfc'],
        aaguid: 'g',
        name: 'key',
        software: false,
      });
      const exported = await collect(store.users.iterateForExport());
      assert.deepEqual(
        exported.map((u) => u.username),
        ['al', 'Bo'],
      );
      const [a, b] = exported;
      assert.equal(a!.passwordHash, 'scrypt$h');
      assert.deepEqual(
        a!.associations.map((x) => [x.connection, x.subject, typeof x.linkedAt]),
        [['github', 'z', 'string']],
      );
      assert.deepEqual(
        a!.factors.map((f) => [f.type, f.secretSealed, f.lastUsedStep, typeof f.confirmedAt]),
        [['totp', 'v1.sealed', 7, 'string']],
      );
      assert.deepEqual(
        a!.passkeys.map((p) => [p.credentialId, p.counter, p.transports, p.software, p.lastUsedAt]),
        [['c', 3, ['usb', 'nfc'], false, null]],
      );
      assert.deepEqual([b!.id, b!.associations, b!.factors, b!.passkeys], [bo.id, [], [], []]);
    }),
  );

  test(name('a unit of work is all or nothing, and tx.tx joins the unit already open'), () =>
    using(engine, async (store) => {
      const failed = await refusal(() =>
        store.tx(async (tx) => {
          await addUser(tx, 'olga');
          await tx.tx(async (inner) => addUser(inner, 'pete'));
          throw new Error('boom');
        }),
      );
      assert.equal((failed as Error).message, 'boom');
      assert.equal(await store.users.count(), 0, 'neither the outer nor the joined writes stay');
      const made = await store.tx(async (tx) => {
        const u = await addUser(tx, 'quinn');
        await tx.events.recordConfig({
          actor: 't',
          action: 'a',
          target: 'user quinn',
          detail: 'd',
          before: null,
          after: null,
        });
        return (await tx.users.byId(u.id))!.username;
      });
      assert.equal(made, 'quinn');
      assert.equal(await store.users.count(), 1);
    }),
  );

  test(name('a throwaway copy holds the org, opens its secrets, and leaves the org untouched'), () =>
    using(engine, async (store) => {
      const u = await addUser(store, 'rita');
      await store.apps.insert({
        name: 'web',
        clientId: 'c-web',
        type: 'web',
        clientSecret: 'shh',
        redirectUris: [],
        steps: [['password']],
        attributes: [],
      });
      await store.events.recordConfig({
        actor: 't',
        action: 'a',
        target: 't',
        detail: 'before',
        before: null,
        after: null,
      });
      const inCopy = await store.withThrowawayCopy(async (copy) => {
        assert.equal(await copy.apps.clientSecret('web'), 'shh');
        await copy.users.delete(u.id);
        await addUser(copy, 'sam');
        await copy.events.recordConfig({
          actor: 't',
          action: 'a',
          target: 't',
          detail: 'in copy',
          before: null,
          after: null,
        });
        return (await copy.users.list({ limit: 10 })).users.map((x) => x.username);
      });
      assert.deepEqual(inCopy, ['sam']);
      assert.deepEqual(
        (await store.users.list({ limit: 10 })).users.map((x) => x.username),
        ['rita'],
      );
      assert.deepEqual(
        (await store.events.list({ limit: 10 })).map((e) => e.detail),
        ['before'],
      );
    }),
  );
}
