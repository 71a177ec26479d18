// Org signing keys and ID tokens: real RS256 and ES256 signatures, verification failures, JWKS shape, pass-through subjects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, verify } from 'node:crypto';
import { jwks } from '../../src/core/jwks.js';
import { generateSigningKey, jwkThumbprint, passThroughSubject } from '../../src/tokens/keys.js';
import type { IdTokenClaims } from '../../src/ports.js';
import { decodeJwt, signIdToken, verifyIdToken } from '../../src/tokens/jwt.js';
import { IdpError } from '../../src/core/errors.js';

const ISS = 'http://127.0.0.1:4000';
const claims = (extra: Partial<IdTokenClaims> = {}): IdTokenClaims => ({
  iss: ISS,
  aud: 'thrift-client',
  sub: 'user-3f2c',
  amr: ['pwd', 'otp'],
  acr: 'urn:idp:acr:mfa',
  auth_time: Math.floor(Date.now() / 1000),
  nonce: 'n-0S6_WzA2Mj',
  email: 'alice@example.test',
  ...extra,
});

const isInvalid = (e: unknown): boolean => e instanceof IdpError && e.code === 'ID_TOKEN_INVALID';

test('a signed ID token verifies and carries the claims, iat/exp and the header kid', async () => {
  const key = generateSigningKey('ES256');
  const now = new Date();
  const token = await signIdToken(key, claims(), { ttlSeconds: 600, now });
  const { header, claims: decoded } = decodeJwt(token);
  assert.deepEqual(header, { alg: 'ES256', kid: key.kid, typ: 'JWT' });
  assert.equal(decoded['iat'], Math.floor(now.getTime() / 1000));
  assert.equal(decoded['exp'], Math.floor(now.getTime() / 1000) + 600);

  const verified = await verifyIdToken(token, [generateSigningKey('ES256'), key], { iss: ISS, aud: 'thrift-client' });
  assert.equal(verified['sub'], 'user-3f2c');
  assert.deepEqual(verified['amr'], ['pwd', 'otp']);
  assert.equal(verified['nonce'], 'n-0S6_WzA2Mj');
  assert.equal(verified['email'], 'alice@example.test');
});

test('the signature is real ES256: node:crypto verifies it with the published JWK', async () => {
  const key = generateSigningKey('ES256');
  const token = await signIdToken(key, claims());
  const [h, p, s] = token.split('.') as [string, string, string];
  const publicKey = createPublicKey({ key: jwks([key]).keys[0]!, format: 'jwk' });
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  assert.equal(ok, true);
});

test('wrong audience, wrong issuer, expiry and an unknown kid are rejected', async () => {
  const key = generateSigningKey('ES256');
  const token = await signIdToken(key, claims());
  await assert.rejects(verifyIdToken(token, [key], { iss: ISS, aud: 'other-app' }), isInvalid);
  await assert.rejects(verifyIdToken(token, [key], { iss: 'http://127.0.0.1:4001', aud: 'thrift-client' }), isInvalid);
  await assert.rejects(
    verifyIdToken(token, [generateSigningKey('ES256')], { iss: ISS, aud: 'thrift-client' }),
    isInvalid,
  );

  const old = await signIdToken(key, claims(), { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
  await assert.rejects(
    verifyIdToken(old, [key], { iss: ISS, aud: 'thrift-client' }),
    (e: unknown) => isInvalid(e) && /exp/.test((e as Error).message),
  );
});

test('a tampered payload or signature is rejected', async () => {
  const key = generateSigningKey('ES256');
  const token = await signIdToken(key, claims());
  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token).claims, sub: 'admin' })).toString('base64url');
  await assert.rejects(verifyIdToken(`${h}.${forged}.${s}`, [key], { iss: ISS, aud: 'thrift-client' }), isInvalid);

  const sig = Buffer.from(s, 'base64url');
  sig[10] = sig[10]! ^ 0x01;
  await assert.rejects(
    verifyIdToken(`${h}.${p}.${sig.toString('base64url')}`, [key], { iss: ISS, aud: 'thrift-client' }),
    isInvalid,
  );

  // Another key's signature presented under this key's kid must not verify.
  const [, ip, is] = (await signIdToken(generateSigningKey('ES256'), claims())).split('.') as [string, string, string];
  await assert.rejects(verifyIdToken(`${h}.${ip}.${is}`, [key], { iss: ISS, aud: 'thrift-client' }), isInvalid);
});

