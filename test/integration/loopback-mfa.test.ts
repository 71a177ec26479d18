// The browser tab during MFA at the terminal: the loopback callback page answers before the MFA code is given (it
// says to finish in the terminal), and a page still open gets the final outcome from its status URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { codeInOutbox } from '../../src/cli/commands/login.js';
import { loginEngine } from '../../src/cli/context.js';
import { drive, type Answerer } from '../../src/cli/drivers/drive.js';
import { headlessAnswerer } from '../../src/cli/drivers/headless.js';
import { loginWorld, portAccepts } from '../helpers/login.js';

/** Resolves with the body's promise once the response headers arrive (the server holds the request by then). */
function heldGet(url: string): Promise<{ body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      const body = new Promise<string>((done) => {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(text));
      });
      resolve({ body });
    }).on('error', reject);
  });
}

// On the old code the page was held until the flow ended, which waited for this very MFA answer: a deadlock, which
// the timeout turns into a failure.
test('GitHub, then email-otp at the terminal: the callback page arrives before the code is answered', {
  timeout: 60_000,
}, async (t) => {
  const w = await loginWorld(t);
  await w.store.apps.update('thrift', { steps: [['password', 'google', 'github'], ['email-otp']] });
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const headless = headlessAnswerer({
    connection: 'github',
    persona: 'hubber',
    consent: 'approve',
    otp: { fromOutbox: async (flow) => codeInOutbox(w.store, flow) },
    personas: () => ['hubber'],
    connectionByName: async (name) => w.store.connections.get(name),
  });
  let pageAtMfa = '';
  let outcome: Promise<string> | undefined;
  let loopbackPort = 0;
  const answerer: Answerer = {
    ...headless,
    async callback(view, loopback, opts) {
      loopbackPort = loopback.port;
      return headless.callback(view, loopback, opts);
    },
    async mfa(view) {
      pageAtMfa = await headless.pages[0]!;
      const statusPath = /fetch\("(\/status\/[^"]+)"/.exec(pageAtMfa)?.[1];
      assert.ok(statusPath, pageAtMfa);
      outcome = (await heldGet(`http://127.0.0.1:${loopbackPort}${statusPath}`)).body;
      return headless.mfa(view);
    },
  };
  const view = await drive(engine, answerer, {
    app: 'thrift',
    timeoutMs: 60_000,
    signal: new AbortController().signal,
  });
  assert.equal(view.status, 'done');
  assert.match(pageAtMfa, /<h1>Signed in at GitHub<\/h1>/);
  assert.match(pageAtMfa, /Finish in your terminal/);
  assert.ok(outcome, 'MFA was asked');
  assert.deepEqual(JSON.parse(await outcome), {
    title: 'Signed in',
    message: 'You are signed in to thrift. Return to the terminal for the details.',
    ok: true,
  });
  assert.equal(await portAccepts(loopbackPort), false, 'the loopback server closed when the flow ended');
});
