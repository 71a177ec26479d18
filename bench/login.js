// Login benchmark (a script that prints figures, not a test): brokered headless logins through the sandbox GitHub,
// each one JIT-provisioning a fresh persona, (a) in process through headlessLogin with one shared set of upstreams per
// mode (and, for comparison, one per 20 personas: the sandbox's account chooser lists them all) and (b) as whole
// `idp login --headless` processes; sequential and 4 at a time; against the cost floor of one loopback HTTP round trip,
// one RS256 signature and one SQLite insert. Run after `npm run build`: `node bench/login.js [--logins N] [--processes N]`.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batch, median, numberArg, printTable, scratchDir, summary, verdict } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'idp.js');
const DIST = join(ROOT, 'dist', 'src');
const LOGINS = numberArg('--logins', 200);
const PROCESSES = numberArg('--processes', 20);
const CONCURRENCY = 4;
const WARMUP = 10;
/** Personas per sandbox in the comparison row: about what a hand-written personas file holds. */
const SMALL_SANDBOX = 20;
const FLOOR_RUNS = 500;
const TARGETS = { inProcessP50Ms: 15, processVsNode: 4 };

const scratch = scratchDir('login');

const dist = (path) => import(join(DIST, path));

let nextGithubId = 5_000_000;

/** GitHub personas bench-<label>-<i>, each with its own id and verified email, so every login provisions a new user. */
function personasFile(label, count) {
  const github = Array.from({ length: count }, (_, i) => {
    const login = `bench-${label}-${i}`;
    const email = `${login}@bench.example`;
    return {
      login,
      id: nextGithubId++,
      name: `Bench ${label} ${i}`,
      publicEmail: email,
      emails: [{ email, primary: true, verified: true, visibility: 'public' }],
      avatarUrl: `https://avatars.example/${login}.png`,
    };
  });
  const file = join(scratch, `personas-${label}.json`);
  writeFileSync(file, JSON.stringify({ github }));
  return { file, logins: github.map((p) => p.login) };
}

/**
 * In-process logins through headlessLogin, each provisioning a fresh persona. Every `perSandbox` logins share one set of
 * upstreams (one sandbox, started and warmed by a login that is not counted) whose personas are exactly those logins':
 * the sandbox's account chooser lists every persona, so its size is part of what a login costs.
 */
async function inProcessMode(env, { label, logins, concurrency, perSandbox }) {
  const latencies = [];
  let wallMs = 0;
  for (let done = 0; done < logins; done += perSandbox) {
    const count = Math.min(perSandbox, logins - done);
    const { file, logins: personas } = personasFile(`${env.next++}`, count + 1);
    const upstreams = await env.upstreamsFor(env.store, { personasFile: file });
    let used = 0;
    const login = async () => {
      const persona = personas[used++];
      const { view } = await env.headlessLogin({
        store: env.store,
        app: 'thrift',
        answers: { connection: 'github', persona, consent: 'approve' },
        upstreams,
        personasFile: file,
      });
      if (view.status !== 'done' || view.result.jit?.decision !== 'provision')
        throw new Error(
          `login as ${persona}: ${JSON.stringify(view.status === 'failed' ? view.error : view.result.jit)}`,
        );
    };
    try {
      await login();
      const run = await batch(count, concurrency, login);
      latencies.push(...run.latencies);
      wallMs += run.wallMs;
    } finally {
      await upstreams.close();
    }
  }
  return summary(label, { latencies, wallMs });
}

async function inProcess() {
  const { prepareHome } = await dist('store/db.js');
  const { openStore } = await dist('store/store.js');
  const { createOrganisation, upstreamsFor } = await dist('cli/context.js');
  const { headlessLogin } = await dist('cli/drivers/headless.js');
  const home = join(scratch, 'in-process');
  prepareHome(home);
  const store = openStore(home);
  await createOrganisation(store, { demo: true, actor: 'bench' });
  const env = { store, headlessLogin, upstreamsFor, next: 0 };
  try {
    await inProcessMode(env, { label: 'warm-up', logins: WARMUP, concurrency: 1, perSandbox: WARMUP });
    return {
      sequential: await inProcessMode(env, {
        label: 'in-process, sequential',
        logins: LOGINS,
        concurrency: 1,
        perSandbox: LOGINS,
      }),
      concurrent: await inProcessMode(env, {
        label: `in-process, ${CONCURRENCY} concurrent`,
        logins: LOGINS,
        concurrency: CONCURRENCY,
        perSandbox: LOGINS,
      }),
      smallChooser: await inProcessMode(env, {
        label: `in-process, sequential, ${SMALL_SANDBOX} personas per sandbox`,
        logins: LOGINS,
        concurrency: 1,
        perSandbox: SMALL_SANDBOX,
      }),
    };
  } finally {
    store.close();
  }
}