test('the JWKS carries public members, kid, alg and use only; never "d"', () => {
  const keys = [generateSigningKey('ES256'), generateSigningKey('ES256')];
  const set = jwks(keys);
  assert.equal(set.keys.length, 2);
  for (const [i, jwk] of set.keys.entries()) {
    assert.equal('d' in jwk, false);
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(jwk.kid, keys[i]!.kid);
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.alg, 'ES256');
  }
  assert.ok(!JSON.stringify(set).includes(keys[0]!.privateJwk.d!));
  assert.ok(typeof keys[0]!.privateJwk.d === 'string' && keys[0]!.privateJwk.d.length > 0);
  assert.notEqual(keys[0]!.kid, keys[1]!.kid);
});

test('an RS256 token is RSASSA-PKCS1-v1_5 SHA-256: node:crypto and jose both verify it with the published JWK', async () => {
  const key = generateSigningKey('RS256');
  const token = await signIdToken(key, claims());
  assert.deepEqual(decodeJwt(token).header, { alg: 'RS256', kid: key.kid, typ: 'JWT' });
  const [h, p, s] = token.split('.') as [string, string, string];
  const published = jwks([key]).keys[0]!;
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: createPublicKey({ key: published, format: 'jwk' }), padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(s, 'base64url'),
  );
  assert.equal(ok, true);
  const verified = await verifyIdToken(token, [generateSigningKey('ES256'), key], { iss: ISS, aud: 'thrift-client' });
  assert.equal(verified['sub'], 'user-3f2c');
  // An RSA key's signature presented under the EC key's kid does not verify.
  const ec = generateSigningKey('ES256');
  const [eh] = (await signIdToken(ec, claims())).split('.') as [string];
  await assert.rejects(verifyIdToken(`${eh}.${p}.${s}`, [ec], { iss: ISS, aud: 'thrift-client' }), isInvalid);
});

test('an RSA key in the JWKS carries n, e, kid, alg, use and kty only: no private member', () => {
  const key = generateSigningKey('RS256');
  const [jwk] = jwks([key]).keys;
  assert.deepEqual(Object.keys(jwk!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  assert.deepEqual([jwk!.kty, jwk!.alg, jwk!.kid], ['RSA', 'RS256', key.kid]);
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
    assert.ok(!JSON.stringify(jwk).includes(String(key.privateJwk[member])), member);
});

test("an RSA kid is the RFC 7638 thumbprint (the RFC's own example)", () => {
  const jwk = {
    kty: 'RSA',
    n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  const key = generateSigningKey('RS256');
  assert.equal(key.kid, jwkThumbprint(key.publicJwk));
});

test('the kid is the RFC 7638 thumbprint', () => {
  // Example EC key from RFC 7517 appendix A.1; its thumbprint computed per RFC 7638 member ordering.
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4',
    y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM',
  };
  assert.equal(jwkThumbprint(jwk), 'cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s');
  const key = generateSigningKey('ES256');
  assert.equal(key.kid, jwkThumbprint(key.publicJwk));
});

test('passThroughSubject is stable, opaque and distinct per connection, subject and org', () => {
  const a = passThroughSubject('github', '12345', 'org-salt-1');
  assert.equal(a, passThroughSubject('github', '12345', 'org-salt-1'));
  assert.match(a, /^pt_[A-Za-z0-9_-]{43}$/);
  assert.ok(!a.includes('12345'));
  assert.notEqual(a, passThroughSubject('google', '12345', 'org-salt-1'));
  assert.notEqual(a, passThroughSubject('github', '12346', 'org-salt-1'));
  assert.notEqual(a, passThroughSubject('github', '12345', 'org-salt-2'));
  // No ambiguity when the separator moves between the two parts.
  assert.notEqual(passThroughSubject('git', 'hub1', 's'), passThroughSubject('gith', 'ub1', 's'));
});

test('decodeJwt refuses what is not a compact JWS', () => {
  assert.throws(() => decodeJwt('abc'), isInvalid);
  assert.throws(() => decodeJwt('a.b.c'), isInvalid);
  assert.throws(() => decodeJwt(`${Buffer.from('[1]').toString('base64url')}.e30.sig`), isInvalid);
});
