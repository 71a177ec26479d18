// Flows expire: a login idle past FLOW_LIFETIME_MS (a killed `idp login`, an abandoned browser tab) is ended, loses
// its PKCE verifier, state and nonce, and a late callback is refused with FLOW_EXPIRED (exit 5) before any redemption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_LIFETIME_MS } from '../../src/core/flow-lifetime.js';
import type { FlowState } from '../../src/flow/types.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { openStore } from '../../src/store/store.js';
import { loginWorld } from '../helpers/login.js';
import { loginEngine } from '../../src/cli/context.js';

test('a flow idle past its lifetime is listed as expired, keeps no upstream secret, and refuses its callback', async (t) => {
  const w = await loginWorld(t);
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const started = await engine.start('thrift');
  const view = await engine.submit(started.flow, { choose: 'github', redirectUri: 'http://127.0.0.1:9/callback' });
  assert.ok(view.status === 'active' && view.waiting === 'redirect', JSON.stringify(view));
  const waiting = (JSON.parse((await w.store.flows.get(view.flow))!.state) as FlowState).waiting;
  assert.ok(waiting.kind === 'redirect');
  const secrets = [waiting.auth.codeVerifier, waiting.auth.state, waiting.auth.nonce];
  const callback = await completeSandboxConsent(view.url, { persona: 'octocat', consent: 'approve' });

  const at = (offsetMs: number) => {
    const store = openStore(w.home, { clock: () => new Date(Date.now() + offsetMs) });
    t.after(() => store.close());
    return store;
  };
  const almost = at(FLOW_LIFETIME_MS - 60_000);
  assert.equal((await almost.flows.get(view.flow))!.status, 'active', 'a flow within its lifetime is left alone');

  const later = at(FLOW_LIFETIME_MS + 60_000);
  const [listed] = await later.flows.recent(1);
  assert.equal(listed!.id, view.flow);
  assert.equal(listed!.status, 'expired');
  for (const secret of secrets)
    assert.equal(listed!.state.includes(secret), false, 'the upstream request secrets are scrubbed');
  assert.deepEqual((JSON.parse(listed!.state) as FlowState).waiting, { kind: 'none' });

  const lateEngine = await loginEngine({ store: later, upstreams: w.upstreams });
  await assert.rejects(
    lateEngine.submit(view.flow, { callback }),
    (err: { code?: string; exitCode?: number; message?: string }) => {
      assert.equal(err.code, 'FLOW_EXPIRED');
      assert.equal(err.exitCode, 5);
      assert.match(err.message!, /expired/);
      return true;
    },
  );
  assert.equal((await w.store.flows.get(view.flow))!.status, 'expired', 'it stays expired');
});
