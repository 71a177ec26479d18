// `idp flows list` and `idp flows show` with a flow left idle past its lifetime: shown as expired, its secrets gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_LIFETIME_MS } from '../../src/core/flow-lifetime.js';
import { openStore } from '../../src/store/store.js';
import { idpJson, seededHome } from '../helpers/idp.js';

test('a login killed while it waited is listed as expired once its lifetime is over, without its PKCE verifier', async () => {
  const home = await seededHome();
  const past = openStore(home, { clock: () => new Date(Date.now() - FLOW_LIFETIME_MS - 1000) });
  const waiting = {
    kind: 'redirect',
    connection: 'github',
    provider: 'GitHub',
    sandbox: true,
    auth: {
      url: 'http://127.0.0.1:9/authorize',
      state: 'st-secret-1',
      nonce: 'nonce-secret-1',
      codeVerifier: 'verifier-secret-1',
      redirectUri: 'http://127.0.0.1:9/callback',
    },
  };
  await past.flows.insert('f_killed', 'thrift', { app: 'thrift', waiting });
  past.close();

  const { flows } = await idpJson<{ flows: { id: string; status: string; outcome: string; error: string | null }[] }>(
    ['flows', 'list', '--json'],
    { home },
  );
  const killed = flows.find((f) => f.id === 'f_killed');
  assert.deepEqual([killed?.status, killed?.outcome, killed?.error], ['expired', 'expired', 'FLOW_EXPIRED']);
  const shown = await idpJson<{ status: string }>(['flows', 'show', 'f_killed', '--json'], { home });
  assert.equal(shown.status, 'expired');
  const store = openStore(home);
  try {
    const state = (await store.flows.get('f_killed'))!.state;
    for (const secret of ['st-secret-1', 'nonce-secret-1', 'verifier-secret-1'])
      assert.equal(state.includes(secret), false);
  } finally {
    store.close();
  }
});
