// The loopback server's passkey page on real sockets: served at `localhost` only (RP ID localhost), with the options as
// inert data and this server's two scripts under a strict CSP; an answer only from the page's own origin, once; a
// retry's page replaces the last; timeout, abort and close end the wait with their refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { startLoopback } from '../../src/loopback/server.js';
import { IdpError } from '../../src/core/errors.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request to 127.0.0.1 with the Host header (and others) a browser at `http://localhost:PORT` sends. */
function send(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname,
        method: opts.method ?? 'GET',
        agent: false,
        headers: { host: opts.host ?? target.host, ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject).end(opts.body);
  });
}

function post(url: string, origin: string, fields: Record<string, string>): Promise<Reply> {
  return send(url, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

const OPTIONS = { challenge: 'abc', rpId: 'localhost', allowCredentials: [], userVerification: 'required' };

function refusedWith(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof IdpError, String(err));
    assert.equal(err.code, code);
    return true;
  };
}

test('the passkey page is served at localhost with its options as data and only this server’s scripts', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const ask = await server.askPasskey(
    { mode: 'enrol', options: { ...OPTIONS, user: { name: '</script><b>' } }, app: 'kiosk' },
    { timeoutMs: 60_000 },
  );
  // The page has a port of its own (held on 127.0.0.1 and ::1), not the callback's.
  assert.match(ask.url, /^http:\/\/localhost:\d+\/passkey\/[A-Za-z0-9_-]{22}$/);
  assert.equal(ask.origin, `http://localhost:${new URL(ask.url).port}`);
  const page = await send(ask.url, {
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' },
  });
  assert.equal(page.status, 200);
  assert.match(
    String(page.headers['content-security-policy']),
    /default-src 'none';.*script-src 'self'; form-action 'self'/,
  );
  assert.equal(page.headers['cache-control'], 'no-store');
  // Not no-referrer: a browser would then post `Origin: null`, and the answer's origin check would refuse the page.
  assert.equal(page.headers['referrer-policy'], 'same-origin');
  assert.match(page.body, /<form method="post" action="\/passkey\/[^"]+" id="passkey-form" data-mode="enrol">/);
  assert.match(page.body, /value="Chrome on Linux"/, 'the name the browser suggests');
  assert.match(page.body, /<noscript>.*Passkeys need JavaScript/);
  const json = /<script type="application\/json" id="passkey-options">([^<]*)<\/script>/.exec(page.body)?.[1];
  assert.equal(JSON.parse(json!).user.name, '</script><b>', 'the options, inert');
  assert.deepEqual(
    [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]),
    ['/assets/simplewebauthn-browser.js', '/assets/passkey.js'],
  );
  const origin = new URL(ask.url).origin;
  const library = await send(`${origin}/assets/simplewebauthn-browser.js`);
  assert.equal(library.status, 200);
  assert.match(String(library.headers['content-type']), /^text\/javascript/);
  assert.equal((await send(`${origin}/assets/../package.json`)).status, 404);
  assert.equal((await send(`${origin}/assets/index.umd.min.js`)).status, 404);
});

test('only a browser at localhost gets the page, and only the page’s own origin may answer, once', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const ask = await server.askPasskey({ mode: 'authenticate', options: OPTIONS, app: 'kiosk' }, { timeoutMs: 60_000 });
  const answered = { value: false };
  void ask.answer.then(() => (answered.value = true));

  assert.equal(
    (await send(ask.url, { host: `127.0.0.1:${new URL(ask.url).port}` })).status,
    421,
    'RP ID localhost: not 127.0.0.1',
  );
  assert.equal(
    (await send(ask.url, { host: `evil.example:${new URL(ask.url).port}` })).status,
    421,
    'a rebound DNS name',
  );
  assert.equal((await send(`${ask.origin}/passkey/guessed`)).status, 404, 'another secret is no page');
  const response = JSON.stringify({ id: 'cred', response: { signature: 's' } });
  assert.equal((await post(ask.url, 'http://localhost:1', { response })).status, 403, 'another origin');
  assert.equal((await post(ask.url, ask.origin, { response: '{' })).status, 400, 'not JSON');
  assert.equal(answered.value, false);

  const sent = await post(ask.url, ask.origin, { response, name: 'ignored when signing in' });
  assert.equal(sent.status, 200);
  assert.match(sent.body, /Return to the terminal/);
  assert.deepEqual(await ask.answer, { response: JSON.parse(response) });
  assert.equal((await post(ask.url, ask.origin, { response })).status, 410, 'answered once');
  assert.equal((await send(ask.url)).status, 410);
});

