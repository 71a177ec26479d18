// `idp serve` as an operator meets it: a bad or busy port is a one-line refusal (exit 2) naming the fix, and one JSON
// line with --json; a request
// under another Host name is refused (DNS rebinding); the running server records itself for `idp doctor`, which asks
// it, and removes the record when it stops; a record left by a dead server is a warning, not a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { expectCode, runIdp, seededHome } from '../helpers/idp.js';
import { startServe } from '../helpers/serve.js';

interface DoctorCheck {
  name: string;
  status: string;
  detail: string;
}

async function doctorServeCheck(home: string): Promise<DoctorCheck | undefined> {
  const r = await runIdp(['doctor', '--json'], { home });
  const report = JSON.parse(r.stdout) as { checks: DoctorCheck[] };
  return report.checks.find((c) => c.name === 'idp serve');
}

test('a port that is not a number, or one already taken, is refused with exit 2 and a hint', async () => {
  const home = await seededHome();
  const bad = expectCode(await runIdp(['serve', '--port', 'http'], { home }), 2);
  assert.match(bad.stderr, /--port takes a port from 0 to 65535, not 'http'/);
  assert.match(bad.stderr, /\nhint: e\.g\. --port 8788, or --port 0 for any free port/);

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const busy = expectCode(await runIdp(['serve', '--port', String(port)], { home }), 2);
    assert.match(busy.stderr, new RegExp(`idp serve cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    assert.match(busy.stderr, /\nhint: pick another --port, or 0 for any free port/);
    // With --json the output is JSON lines, so the refusal is one line a stream reader parses on its own.
    const lines = expectCode(await runIdp(['serve', '--port', String(port), '--json'], { home }), 2).stdout;
    assert.equal(lines.split('\n').length, 2, `one line, then the newline: ${lines}`);
    assert.equal((JSON.parse(lines) as { error: { code: string } }).error.code, 'USAGE');
    const option = expectCode(await runIdp(['serve', '--port', 'http', '--json'], { home }), 2).stdout;
    assert.equal(option.split('\n').length, 2, `a refused option too: ${option}`);
  } finally {
    taken.close();
  }
});

test('a request naming another host is refused: only localhost, 127.0.0.1 and [::1] reach the provider', async () => {
  const home = await seededHome();
  const server = await startServe(home);
  try {
    const port = new URL(server.url).port;
    // fetch will not send another Host; node:http sends what it is given, as a rebound browser would.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) =>
      request(
        {
          host: '127.0.0.1',
          port,
          path: '/t/default/oauth2/token/.well-known/openid-configuration',
          headers: { host: `attacker.example:${port}` },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
        .on('error', reject)
        .end(),
    );
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /attacker/, 'the discovery document never names the foreign host');
    const direct = await fetch(`http://127.0.0.1:${port}/t/default/oauth2/token/.well-known/openid-configuration`);
    assert.equal(direct.status, 200);
    assert.equal(((await direct.json()) as { issuer: string }).issuer, server.issuer, 'the issuer stays localhost');
  } finally {
    await server.stop();
  }
});

test('doctor asks the running server through its serve.json; the record goes when it stops; a stale one is a warning', async () => {
  const home = await seededHome();
  const record = join(home, 'serve.json');
  assert.equal(await doctorServeCheck(home), undefined, 'no server, no check');

  const server = await startServe(home);
  let written: { pid: number; url: string; issuer: string };
  try {
    written = JSON.parse(readFileSync(record, 'utf8'));
    assert.equal(written.url, server.url);
    assert.equal(written.issuer, server.issuer);
    const running = await doctorServeCheck(home);
    assert.equal(running?.status, 'ok', running?.detail);
    assert.match(running?.detail ?? '', new RegExp(`pid ${written.pid}`));
  } finally {
    assert.equal(await server.stop(), 143);
  }
  assert.equal(existsSync(record), false, 'a stopped server removes its record');

  writeFileSync(record, JSON.stringify({ ...written, pid: 2 ** 22 + 1 }));
  const stale = await doctorServeCheck(home);
  assert.equal(stale?.status, 'warning');
  assert.match(stale?.detail ?? '', /not running/);
});
