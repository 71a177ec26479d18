// The passkey use cases the CLI calls, on a real SQLite org: a software passkey enrolled in one use case (begin, the
// software authenticator, finish, from the org's origin), and one listing of a user's factors for `users mfa list`
// and `users show`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enrolSoftwarePasskey, mfaList, orgOrigin } from '../../src/app/passkeys.js';
import { showUser } from '../../src/app/users.js';
import { passkeyVerifier } from '../../src/webauthn/verifier.js';
import { decodeSoftwareKey, softwareAuthenticator } from '../../src/webauthn/software.js';
import { demoStore } from '../helpers/login.js';

test('enrolSoftwarePasskey enrols from the org origin and returns the key once; mfaList is what users show lists', async (t) => {
  const store = await demoStore(t);
  assert.equal(await orgOrigin(store), new URL(await store.org.baseUrl()).origin);

  const admin = { store, actor: 'test', passkeys: passkeyVerifier };
  const { passkey, key } = await enrolSoftwarePasskey(admin, 'alice', { authenticator: softwareAuthenticator });
  assert.equal(passkey.software, true);
  const listed = await mfaList(store, 'alice');
  const [stored] = await store.passkeys.forUser(listed.user.id);
  assert.equal(decodeSoftwareKey(key).credentialId, stored!.credentialId, 'the key signs for the stored credential');
  assert.deepEqual(
    listed.passkeys.map((p) => [p.factor, p.name]),
    [[`passkey:${passkey.id}`, 'Software passkey 1']],
  );
  const shown = await showUser(store, 'alice');
  assert.deepEqual([shown.factors, shown.passkeys], [listed.factors, listed.passkeys]);
});