function runNode(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited ${code}:\n${stderr}`)),
    );
  });
}

async function wholeProcess() {
  const home = join(scratch, 'processes');
  spawnSync(process.execPath, [BIN, 'init', '--quiet'], { env: { ...process.env, IDP_HOME: home } });
  const { file, logins } = personasFile('proc', 2 + 2 * PROCESSES);
  let used = 0;
  const login = () =>
    runNode(
      [
        BIN,
        'login',
        '--app',
        'thrift',
        '--headless',
        '--connection',
        'github',
        '--as',
        logins[used++],
        '--personas',
        file,
        '--quiet',
      ],
      { IDP_HOME: home },
    );
  await batch(2, 1, login); // page cache
  // `node -e 0` runs interleaved with the sequential logins, so a change in machine load hits both alike.
  const nodeRuns = [];
  const sequential = summary(
    'whole process, sequential',
    await batch(PROCESSES, 1, async () => {
      const t0 = performance.now();
      await runNode(['-e', '0'], {});
      nodeRuns.push(performance.now() - t0);
      const t1 = performance.now();
      await login();
      return performance.now() - t1;
    }),
  );
  const concurrent = summary(`whole process, ${CONCURRENCY} at a time`, await batch(PROCESSES, CONCURRENCY, login));
  return { sequential, concurrent, nodeMs: median(nodeRuns) };
}

/** Median of `runs` timed calls of an async function, after a warm-up. */
async function timedMedian(runs, fn) {
  for (let i = 0; i < 50; i++) await fn(i);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function floor() {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const http = await timedMedian(FLOOR_RUNS, async () => (await fetch(url)).text());
  server.close();
  server.closeAllConnections();

  // The same primitive idp signs ID tokens with: node:crypto RS256 (apps' default since idp serve: the Asgardeo SDKs
  // accept only the RSA family) over header.payload, with a 2048-bit key imported once.
  const { generateKeyPairSync, sign: rsaSign } = await import('node:crypto');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = Buffer.from(
    `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":"u","aud":"app"}').toString('base64url')}`,
  );
  const sign = await timedMedian(FLOOR_RUNS, () => rsaSign('sha256', input, privateKey));

  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(scratch, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (id, body) VALUES (?, ?)');
  const sqlite = await timedMedian(FLOOR_RUNS, (i) => insert.run(`row-${i}-${Math.random()}`, 'x'.repeat(200)));
  db.close();
  return { http, sign, sqlite, total: http + sign + sqlite };
}

async function main() {
  if (!existsSync(join(DIST, 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  console.log(
    `idp login benchmark: node ${process.version}, ${LOGINS} in-process logins per mode, ${PROCESSES} processes per mode, each login provisions a new GitHub persona`,
  );
  const cost = await floor();
  const inproc = await inProcess();
  const procs = await wholeProcess();
  const ms = (v) => `${v.toFixed(2)} ms`;
  const rows = [inproc.sequential, inproc.concurrent, inproc.smallChooser, procs.sequential, procs.concurrent].map(
    (s) => [s.label, ms(s.p50), ms(s.p95), `${s.perSecond.toFixed(1)}/s`],
  );
  printTable(['mode', 'p50', 'p95', 'logins/s'], rows);
  console.log('');
  printTable(
    ['cost floor (median)', 'time'],
    [
      ['loopback HTTP round trip (node:http + fetch)', ms(cost.http)],
      ['RS256 signature (node:crypto, key imported once)', ms(cost.sign)],
      ['SQLite insert (better-sqlite3, WAL)', ms(cost.sqlite)],
      ['sum', ms(cost.total)],
    ],
  );
  console.log('');
  const processRatio = procs.sequential.p50 / procs.nodeMs;
  printTable(
    ['measure', 'value', 'target', 'result'],
    [
      [
        `in-process login p50 (one sandbox, ${LOGINS + 1} personas)`,
        ms(inproc.sequential.p50),
        `<= ${TARGETS.inProcessP50Ms} ms`,
        verdict(inproc.sequential.p50 <= TARGETS.inProcessP50Ms),
      ],
      [
        `in-process login p50 (${SMALL_SANDBOX} personas per sandbox)`,
        ms(inproc.smallChooser.p50),
        `<= ${TARGETS.inProcessP50Ms} ms`,
        verdict(inproc.smallChooser.p50 <= TARGETS.inProcessP50Ms),
      ],
      ['in-process p50 / cost floor', `${(inproc.sequential.p50 / cost.total).toFixed(1)}x`, '', ''],
      ['node -e 0 (median)', ms(procs.nodeMs), '', ''],
      [
        'whole-process login p50 / node -e 0',
        `${processRatio.toFixed(2)}x`,
        `<= ${TARGETS.processVsNode}x`,
        verdict(processRatio <= TARGETS.processVsNode),
      ],
    ],
  );
}

await main();
