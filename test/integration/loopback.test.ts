// The loopback callback server on real sockets: bind address, exact path, one callback, held response, timeout, abort.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { startLoopback } from '../../src/loopback/server.js';
import { IdpError } from '../../src/core/errors.js';
import { hintOf } from '../helpers/hints.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function httpGet(url: string, onResponse?: () => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      onResponse?.();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/** Resolves once the response headers arrive; the body follows. */
function httpHeaders(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      const body = new Promise<string>((done) => {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(text));
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
    }).on('error', reject);
  });
}

/** Resolves 'connected' or the socket error code. */
function tryConnect(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

function otherAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal)
    .map((a) => a!.address);
}

test('binds 127.0.0.1 on an ephemeral port and nowhere else', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  assert.ok(server.port > 0);
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/callback`);
  assert.equal(await tryConnect(server.port, '127.0.0.1'), 'connected');
  assert.notEqual(await tryConnect(server.port, '::1'), 'connected');
  for (const address of otherAddresses()) {
    assert.notEqual(await tryConnect(server.port, address), 'connected', `reachable on ${address}`);
  }
});

test('a wrong path gets 404 and does not count as the callback', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  let settled = false;
  const waiting = server.waitForCallback({ timeoutMs: 60_000 }).finally(() => (settled = true));

  const wrong = await httpGet(`http://127.0.0.1:${server.port}/callbackx?code=abc&state=xyz`);
  assert.equal(wrong.status, 404);
  const root = await httpGet(`http://127.0.0.1:${server.port}/?code=abc&state=xyz`);
  assert.equal(root.status, 404);
  assert.equal(settled, false);

  const reply = httpGet(`${server.redirectUri}?code=right&state=s1`);
  const callback = await waiting;
  assert.equal(callback.url.pathname, '/callback');
  assert.equal(callback.url.searchParams.get('code'), 'right');
  callback.respond({ title: 'Signed in', message: 'Return to the terminal.', ok: true });
  assert.equal((await reply).status, 200);
});

test('the response is held until respond(), and only one callback is accepted', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  let firstAnswered = false;
  const first = httpGet(`${server.redirectUri}?code=c1&state=s1`, () => (firstAnswered = true));
  const callback = await server.waitForCallback({ timeoutMs: 60_000 });

  const second = await httpGet(`${server.redirectUri}?code=c2&state=s2`);
  assert.equal(second.status, 410);
  assert.equal(firstAnswered, false, 'the browser got an answer before the flow finished');

  callback.respond({ title: 'Signed in', message: 'You are signed in as alice.', ok: true });
  callback.respond({ title: 'again', message: 'ignored', ok: false });
  const page = await first;
  assert.equal(page.status, 200);
  assert.match(page.body, /You are signed in as alice\./);
  assert.doesNotMatch(page.body, /ignored/);

  await server.close();
  assert.equal(await tryConnect(server.port, '127.0.0.1'), 'ECONNREFUSED');
});

test('the outcome page never carries the code, state or tokens and is escaped', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const code = 'SplxlOBeZQQYbYS6WxSbIA';
  const state = 'af0ifjsldkj-state-value';
  const reply = httpGet(`${server.redirectUri}?code=${code}&state=${state}`);
  const callback = await server.waitForCallback({ timeoutMs: 60_000 });
  callback.respond({
    title: '<script>alert(1)</script>',
    message: `Upstream refused code ${code} for state ${state} & more`,
    ok: false,
  });
  const page = await reply;
  assert.equal(page.status, 400);
  assert.ok(!page.body.includes(code), 'code on the page');
  assert.ok(!page.body.includes(state), 'state on the page');
  assert.ok(!page.body.includes('<script>'), 'unescaped HTML');
  assert.match(page.body, /&#60;script&#62;/);
  assert.match(page.body, /&#38; more/);
  assert.equal(page.headers['cache-control'], 'no-store');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  assert.match(String(page.headers['content-type']), /^text\/html/);
});

test('a timeout rejects with TIMEOUT naming --timeout and closes the port', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const err = await server.waitForCallback({ timeoutMs: 20 }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof IdpError);
  assert.equal(err.code, 'TIMEOUT');
  assert.match(hintOf(err), /--timeout/);
  assert.equal(await tryConnect(server.port, '127.0.0.1'), 'ECONNREFUSED');
});

