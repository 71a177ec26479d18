// Issue 11, items 11 to 13, the pure rules: which token endpoint authentication a connection uses, what a discovery
// document must hold, GitHub's endpoints from a base URL, which settings each connection type takes, and that a new
// base URL is a change of upstream like a new issuer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTypeSettings } from '../../src/app/connections.js';
import { upstreamChanges } from '../../src/core/upstream-identity.js';
import { IdpError } from '../../src/core/errors.js';
import { checkDiscoveryDocument, chooseTokenAuth, discoveryUrl } from '../../src/federation/discovery.js';
import { githubEndpoints } from '../../src/federation/index.js';

test('chooseTokenAuth: configured first; then basic, post, none from the list; basic when nothing is listed; none without a secret', () => {
  assert.equal(chooseTokenAuth('client_secret_post', ['client_secret_basic'], true), 'client_secret_post');
  assert.equal(chooseTokenAuth(null, ['client_secret_post', 'client_secret_basic'], true), 'client_secret_basic');
  assert.equal(chooseTokenAuth(null, ['private_key_jwt', 'client_secret_post'], true), 'client_secret_post');
  assert.equal(chooseTokenAuth(null, ['none'], true), 'none');
  assert.equal(chooseTokenAuth(null, ['private_key_jwt'], true), 'none');
  assert.equal(chooseTokenAuth(null, undefined, true), 'client_secret_basic', 'RFC 8414 default');
  assert.equal(chooseTokenAuth(null, ['client_secret_basic'], false), 'none');
});

test('checkDiscoveryDocument: the issuer compared as a URL, each required endpoint named when missing', () => {
  const own = 'https://login.example.com';
  const doc = { issuer: own, authorization_endpoint: `${own}/a`, token_endpoint: `${own}/t`, jwks_uri: `${own}/k` };
  assert.equal(checkDiscoveryDocument('corp', doc, `${own}/`, 'here').issuer, own);
  const code = (d: unknown, expected = own): string => {
    try {
      checkDiscoveryDocument('corp', d, expected, 'here');
    } catch (err) {
      assert.ok(err instanceof IdpError);
      return `${err.code}: ${err.message}`;
    }
    return 'accepted';
  };
  assert.match(
    code({ ...doc, issuer: 'https://other.example.com' }),
    /^ISSUER_MISMATCH: .*names the issuer https:\/\/other\.example\.com, not/,
  );
  assert.match(code({ ...doc, issuer: undefined }), /^UPSTREAM_ERROR: .*it has no issuer/);
  assert.match(code([doc]), /^UPSTREAM_ERROR: .*not a JSON object/);
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    assert.match(
      code({ ...doc, [field]: undefined }),
      new RegExp(`^UPSTREAM_ERROR: the discovery document of corp at here is unusable: ${field} is missing$`),
    );
  }
  assert.match(
    code({ ...doc, userinfo_endpoint: 'http://login.example.com/u' }),
    /userinfo_endpoint .* must use https/,
  );
  assert.equal(
    code({ ...doc, authorization_endpoint: 'http://127.0.0.1:9/a' }),
    'accepted',
    'loopback http is allowed',
  );
  assert.equal(
    discoveryUrl(new URL('https://login.example.com/tenant')).href,
    'https://login.example.com/tenant/.well-known/openid-configuration',
  );
});

test('githubEndpoints: github.com without a base URL; BASE/login/oauth and BASE/api/v3 with one', () => {
  assert.equal(githubEndpoints(null).apiBase, 'https://api.github.com');
  assert.deepEqual(githubEndpoints('https://ghe.example.com/'), {
    kind: 'github',
    authorizeUrl: 'https://ghe.example.com/login/oauth/authorize',
    tokenUrl: 'https://ghe.example.com/login/oauth/access_token',
    apiBase: 'https://ghe.example.com/api/v3',
  });
});

test('checkTypeSettings: no issuer on github, a base URL only on a real github connection', () => {
  assert.throws(
    () => checkTypeSettings('gh', 'github', false, { issuer: 'https://ghe.example.com' }),
    /a github connection has no issuer/,
  );
  assert.throws(
    () => checkTypeSettings('corp', 'oidc', false, { baseUrl: 'https://ghe.example.com' }),
    /only a github connection has a base URL/,
  );
  assert.throws(
    () => checkTypeSettings('gh', 'github', true, { baseUrl: 'https://ghe.example.com' }),
    /takes no base URL/,
  );
  checkTypeSettings('gh', 'github', false, { baseUrl: 'https://ghe.example.com' });
  checkTypeSettings('corp', 'oidc', false, { issuer: 'https://login.example.com' });
});

test('a new base URL is a change of upstream, named as messages name it', () => {
  const current = { type: 'github', sandbox: false, issuer: null, baseUrl: null } as const;
  assert.deepEqual(upstreamChanges(current, { baseUrl: 'https://ghe.example.com' }), ['base URL']);
  assert.deepEqual(upstreamChanges(current, { baseUrl: null, issuer: null }), []);
});
