// Apps as OpenID clients of `idp serve`: spa (public) and web (confidential) types, origins, a web app's secret (sealed,
// shown once, rotated), the ID token algorithm per app, the org's name and issuer, and migration 8 of an older org.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { dbPath } from '../../src/store/db.js';
import { openStore } from '../../src/store/store.js';
import { dbHash, expectCode, fileWith, idpJson, runIdp, seededHome } from '../helpers/idp.js';
import { downgradeTo7 } from '../helpers/migrations.js';

/** Every byte SQLite keeps for the org: the database and its write-ahead log. */
function databaseBytes(home: string): string {
  return ['', '-wal']
    .map((suffix) => `${dbPath(home)}${suffix}`)
    .filter(existsSync)
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

function errorCode(stdout: string): string {
  return (JSON.parse(stdout) as { error: { code: string } }).error.code;
}

async function passwordToken(home: string): Promise<string> {
  const login = ['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'];
  const r = expectCode(await runIdp([...login, '--print', 'id_token'], { home, input: 'thrift-demo' }), 0);
  return r.stdout.trim();
}

test('a spa is a public client: no secret, origins from its redirect URIs, and an @asgardeo/auth-spa config', async () => {
  const home = await seededHome();
  const app = await idpJson(
    ['app', 'create', 'shop', '--json', '--type', 'spa', '--redirect-uri', 'http://localhost:5173/cb'],
    { home },
  );
  assert.deepEqual(
    [app.type, app.has_secret, app.origins, app.id_token_alg, 'client_secret' in app],
    ['spa', false, ['http://localhost:5173'], 'RS256', false],
  );
  assert.deepEqual(app.sdk, {
    package: '@asgardeo/auth-spa',
    config: {
      signInRedirectURL: 'http://localhost:5173/cb',
      signOutRedirectURL: 'http://localhost:5173/cb',
      clientID: app.client_id,
      baseUrl: 'http://localhost:8788/t/default',
      scope: ['openid', 'profile', 'email'],
    },
  });
  const shown = expectCode(await runIdp(['app', 'show', 'shop'], { home }), 0).stdout;
  assert.match(shown, /origins \(CORS\)\s+http:\/\/localhost:5173/);
  assert.match(shown, /"baseUrl": "http:\/\/localhost:8788\/t\/default"/);
  // Origins left to their default follow the redirect URIs; origins given by hand replace them.
  const moved = await idpJson(['app', 'set', 'shop', '--json', '--redirect-uri', 'http://localhost:3000/cb'], { home });
  assert.deepEqual(moved.after.origins, ['http://localhost:3000']);
  const set = await idpJson(['app', 'set', 'shop', '--json', '--origin', 'https://shop.example.com'], { home });
  assert.deepEqual(set.after.origins, ['https://shop.example.com']);
  const rotate = await runIdp(['app', 'secret', 'rotate', 'shop', '--json'], { home });
  expectCode(rotate, 2, 'secret rotate on a spa');
  assert.match(rotate.stderr, /public client/);
});

test('an origin must be an exact origin, and an app type is fixed: refused with exit 2, the database untouched', async () => {
  const home = await seededHome();
  const before = dbHash(home);
  for (const args of [
    ['app', 'create', 'shop', '--origin', 'http://localhost:5173/'],
    ['app', 'create', 'shop', '--origin', 'http://localhost:5173/app'],
    ['app', 'create', 'shop', '--origin', 'http://shop.example.com'],
    ['app', 'set', 'thrift', '--type', 'web'],
    ['app', 'create', 'shop', '--type', 'native'],
    ['app', 'create', 'shop', '--id-token-alg', 'HS256'],
  ]) {
    const r = expectCode(await runIdp(['--json', ...args], { home }), 2, args.join(' '));
    assert.equal(errorCode(r.stdout), 'INVALID_VALUE', args.join(' '));
    assert.match(r.stderr, /^hint: /m, args.join(' '));
  }
  const slash = await runIdp(['app', 'create', 'shop', '--origin', 'http://localhost:5173/'], { home });
  assert.match(slash.stderr, /hint: e\.g\. http:\/\/localhost:5173$/m);
  const typed = await runIdp(['app', 'set', 'thrift', '--type', 'web'], { home });
  assert.match(typed.stderr, /thrift is a spa app, and an app's type cannot change/);
  assert.equal(dbHash(home), before);
});

test('a web app secret is sealed at rest, shown once at creation, never by show, and rotation replaces it', async () => {
  const home = await seededHome();
  const created = await idpJson(
    ['app', 'create', 'api-ui', '--json', '--type', 'web', '--redirect-uri', 'http://localhost:3000/callback'],
    { home },
  );
  const secret = created.client_secret as string;
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.deepEqual([created.type, created.has_secret, created.origins], ['web', true, []]);
  assert.deepEqual(created.sdk, {
    package: 'openid-client',
    config: {
      discovery: 'http://localhost:8788/t/default/oauth2/token/.well-known/openid-configuration',
      client_id: created.client_id,
      redirect_uri: 'http://localhost:3000/callback',
    },
  });
  assert.equal(databaseBytes(home).includes(secret), false, 'the secret is not in the database file');

  const text = expectCode(await runIdp(['app', 'create', 'api-2', '--type', 'web'], { home }), 0);
  assert.match(text.stdout, /client secret\s+[A-Za-z0-9_-]{43}\n.*will not be shown again/);

  for (const args of [
    ['app', 'show', 'api-ui'],
    ['app', 'show', 'api-ui', '--json'],
    ['app', 'list', '--json'],
  ]) {
    const r = expectCode(await runIdp(args, { home }), 0);
    assert.equal(r.stdout.includes(secret), false, `${args.join(' ')} prints no secret`);
  }
  let store = openStore(home);
  try {
    assert.equal(await store.apps.clientSecret('api-ui'), secret);
    assert.equal((await store.apps.byClientId(created.client_id))?.name, 'api-ui');
  } finally {
    store.close();
  }

  const rotated = await idpJson(['app', 'secret', 'rotate', 'api-ui', '--json'], { home });
  assert.notEqual(rotated.client_secret, secret);
  store = openStore(home);
  try {
    assert.equal(await store.apps.clientSecret('api-ui'), rotated.client_secret, 'the old secret no longer works');
  } finally {
    store.close();
  }
  assert.equal(databaseBytes(home).includes(rotated.client_secret), false);
  const events = expectCode(await runIdp(['events', '--json'], { home }), 0).stdout;
  assert.match(events, /app\.secret\.rotate/);
  for (const s of [secret, rotated.client_secret]) assert.equal(events.includes(s), false, 'no secret in the audit');
});

test('the org name is URL-safe; org show prints the issuer and discovery URL; init --name names a new org', async () => {
  const home = await seededHome();
  const before = dbHash(home);
  const bad = expectCode(await runIdp(['org', 'set', '--name', 'Thrift Shop', '--json'], { home }), 2);
  assert.equal(errorCode(bad.stdout), 'INVALID_VALUE');
  assert.match(bad.stderr, /hint: use lower-case letters/);
  assert.equal(dbHash(home), before);
  await idpJson(['org', 'set', '--name', 'thrift', '--json'], { home });
  const org = await idpJson(['org', 'show', '--json'], { home });
  assert.deepEqual(
    [org.name, org.base_url, org.issuer, org.discovery],
    [
      'thrift',
      'http://localhost:8788',
      'http://localhost:8788/t/thrift/oauth2/token',
      'http://localhost:8788/t/thrift/oauth2/token/.well-known/openid-configuration',
    ],
  );
  const claims = decodeJwtPayload(await passwordToken(home));
  assert.equal(claims.iss, 'http://localhost:8788/t/thrift/oauth2/token', 'idp login uses the same issuer');

  const fresh = `${home}-named`;
  expectCode(await runIdp(['init', '--name', 'Bad_Name'], { home: fresh }), 2);
  assert.equal(existsSync(dbPath(fresh)), false, 'a bad name creates nothing');
  await idpJson(['init', '--empty', '--name', 'acme', '--json'], { home: fresh });
  assert.equal((await idpJson(['org', 'show', '--json'], { home: fresh })).name, 'acme');
});

function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

test('the JWKS carries an RS256 and an ES256 key; idp login signs RS256 by default and ES256 for an app that asks', async () => {
  const home = await seededHome();
  const keys = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout);
  assert.deepEqual(keys.keys.map((k: { alg: string; kty: string }) => `${k.alg}/${k.kty}`).sort(), [
    'ES256/EC',
    'RS256/RSA',
  ]);
  const jwkSet = createLocalJWKSet(keys);
  const clientId = (await idpJson(['app', 'show', 'thrift', '--json'], { home })).client_id;
  const expected = { audience: clientId, issuer: 'http://localhost:8788/t/default/oauth2/token' };
  const rs = await passwordToken(home);
  assert.equal((await jwtVerify(rs, jwkSet, { ...expected, algorithms: ['RS256'] })).protectedHeader.alg, 'RS256');

  await idpJson(['app', 'set', 'thrift', '--id-token-alg', 'ES256', '--json'], { home });
  const es = await passwordToken(home);
  assert.equal(decodeProtectedHeader(es).alg, 'ES256');
  await jwtVerify(es, jwkSet, { ...expected, algorithms: ['ES256'] });
});

test('migration 8 on a schema 7 org: apps become spas with their redirect URIs as origins, and an RS256 key is added', async () => {
  const home = await seededHome();
  const db = new Database(dbPath(home), { fileMustExist: true });
  downgradeTo7(db);
  db.prepare('UPDATE apps SET redirect_uris = ? WHERE name = ?').run(
    JSON.stringify(['http://localhost:5173/', 'http://localhost:5173/other', 'https://shop.example.com/cb']),
    'thrift',
  );
  db.pragma('user_version = 7');
  db.close();

  const { apps } = await idpJson(['app', 'list', '--json'], { home });
  const byName = Object.fromEntries(apps.map((a: { name: string }) => [a.name, a]));
  assert.deepEqual(
    [byName.thrift.type, byName.thrift.origins, byName.thrift.id_token_alg, byName.thrift.has_secret],
    ['spa', ['http://localhost:5173', 'https://shop.example.com'], 'RS256', false],
  );
  assert.deepEqual([byName.myaccount.type, byName.myaccount.origins], ['spa', []]);
  assert.equal((await idpJson(['org', 'show', '--json'], { home })).name, 'default');
  const keys = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout);
  assert.deepEqual(keys.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
  const again = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout);
  assert.deepEqual(again, keys, 'the key is added once');
  await jwtVerify(await passwordToken(home), createLocalJWKSet(keys), { algorithms: ['RS256'] });
});