test('an abort signal rejects with INTERRUPTED and closes the port', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const controller = new AbortController();
  const waiting = server.waitForCallback({ timeoutMs: 60_000, signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, (e: unknown) => e instanceof IdpError && e.code === 'INTERRUPTED');
  assert.equal(await tryConnect(server.port, '127.0.0.1'), 'ECONNREFUSED');

  const again = await startLoopback();
  t.after(() => again.close());
  await assert.rejects(
    again.waitForCallback({ timeoutMs: 60_000, signal: AbortSignal.abort() }),
    (e: unknown) => e instanceof IdpError && e.code === 'INTERRUPTED',
  );
  assert.equal(await tryConnect(again.port, '127.0.0.1'), 'ECONNREFUSED');
});

test('close() is idempotent and answers a held browser request instead of hanging', async (t) => {
  const server = await startLoopback({ path: '/cb' });
  t.after(() => server.close());
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/cb`);
  const reply = httpGet(`${server.redirectUri}?code=c&state=s`);
  await server.waitForCallback({ timeoutMs: 60_000 });
  await Promise.all([server.close(), server.close()]);
  await server.close();
  const page = await reply;
  assert.equal(page.status, 400);
  assert.match(page.body, /Return to the terminal/);
});

test('continueInTerminal answers the browser at once; the page long-polls its status URL, which gets the outcome, then the port closes', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const code = 'c0de-SplxlOBeZQQ';
  const reply = httpGet(`${server.redirectUri}?code=${code}&state=s1`);
  const callback = await server.waitForCallback({ timeoutMs: 60_000 });
  callback.continueInTerminal('<b>GitHub</b>');
  const page = await reply;
  assert.equal(page.status, 200);
  assert.match(page.body, /<h1>Signed in at &#60;b&#62;GitHub&#60;\/b&#62;<\/h1>/);
  assert.match(page.body, /Finish in your terminal\./);
  assert.match(page.body, /<noscript>/);
  const nonce = /<script nonce="([^"]+)">/.exec(page.body)?.[1];
  assert.ok(nonce, 'the polling script carries a nonce');
  assert.match(
    String(page.headers['content-security-policy']),
    new RegExp(`script-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'; connect-src 'self'`),
  );
  const statusPath = /fetch\("(\/status\/[A-Za-z0-9_-]{22})"/.exec(page.body)?.[1];
  assert.ok(statusPath, 'the page names its status URL');

  assert.equal(
    (await httpGet(`http://127.0.0.1:${server.port}/status/not-the-token`)).status,
    410,
    'only the page knows the status URL',
  );
  const status = await httpHeaders(`http://127.0.0.1:${server.port}${statusPath}`);
  assert.equal(status.status, 200);
  assert.match(String(status.headers['content-type']), /^application\/json/);
  callback.respond({ title: 'Signed in', message: `You are signed in to thrift (code ${code}).`, ok: true });
  assert.deepEqual(JSON.parse(await status.body), {
    title: 'Signed in',
    message: 'You are signed in to thrift (code [redacted]).',
    ok: true,
  });
  await server.close();
  assert.equal(await tryConnect(server.port, '127.0.0.1'), 'ECONNREFUSED');
});

test('a status request held when the server closes without an outcome gets the neutral "ended" answer', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const reply = httpGet(`${server.redirectUri}?error=access_denied&state=s1`);
  const callback = await server.waitForCallback({ timeoutMs: 60_000 });
  callback.continueInTerminal('Google');
  const page = await reply;
  assert.match(page.body, /Google did not sign you in/);
  const statusPath = /fetch\("([^"]+)"/.exec(page.body)![1]!;
  const status = await httpHeaders(`http://127.0.0.1:${server.port}${statusPath}`);
  await server.close();
  assert.match(JSON.parse(await status.body).message, /Return to the terminal/);
});
