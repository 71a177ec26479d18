// The passkeys repository on a real SQLite file: a credential id names one passkey in the whole organisation, a use
// stores its counter only while it is the highest, held enrolment challenges are single use, bound to their user and
// expiring, and migration 10 comes back after a downgrade, with a user's passkeys leaving with the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepareHome } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openStore, type SqliteStore } from '../../src/store/store.js';
import { tempDir } from '../helpers/idp.js';
import { downgradeTo7 } from '../helpers/migrations.js';

function newStore(): { store: SqliteStore; home: string } {
  const home = join(tempDir('passkeys'), 'org');
  prepareHome(home);
  return { store: openStore(home), home };
}

const CREDENTIAL = {
  credentialId: 'Y3JlZGVudGlhbA',
  publicKey: 'cHVibGlj',
  counter: 0,
  transports: ['internal'],
  aaguid: '00000000-0000-0000-0000-000000000000',
  name: 'Laptop',
  software: false,
};

test('a credential id is unique across the organisation, not per user', async () => {
  const { store } = newStore();
  try {
    const alice = await store.users.insert({
      username: 'alice',
      email: 'a@example.test',
      emailVerified: true,
      source: 'local',
    });
    const bob = await store.users.insert({
      username: 'bob',
      email: 'b@example.test',
      emailVerified: true,
      source: 'local',
    });
    const added = await store.passkeys.add(alice.id, CREDENTIAL);
    assert.equal(added?.userId, alice.id);
    assert.deepEqual(added?.transports, ['internal']);
    assert.equal(await store.passkeys.add(bob.id, { ...CREDENTIAL, name: 'Stolen' }), null);
    assert.equal(await store.passkeys.add(alice.id, CREDENTIAL), null);
    assert.deepEqual(await store.passkeys.forUser(bob.id), []);
    assert.equal((await store.passkeys.byCredential(CREDENTIAL.credentialId))?.name, 'Laptop');
  } finally {
    store.close();
  }
});

test('a use stores its counter only above the stored one (0 after 0 passes), with the time of use', async () => {
  const { store } = newStore();
  try {
    const alice = await store.users.insert({
      username: 'alice',
      email: 'a@example.test',
      emailVerified: true,
      source: 'local',
    });
    const { id } = (await store.passkeys.add(alice.id, CREDENTIAL))!;
    assert.equal(await store.passkeys.recordUse(id, 0), true, '0 and 0: an authenticator without a counter');
    assert.notEqual((await store.passkeys.byCredential(CREDENTIAL.credentialId))?.lastUsedAt, null);
    assert.equal(await store.passkeys.recordUse(id, 5), true);
    assert.equal(await store.passkeys.recordUse(id, 5), false, 'the same counter again');
    assert.equal(await store.passkeys.recordUse(id, 4), false, 'a lower one');
    assert.equal(await store.passkeys.recordUse(id, 0), false, '0 after 5');
    assert.equal((await store.passkeys.byCredential(CREDENTIAL.credentialId))?.counter, 5);
  } finally {
    store.close();
  }
});

test('a held enrolment challenge is taken once, by its own user, before it expires', async () => {
  const { store } = newStore();
  try {
    const alice = await store.users.insert({
      username: 'alice',
      email: 'a@example.test',
      emailVerified: true,
      source: 'local',
    });
    const bob = await store.users.insert({
      username: 'bob',
      email: 'b@example.test',
      emailVerified: true,
      source: 'local',
    });
    const later = new Date(Date.now() + 60_000).toISOString();
    const held = { challenge: 'Y2hhbGxlbmdl', origin: 'http://localhost:8788', expiresAt: later };
    const id = await store.passkeys.holdChallenge(alice.id, held);
    assert.equal(await store.passkeys.takeChallenge(bob.id, id), undefined, "another user's");
    assert.deepEqual(await store.passkeys.takeChallenge(alice.id, id), held);
    assert.equal(await store.passkeys.takeChallenge(alice.id, id), undefined, 'single use');
    const expired = await store.passkeys.holdChallenge(alice.id, {
      ...held,
      expiresAt: new Date(Date.now() - 1).toISOString(),
    });
    assert.equal(await store.passkeys.takeChallenge(alice.id, expired), undefined, 'expired');
  } finally {
    store.close();
  }
});

test('migration 10 comes back after a downgrade to 7; a deleted user takes their passkeys along', async () => {
  const { store, home } = newStore();
  downgradeTo7(store.db);
  store.db.pragma('user_version = 7');
  store.close();
  const again = openStore(home);
  try {
    assert.equal(again.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const alice = await again.users.insert({
      username: 'alice',
      email: 'a@example.test',
      emailVerified: true,
      source: 'local',
    });
    await again.passkeys.add(alice.id, CREDENTIAL);
    await again.passkeys.holdChallenge(alice.id, {
      challenge: 'c',
      origin: 'o',
      expiresAt: new Date(Date.now() + 1000).toISOString(),
    });
    await again.users.delete(alice.id);
    assert.equal(await again.passkeys.byCredential(CREDENTIAL.credentialId), undefined);
    assert.equal(again.db.prepare('SELECT count(*) FROM passkey_challenges').pluck().get(), 0);
  } finally {
    again.close();
  }
});

test("software passkeys are found by their flag or the software authenticator's AAGUID, and listed as software", async () => {
  const { store } = newStore();
  try {
    const { SOFTWARE_AAGUID } = await import('../../src/core/passkeys.js');
    const { passkeyList } = await import('../../src/app/passkeys.js');
    const user = async (username: string) =>
      store.users.insert({ username, email: `${username}@example.test`, emailVerified: true, source: 'local' });
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    await store.passkeys.add(alice.id, { ...CREDENTIAL, credentialId: 'YQ', software: true });
    await store.passkeys.add(bob.id, { ...CREDENTIAL, credentialId: 'Yg', aaguid: SOFTWARE_AAGUID }); // made through a page
    await store.passkeys.add(carol.id, { ...CREDENTIAL, credentialId: 'Yw' });
    assert.deepEqual(await store.passkeys.softwareHolders(SOFTWARE_AAGUID), ['alice', 'bob']);
    assert.equal((await passkeyList({ store }, 'bob'))[0]?.software, true);
    assert.equal((await passkeyList({ store }, 'carol'))[0]?.software, false);
  } finally {
    store.close();
  }
});