test('apply names the org and creates apps of either type; a web app gets no secret in CI output, and a note says how', async () => {
  const home = await seededHome();
  const file = fileWith(
    'idp.yaml',
    [
      'org: { name: thrift }',
      'apps:',
      '  shop: { redirect_uris: [http://localhost:5173/cb] }',
      '  api-ui: { type: web, redirect_uris: [http://localhost:3000/callback], id_token_alg: ES256 }',
      '',
    ].join('\n'),
  );
  const r = expectCode(await runIdp(['apply', '-f', file], { home }), 0);
  assert.match(r.stderr, /web app api-ui has no client secret yet: idp app secret rotate api-ui/);
  const shop = await idpJson(['app', 'show', 'shop', '--json'], { home });
  const api = await idpJson(['app', 'show', 'api-ui', '--json'], { home });
  assert.deepEqual([shop.type, shop.origins, shop.id_token_alg], ['spa', ['http://localhost:5173'], 'RS256']);
  assert.deepEqual([api.type, api.origins, api.id_token_alg, api.has_secret], ['web', [], 'ES256', false]);
  assert.equal((await idpJson(['org', 'show', '--json'], { home })).name, 'thrift');
  const again = expectCode(await runIdp(['apply', '-f', file], { home }), 0);
  assert.match(again.stdout, /no changes/);
  const exported = expectCode(await runIdp(['export'], { home }), 0).stdout;
  assert.match(exported, /^org:\n {2}name: thrift$/m);
});