test('enrolment posts the name; a retry’s page replaces the last one', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const first = await server.askPasskey({ mode: 'enrol', options: OPTIONS, app: 'kiosk' }, { timeoutMs: 60_000 });
  const second = await server.askPasskey(
    { mode: 'enrol', options: OPTIONS, app: 'kiosk', retry: 'the passkey was refused' },
    { timeoutMs: 60_000 },
  );
  await assert.rejects(first.answer, refusedWith('INTERNAL'));
  assert.notEqual(first.url, second.url);
  assert.equal((await send(first.url)).status, 404, 'the replaced page is gone');
  assert.match((await send(second.url)).body, /role="alert">the passkey was refused</);
  await post(second.url, second.origin, { response: '{"id":"new"}', name: ' Work laptop ' });
  assert.deepEqual(await second.answer, { response: { id: 'new' }, name: 'Work laptop' });
});

test('a timeout, an abort and the server closing end the wait', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const timed = await server.askPasskey({ mode: 'authenticate', options: OPTIONS, app: 'a' }, { timeoutMs: 50 });
  await assert.rejects(timed.answer, (err: unknown) => {
    assert.ok(err instanceof IdpError && err.code === 'TIMEOUT');
    assert.match(err.message, /no passkey answer reached the loopback page within 50 ms/);
    return true;
  });
  const controller = new AbortController();
  const aborted = await server.askPasskey(
    { mode: 'authenticate', options: OPTIONS, app: 'a' },
    { timeoutMs: 60_000, signal: controller.signal },
  );
  controller.abort();
  await assert.rejects(aborted.answer, refusedWith('INTERRUPTED'));
  const open = await server.askPasskey({ mode: 'authenticate', options: OPTIONS, app: 'a' }, { timeoutMs: 60_000 });
  await server.close();
  await assert.rejects(open.answer, refusedWith('INTERRUPTED'));
});

/** GET over ::1 with the Host a browser at `http://localhost:PORT` sends: who answers that address? */
function sendV6(url: string): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '::1', port: target.port, path: target.pathname, agent: false, headers: { host: target.host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject).end();
  });
}

// SECURITY: the passkey page departs from DESIGN.md's "loopback binds 127.0.0.1 only": its port is held on ::1 too,
// because a browser opening `localhost` may go to ::1, and whoever listens there would get the page's secret path and
// could post a forged answer to 127.0.0.1 (the review's squatter). A port whose ::1 side is taken is not used.
test('a process squatting [::1] at the loopback port never gets the passkey page: the page is served only where idp holds both addresses', async (t) => {
  const server = await startLoopback();
  t.after(() => server.close());
  const seen: string[] = [];
  const squatter = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('squatter page');
  });
  await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(server.port, '::1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));

  const ask = await server.askPasskey({ mode: 'enrol', options: OPTIONS, app: 'kiosk' }, { timeoutMs: 60_000 });
  const overV6 = await sendV6(ask.url);
  assert.equal(overV6.status, 200, overV6.body);
  assert.match(overV6.body, /id="passkey-form"/, '::1 at the page’s port is idp’s own');
  assert.equal((await send(ask.url)).status, 200, 'and so is 127.0.0.1');
  assert.deepEqual(seen, [], 'the squatter never saw the secret path');
  const port = Number(new URL(ask.url).port);
  const taken = await new Promise<string>((resolve) => {
    const late = createServer();
    late.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    late.listen(port, '::1', () => late.close(() => resolve('bound')));
  });
  assert.equal(taken, 'EADDRINUSE', 'nobody else can take ::1 at the page’s port while it is served');
});
