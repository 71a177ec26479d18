// Account switching in one browser: a session for one person, then `prompt=login` signing in as another.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { createShop, idpJson, seededHome } from '../helpers/idp.js';
import { discover } from '../helpers/rp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { type Answer, UserAgent, viaConnection } from '../helpers/user-agent.js';

const REDIRECT = 'http://localhost:5173/callback';
let serving: Serving;
let spa: client.Configuration;

before(async () => {
  const home = await seededHome();
  const app = await idpJson(createShop(REDIRECT, '--step', '1=password,github', '--json'), { home });
  serving = await startServe(home);
  spa = await discover(serving.issuer, app.client_id);
});
after(async () => {
  await serving?.stop();
});

async function signIn(ua: UserAgent, answer: Answer, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(spa, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 's',
    ...extra,
  });
  const callback = await ua.authorize(url, REDIRECT, answer);
  const tokens = await client.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: verifier, expectedState: 's' });
  return tokens.claims();
}

test('prompt=login as another person in the same browser signs that person in', async () => {
  const ua = new UserAgent();
  const first = await signIn(ua, viaConnection('github', 'octocat'));
  const logoutOrSignIn: Answer = (form, page) => {
    // oidc-provider's self-submitting form that ends the first person's session (a browser posts it by script).
    if (form.hidden['logout'] && form.buttons.length === 0) return {};
    return viaConnection('github', 'hubber')(form, page);
  };
  const second = await signIn(ua, logoutOrSignIn, { prompt: 'login' });
  assert.notEqual(second?.sub, first?.sub);
  assert.equal(second?.['preferred_username'], 'hubber');
});
