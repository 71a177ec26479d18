// Two `idp serve` instances of one org (one data directory) behind a load balancer, each on its own port with one
// --public-url: the same discovery document and JWKS byte for byte, and an RP sign-in whose requests alternate between
// them. The load balancer is a small HTTP forwarder here, passing each request to the next instance in turn.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { type Forwarder, forwarder } from '../helpers/forwarder.js';
import { createShop, expectCode, idpJson, runIdp, seededHome } from '../helpers/idp.js';
import { authorizationRequest, discover, redeemCallback } from '../helpers/rp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { UserAgent, viaPassword } from '../helpers/user-agent.js';

const REDIRECT = 'http://localhost:5173/callback';
const DISCOVERY = '/oauth2/token/.well-known/openid-configuration';

let home: string;
let lb: Forwarder<'a' | 'b'>;
let a: Serving;
let b: Serving;
let clientId: string;

before(async () => {
  home = await seededHome();
  const app = await idpJson(createShop(REDIRECT, '--step', '1=password', '--json'), { home });
  clientId = app.client_id;
  // The balancer's port is the public URL's, so it listens before the instances start; it routes once they have.
  lb = await forwarder(() => ({ a: a.url, b: b.url }));
  [a, b] = await Promise.all([
    startServe(home, { args: ['--public-url', `${lb.url}/`] }),
    startServe(home, { args: ['--public-url', lb.url] }),
  ]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await lb?.close();
});

test('both instances name the public URL (trailing slash dropped) as their base and issuer, not their own ports', () => {
  assert.notEqual(a.url, b.url);
  for (const s of [a, b]) {
    assert.equal(s.base, `${lb.url}/t/default`);
    assert.equal(s.issuer, `${lb.url}/t/default/oauth2/token`);
    assert.equal(s.discovery, `${s.issuer}/.well-known/openid-configuration`);
  }
});

test('discovery and the JWKS are byte-identical on both instances, asked directly on their own ports', async () => {
  const bodies = async (path: string) =>
    Promise.all([a, b].map(async (s) => (await fetch(`${s.url}/t/default${path}`)).text()));
  const [discoveryA, discoveryB] = await bodies(DISCOVERY);
  assert.equal(discoveryA, discoveryB);
  const metadata = JSON.parse(discoveryA!) as Record<string, string>;
  assert.equal(metadata.issuer, a.issuer);
  for (const [field, path] of [
    ['authorization_endpoint', '/oauth2/authorize'],
    ['token_endpoint', '/oauth2/token'],
    ['userinfo_endpoint', '/oauth2/userinfo'],
    ['jwks_uri', '/oauth2/jwks'],
    ['end_session_endpoint', '/oidc/logout'],
  ])
    assert.equal(metadata[field!], `${lb.url}/t/default${path}`, field);
  const [jwksA, jwksB] = await bodies('/oauth2/jwks');
  assert.equal(jwksA, jwksB);
  assert.ok((JSON.parse(jwksA!) as { keys: unknown[] }).keys.length >= 2);
});

test('a sign-in through the balancer runs on both instances: pages, code and token on alternating ones', async () => {
  const config = await discover(a.issuer, clientId);
  client.enableNonRepudiationChecks(config);
  const before = lb.log.length;
  const request = await authorizationRequest(config, REDIRECT, 'openid profile');
  const callback = await new UserAgent().authorize(request.url, REDIRECT, viaPassword('alice', 'thrift-demo'));
  const tokens = await redeemCallback(config, callback, request);
  const claims = tokens.claims()!;
  assert.equal(claims.iss, a.issuer);
  assert.equal(claims.username, 'alice');
  const signIn = lb.log.slice(before);
  const authorize = signIn.find((r) => r.path.startsWith('/t/default/oauth2/authorize?'))!;
  const token = signIn.findLast((r) => r.path === '/t/default/oauth2/token')!;
  assert.ok(authorize && token, JSON.stringify(signIn));
  assert.deepEqual(new Set(signIn.map((r) => r.backend)), new Set(['a', 'b']));
  // The flow and its interaction, the session cookie's keys and the code all live in the shared store.
  assert.ok(
    signIn.some((r) => r.method === 'POST' && r.backend !== authorize.backend),
    JSON.stringify(signIn),
  );
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
});

test('the org keeps the public URL as its base URL, so `idp login` tokens carry the same issuer', async () => {
  const org = await idpJson(['org', 'show', '--json'], { home });
  assert.equal(org.base_url, lb.url);
  assert.equal(org.issuer, a.issuer);
});

test('a public URL that is not an http(s) origin is refused with exit 2 and a hint, before anything listens', async () => {
  for (const bad of [
    'ftp://idp.example.com',
    'https://idp.example.com/idp',
    'https://idp.example.com/?x=1',
    'http://idp.example.com',
    'not a url',
  ]) {
    const r = expectCode(await runIdp(['serve', '--port', '0', '--public-url', bad], { home }), 2, bad);
    assert.match(r.stderr, /public URL/);
    assert.match(r.stderr, /^hint: /m);
  }
});
