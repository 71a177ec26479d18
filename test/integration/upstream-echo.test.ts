// A provider that echoes the token request back in its error: the client secret, the code and the PKCE verifier idp
// sent must not come back out on the terminal, in the flow's failure or in the stored events; the text is capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { MAX_UPSTREAM_TEXT } from '../../src/core/upstream-text.js';
import type { FlowState } from '../../src/flow/types.js';
import { openStore } from '../../src/store/store.js';
import { expectCode, idpOk, runIdp, seededHome } from '../helpers/idp.js';
import { loginWorld } from '../helpers/login.js';
import { loginEngine, upstreamsFor } from '../../src/cli/context.js';

const CLIENT_SECRET = 'echo-client-secret-7f3a9c';
const CODE = 'code-4b1d7e9a0c22';

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An OpenID provider on 127.0.0.1 whose token endpoint answers every request with the request itself, headers and body. */
async function echoingProvider(): Promise<{ issuer: string; close: () => void }> {
  const server = createServer(async (req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    if (req.url === '/token') {
      const echoed = `you sent ${await body(req)} with authorization ${req.headers.authorization ?? 'none'}; ${'padding '.repeat(200)}`;
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'invalid_request', error_description: echoed }));
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('a token endpoint echoing the request: no secret, code or verifier in the failure, the events or flows show', async (t) => {
  const provider = await echoingProvider();
  t.after(provider.close);
  const home = await seededHome();
  await idpOk(
    [
      'connection',
      'add',
      'echo',
      '--type',
      'oidc',
      '--issuer',
      provider.issuer,
      '--client-id',
      'echo-client',
      '--client-secret-stdin',
    ],
    { home, input: CLIENT_SECRET },
  );
  await idpOk(['app', 'set', 'thrift', '--step', '1=password,echo'], { home });

  const store = openStore(home);
  const upstreams = await upstreamsFor(store);
  t.after(async () => {
    await upstreams.close();
    store.close();
  });
  const engine = await loginEngine({ store, upstreams });
  const started = await engine.start('thrift');
  const redirect = await engine.submit(started.flow, { choose: 'echo', redirectUri: 'http://127.0.0.1:9/callback' });
  assert.ok(redirect.status === 'active' && redirect.waiting === 'redirect', JSON.stringify(redirect));
  const waiting = (JSON.parse((await store.flows.get(redirect.flow))!.state) as FlowState).waiting;
  assert.ok(waiting.kind === 'redirect');
  const callback = `http://127.0.0.1:9/callback?code=${CODE}&state=${encodeURIComponent(waiting.auth.state)}`;
  const failed = await engine.submit(redirect.flow, { callback });

  assert.ok(failed.status === 'failed', JSON.stringify(failed));
  assert.equal(failed.error.code, 'UPSTREAM_ERROR');
  assert.match(failed.error.message, /invalid_request \(you sent /, 'the provider still says what went wrong');
  assert.match(failed.error.message, /\[redacted\]/);
  const secrets = [CLIENT_SECRET, CODE, waiting.auth.codeVerifier];
  const events = JSON.stringify(await store.events.list({ flow: redirect.flow, limit: 100 }));
  const shown = expectCode(await runIdp(['flows', 'show', redirect.flow, '--no-color'], { home }), 0).stdout;
  for (const secret of secrets) {
    assert.equal(failed.error.message.includes(secret), false, `the failure does not carry ${secret}`);
    assert.equal(events.includes(secret), false, `the stored events do not carry ${secret}`);
    assert.equal(shown.includes(secret), false, `idp flows show does not print ${secret}`);
  }
  assert.doesNotMatch(
    failed.error.message,
    /Basic (?!\[redacted\])/,
    'nor the Basic credentials (client id and secret)',
  );
  assert.ok(
    failed.error.message.length < MAX_UPSTREAM_TEXT + 200,
    `the upstream text is capped (${failed.error.message.length} characters)`,
  );
});

test('an error on the callback that repeats the request: state and nonce are redacted, the text capped', async (t) => {
  const w = await loginWorld(t);
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const started = await engine.start('thrift');
  const redirect = await engine.submit(started.flow, { choose: 'github', redirectUri: 'http://127.0.0.1:9/callback' });
  assert.ok(redirect.status === 'active' && redirect.waiting === 'redirect');
  const { waiting } = JSON.parse((await w.store.flows.get(redirect.flow))!.state) as FlowState;
  assert.ok(waiting.kind === 'redirect');
  const callback = new URL('http://127.0.0.1:9/callback');
  const description = `bad request ${new URL(redirect.url).search} ${'x'.repeat(5000)}`;
  callback.search = new URLSearchParams({
    state: waiting.auth.state,
    error: 'invalid_request',
    error_description: description,
  }).toString();
  const failed = await engine.submit(redirect.flow, { callback: callback.href });
  assert.ok(failed.status === 'failed');
  assert.equal(failed.error.code, 'UPSTREAM_ERROR');
  const events = JSON.stringify(await w.store.events.list({ flow: redirect.flow, limit: 100 }));
  for (const secret of [waiting.auth.state, waiting.auth.nonce]) {
    assert.equal(failed.error.message.includes(secret), false);
    assert.equal(events.includes(secret), false);
  }
  assert.ok(
    failed.error.message.length < MAX_UPSTREAM_TEXT + 200,
    `capped (${failed.error.message.length} characters)`,
  );
});
