// `idp login` on a terminal nobody sized: under a real pty of 0x0 (what `script` gives without a terminal around it)
// the wait for the callback stays bounded in output, --timeout holds, SIGTERM ends it with the loopback port closed,
// and --quiet --no-browser still prints the URL to finish the sign-in at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { childEnv, IDP_BIN, seededHome } from '../helpers/idp.js';
import { portAccepts } from '../helpers/login.js';
import { openStore } from '../../src/store/store.js';

/** More than a waiting login can honestly print; the runaway spinner wrote 104 MB in a minute. */
const MAX_OUTPUT = 256 * 1024;

interface PtyRun {
  pid: Promise<number>;
  /** Resolves once the output matches `pattern`. */
  output(pattern: RegExp): Promise<string>;
  done: Promise<{ code: number | null; output: string }>;
}

/** Runs idp under `script` (util-linux) in a pty of 0 rows and 0 columns; the shell prints its pid, then execs idp. */
function underZeroPty(home: string, args: string[], opts: { shrinkLater?: boolean } = {}): PtyRun {
  // shrinkLater: the pty starts at 24x80 and a background stty takes it to 0x0 while idp waits (idp gets SIGWINCH).
  const size = opts.shrinkLater
    ? 'stty rows 24 cols 80; (sleep 1; stty rows 0 cols 0 < /dev/tty) &'
    : 'stty rows 0 cols 0; stty size;';
  const command = `${size} echo PID=$$; exec '${process.execPath}' '${IDP_BIN}' ${args.join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: childEnv({ home }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let stopped = false;
  const waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT && !stopped) {
      // The runaway: idp itself first (a spinning event loop never sees the pty close), then script; the assertion reports it.
      stopped = true;
      const pid = /PID=(\d+)/.exec(output)?.[1];
      if (pid) process.kill(Number(pid), 'SIGKILL');
      child.kill('SIGKILL');
    }
    for (const w of waiters.filter((x) => x.pattern.test(output))) w.resolve(output);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, output })),
  );
  return {
    pid: new Promise((resolve) =>
      waiters.push({ pattern: /PID=(\d+)/, resolve: (text) => resolve(Number(/PID=(\d+)/.exec(text)![1])) }),
    ),
    output: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
    done,
  };
}

const LOGIN = ['login', '--app', 'thrift', '--connection', 'github', '--no-browser'];

test('0 columns, --quiet --no-browser --timeout 2: the URL is printed, and the login ends with exit 5 and little output', async () => {
  const home = await seededHome();
  const { code, output } = await underZeroPty(home, [...LOGIN, '--quiet', '--timeout', '2']).done;
  assert.ok(output.length < MAX_OUTPUT, `bounded output (${output.length} bytes)`);
  assert.match(output, /^0 0\r?$/m, 'the pty really has 0 rows and 0 columns');
  assert.match(
    output,
    /http:\/\/127\.0\.0\.1:\d+\/login\/oauth\/authorize\?\S*redirect_uri=/,
    'the URL to sign in at, even with --quiet',
  );
  assert.equal(code, 5, output);
});

test('a terminal shrunk to 0 columns while the spinner runs: --timeout still ends the login with bounded output', async () => {
  const home = await seededHome();
  const { code, output } = await underZeroPty(home, [...LOGIN, '--timeout', '3'], { shrinkLater: true }).done;
  assert.ok(output.length < MAX_OUTPUT, `bounded output (${output.length} bytes)`);
  assert.match(output, /no callback reached the loopback server within 3 s/);
  assert.equal(code, 5);
});

test('0 columns: SIGTERM ends the waiting login with exit 143, the flow failed and the loopback port closed', async () => {
  const home = await seededHome();
  const run = underZeroPty(home, LOGIN);
  const pid = await run.pid;
  const waiting = await run.output(/redirect to http:\/\/127\.0\.0\.1:(\d+)\/callback/);
  const port = Number(/redirect to http:\/\/127\.0\.0\.1:(\d+)\/callback/.exec(waiting)![1]);
  assert.equal(await portAccepts(port), true, 'the loopback server listens while the login waits');
  process.kill(pid, 'SIGTERM');
  const { code, output } = await run.done;
  assert.ok(output.length < MAX_OUTPUT, `bounded output (${output.length} bytes)`);
  assert.equal(code, 143, output);
  assert.equal(await portAccepts(port), false, 'the loopback port is closed');
  const store = openStore(home);
  try {
    assert.equal((await store.flows.recent(1))[0]?.status, 'failed', 'the flow is marked failed, not left active');
  } finally {
    store.close();
  }
});
