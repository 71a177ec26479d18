// The token builder and the protected claims (issue 10, item 1): idp's own claims are written over whatever an app
// asks for, so a value stored behind idp's back (here with SQL) never replaces sub, acr or any other; and every claim
// a token carries is either an attribute the app asked for or on the protected list, so the list cannot fall behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdpError } from '../../src/core/errors.js';
import {
  idTokenClaims,
  isProtectedClaim,
  PROTECTED_CLAIMS,
  refuseProtectedClaims,
  refuseProtectedInRecords,
} from '../../src/core/protected-claims.js';
import { ACR_SINGLE_FACTOR, issueIdToken, orgIssuer } from '../../src/flow/session.js';
import { openStore } from '../../src/store/store.js';
import { demoHome } from '../helpers/login.js';
import { tokenSigner } from '../../src/tokens/signer.js';

test('idTokenClaims drops every protected claim from the requested attributes and writes its own last', () => {
  const requested = Object.fromEntries(PROTECTED_CLAIMS.map((c) => [c, `forged-${c}`]));
  const claims = idTokenClaims(
    { iss: 'urn:idp:org:1', sub: 'u1', acr: 'sfa' },
    { ...requested, email: 'a@example.com' },
  );
  assert.deepEqual(claims, { email: 'a@example.com', iss: 'urn:idp:org:1', sub: 'u1', acr: 'sfa' });
});

test("refuseProtectedClaims names the first protected claim; others pass; an import names the record's line", () => {
  assert.doesNotThrow(() => refuseProtectedClaims(['email', 'department', 'Sub'], 'an app attribute'));
  assert.throws(
    () => refuseProtectedClaims(['email', 'nonce', 'sub'], 'an app attribute'),
    (err: IdpError) =>
      err.code === 'PROTECTED_CLAIM' &&
      err.exitCode === 2 &&
      err.message === 'nonce is a protected claim and cannot be an app attribute',
  );
  assert.throws(
    () =>
      refuseProtectedInRecords(
        [
          { line: 2, attributes: { team: 'a' } },
          { line: 7, attributes: { jti: 'x' } },
        ],
        'people.json',
      ),
    (err: IdpError) => err.message === 'people.json:7: jti is a protected claim and cannot be a user attribute',
  );
  assert.ok(PROTECTED_CLAIMS.every(isProtectedClaim));
});

test("the token builder ignores sub, acr and the rest stored in a user's attributes and requested by the app", async () => {
  const store = openStore(await demoHome());
  try {
    const alice = (await store.users.byEmail('alice@example.com'))!;
    const victim = 'another-users-id';
    // Behind the CLI's back: the app asks for protected claims and alice's row holds forged values for them.
    const forged = Object.fromEntries(PROTECTED_CLAIMS.map((c) => [c, `forged-${c}`]));
    store.db
      .prepare('UPDATE users SET attributes = ? WHERE id = ?')
      .run(
        JSON.stringify({ ...forged, sub: victim, acr: 'urn:idp:acr:mfa', department: 'finance', username: 'root' }),
        alice.id,
      );
    store.db
      .prepare("UPDATE apps SET attributes = ? WHERE name = 'thrift'")
      .run(JSON.stringify(['username', 'department', ...PROTECTED_CLAIMS]));
    const app = (await store.apps.get('thrift'))!;

    const { claims } = await issueIdToken(
      { store, signer: tokenSigner },
      app,
      { kind: 'local', userId: alice.id, username: 'alice' },
      { amr: ['pwd'], mfa: false, authTime: 1_700_000_000, idp: 'LOCAL', sign: true },
    );
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.acr, ACR_SINGLE_FACTOR);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.iss, await orgIssuer(store));
    assert.equal(claims.aud, app.clientId);
    assert.equal(claims.auth_time, 1_700_000_000);
    assert.equal(claims.idp, 'LOCAL');
    assert.equal(claims.username, 'alice', 'a custom attribute named like a profile field does not replace it');
    assert.equal(claims.department, 'finance');
    for (const claim of ['nonce', 'nbf', 'azp', 'sid', 'jti', 'pass_through'])
      assert.equal(claims[claim], undefined, `${claim} was not set by idp, so it is absent`);
    for (const name of Object.keys(claims)) {
      assert.ok(
        isProtectedClaim(name) || ['username', 'department'].includes(name),
        `${name} is set by idp, so it must be on the protected list`,
      );
    }
  } finally {
    store.close();
  }
});
