// Serve benchmark (a script that prints figures, not a test): brokered logins per second through a running `idp serve`,
// without a browser: an openid-client relying party (code + PKCE), the server's pages and the sandbox GitHub answered
// over HTTP, each login JIT-provisioning a fresh persona; sequential and 8 concurrent. Against the same code flow on a
// bare oidc-provider whose interaction approves at once (the floor of the engine idp serve builds on), and the ratio.
// Both servers run as processes of their own (bench/bare-provider.js for the floor), so the relying party's work is
// outside either server's event loop and both sides are measured the same way, including each server's CPU time per
// login (Linux /proc). Each run starts both afresh, warms them up, measures the floor then idp serve; the figures are
// medians over the runs, with their range. Run after `npm run build`:
// `node bench/serve.js [--logins N] [--runs N] [--warmup N] [--exchanges] [--cpu-prof DIR]`. --exchanges adds a
// sequential pass per run that charges the server's CPU time to each HTTP exchange of a login; --cpu-prof profiles
// each idp serve.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { batch, median, numberArg, printTable, scratchDir, summary, verdict } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const BIN = join(ROOT, 'bin', 'idp.js');
const BARE = join(ROOT, 'bench', 'bare-provider.js');
const LOGINS = numberArg('--logins', 200);
const RUNS = numberArg('--runs', 3);
const WARMUP = numberArg('--warmup', 60);
const CONCURRENCY = 8;
const TARGETS = { brokeredPerSecond: 100, vsBare: 2 };
/** Where the RP's redirect goes; nothing listens there: the RP reads the code off the Location header. */
const REDIRECT_URI = 'http://localhost:5173/callback';
const ORG = 'bench';
const EXCHANGES = process.argv.includes('--exchanges');
const PROFILE_DIR = (() => {
  const i = process.argv.indexOf('--cpu-prof');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();

const scratch = scratchDir('serve');

/**
 * One code flow by the RP: authorize (answering pages), then the token request with the PKCE verifier. With `exchanges`,
 * each request's server CPU time is charged to its kind.
 */
async function codeFlow(config, answer, exchanges) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const agent = exchanges ? new TimedAgent(exchanges) : new UserAgent();
  const callback = await agent.authorize(url, REDIRECT_URI, answer);
  const grant = () =>
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  const tokens = exchanges ? await exchanges.time('POST token', grant) : await grant();
  if (!tokens.id_token) throw new Error('no ID token');
  return tokens.claims();
}

/** Server CPU time per kind of exchange (method and path, ids left out), summed over a pass of sequential logins. */
class Exchanges {
  totals = new Map();
  constructor(server) {
    this.server = server;
  }

  async time(kind, work) {
    const before = cpuMs(this.server.pid);
    const result = await work();
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + cpuMs(this.server.pid) - before);
    return result;
  }

  /** `GET /t/bench/oauth2/authorize/:id`; the sandbox's pages, on their own port, as `GET sandbox /login/...`. */
  kind(url, post) {
    const target = new URL(url);
    // Ids are long and random; a word such as `authenticationendpoint` is all lower-case letters.
    const path = target.pathname.replace(/\/(?![a-z]+(?:\/|$))[\w-]{20,}/g, '/:id');
    return `${post ? 'POST' : 'GET'} ${new URL(this.server.issuer).port === target.port ? '' : 'sandbox '}${path}`;
  }
}

function discover(issuer, clientId) {
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

/** /proc counts CPU time in clock ticks. */
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout || 100);

/** The CPU time (user + system, ms) a process has used so far, from /proc; undefined where there is no /proc. */
function cpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** A batch of logins with the server's CPU time per login beside its latencies. */
async function timed(label, server, count, concurrency, login) {
  const before = cpuMs(server.pid);
  const figures = summary(label, await batch(count, concurrency, login));
  const after = cpuMs(server.pid);
  return { ...figures, cpuPerLogin: before === undefined || after === undefined ? NaN : (after - before) / count };
}

/**
 * Warms `server` up (not counted), then LOGINS logins sequentially and LOGINS at CONCURRENCY; with --exchanges, then
 * LOGINS sequential logins with each exchange's server CPU time (ms per login).
 */
async function measure(label, server, login) {
  let n = 0;
  await batch(WARMUP, CONCURRENCY, () => login(n++));
  const sequential = await timed(`${label}, sequential`, server, LOGINS, 1, () => login(n++));
  const concurrent = await timed(`${label}, ${CONCURRENCY} concurrent`, server, LOGINS, CONCURRENCY, () => login(n++));
  if (!EXCHANGES) return { sequential, concurrent };
  const exchanges = new Exchanges(server);
  await batch(LOGINS, 1, () => login(n++, exchanges));
  const perLogin = new Map([...exchanges.totals].map(([kind, ms]) => [kind, ms / LOGINS]));
  return { sequential, concurrent, exchanges: perLogin };
}

/**
 * Starts a server process (`node ...args`) that prints a JSON listening line first; resolves with that line, its pid
 * and a close that stops it with SIGTERM. Its further stdout (idp serve's stage lines) is read and dropped.
 */
function startProcess(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolve({
        ...JSON.parse(line),
        pid: child.pid,
        close: () => {
          child.kill('SIGTERM');
          return exited;
        },
      }),
    );
  });
}

async function bare() {
  const server = await startProcess('the bare provider', [BARE, ORG, REDIRECT_URI]);
  try {
    const config = await discover(server.issuer, server.clientId);
    return await measure('bare oidc-provider', server, (_i, exchanges) =>
      codeFlow(
        config,
        () => {
          throw new Error('the bare provider showed a page');
        },
        exchanges,
      ),
    );
  } finally {
    await server.close();
  }
}

let nextGithubId = 7_000_000;

/** GitHub personas bench-serve-<i>, each with its own id and verified email, so every login provisions a new user. */
function personasFile(dir, count) {
  const github = Array.from({ length: count }, (_, i) => {
    const login = `bench-serve-${i}`;
    const email = `${login}@bench.example`;
    return {
      login,
      id: nextGithubId++,
      name: `Bench Serve ${i}`,
      publicEmail: email,
      emails: [{ email, primary: true, verified: true, visibility: 'public' }],
      avatarUrl: `https://avatars.example/${login}.png`,
    };
  });
  const file = join(dir, 'personas.json');
  writeFileSync(file, JSON.stringify({ github }));
  return file;
}

function idp(home, ...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, IDP_HOME: home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`idp ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** Run `run`'s brokered logins: a fresh org with one SPA, and `idp serve --port 0 --json` on it. */
async function brokered(run) {
  const home = join(scratch, `serve-${run}`);
  idp(home, 'init', '--quiet');
  idp(home, 'org', 'set', '--name', ORG);
  const created = JSON.parse(
    idp(
      home,
      'app',
      'create',
      'bench-spa',
      '--type',
      'spa',
      '--redirect-uri',
      REDIRECT_URI,
      '--step',
      '1=password,github',
      '--json',
    ),
  );
  const personas = personasFile(home, WARMUP + (EXCHANGES ? 3 : 2) * LOGINS);
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const server = await startProcess(
    'idp serve',
    [...profile, BIN, 'serve', '--port', '0', '--json', '--personas', personas],
    {
      IDP_HOME: home,
    },
  );
  try {
    const config = await discover(server.issuer, created.client_id);
    return await measure('idp serve, brokered', server, (i, exchanges) =>
      codeFlow(config, viaConnection('github', `bench-serve-${i}`), exchanges),
    );
  } finally {
    await server.close();
  }
}

let UserAgent;
let viaConnection;
/** The user agent, charging each request's server CPU time to its kind of exchange. */
let TimedAgent;

/** The median of one figure over the runs, with its range when there is more than one run. */
function spread(values, format) {
  const text = format(median(values));
  return values.length < 2 ? text : `${text} (${format(Math.min(...values))}-${format(Math.max(...values))})`;
}

async function main() {
  if (!existsSync(join(DIST, 'src', 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  console.log(
    `idp serve benchmark: node ${process.version}, ${RUNS} runs of ${LOGINS} logins per mode, each after ${WARMUP} warm-up logins; each brokered login provisions a new GitHub persona; medians (min-max)`,
  );
  // The walk through a sign-in's pages is the one the serve tests use (a browser without a browser).
  ({ UserAgent, viaConnection } = await import(join(DIST, 'test', 'helpers', 'user-agent.js')));
  TimedAgent = class extends UserAgent {
    constructor(exchanges) {
      super();
      this.exchanges = exchanges;
    }

    send(url, init = {}) {
      const kind = this.exchanges.kind(url, Boolean(init.body));
      // The body is read inside the timing: the server's work for this request is done once it has been sent.
      return this.exchanges.time(kind, async () => {
        const res = await super.send(url, init);
        await res.clone().arrayBuffer();
        return res;
      });
    }
  };
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const floor = await bare();
    const broker = await brokered(run);
    runs.push({ floor, broker });
    const c = (m) => `${m.concurrent.perSecond.toFixed(1)}/s`;
    console.log(`run ${run + 1}: bare ${c(floor)}, brokered ${c(broker)} at ${CONCURRENCY} concurrent`);
  }
  console.log('');
  const ms = (v) => `${v.toFixed(2)} ms`;
  const perSecond = (v) => `${v.toFixed(1)}/s`;
  const times = (v) => `${v.toFixed(2)}x`;
  const modes = [
    ['floor', 'sequential'],
    ['floor', 'concurrent'],
    ['broker', 'sequential'],
    ['broker', 'concurrent'],
  ];
  printTable(
    ['mode', 'p50', 'p95', 'logins/s', 'server CPU per login'],
    modes.map(([side, mode]) => {
      const all = runs.map((r) => r[side][mode]);
      return [
        all[0].label,
        spread(
          all.map((s) => s.p50),
          ms,
        ),
        spread(
          all.map((s) => s.p95),
          ms,
        ),
        spread(
          all.map((s) => s.perSecond),
          perSecond,
        ),
        spread(
          all.map((s) => s.cpuPerLogin),
          ms,
        ),
      ];
    }),
  );
  console.log('');
  // Per-login cost at 8 concurrent: the machine's throughput is what a busy server offers. Each run's ratio is taken
  // within the run, so both sides of it saw the same machine.
  const throughput = runs.map((r) => r.broker.concurrent.perSecond);
  const ratios = runs.map((r) => r.floor.concurrent.perSecond / r.broker.concurrent.perSecond);
  const cpuRatios = runs.map((r) => r.broker.concurrent.cpuPerLogin / r.floor.concurrent.cpuPerLogin);
  const p50Ratios = runs.map((r) => r.broker.sequential.p50 / r.floor.sequential.p50);
  printTable(
    ['measure', 'value', 'target', 'result'],
    [
      [
        `brokered logins/s, ${CONCURRENCY} concurrent`,
        spread(throughput, perSecond),
        `>= ${TARGETS.brokeredPerSecond}/s`,
        verdict(median(throughput) >= TARGETS.brokeredPerSecond),
      ],
      [
        `brokered / bare per-login cost, ${CONCURRENCY} concurrent`,
        spread(ratios, times),
        `<= ${TARGETS.vsBare}x`,
        verdict(median(ratios) <= TARGETS.vsBare),
      ],
      [`brokered / bare server CPU per login, ${CONCURRENCY} concurrent`, spread(cpuRatios, times), '', ''],
      ['brokered / bare p50, sequential', spread(p50Ratios, times), '', ''],
    ],
  );
  if (EXCHANGES) printExchanges(runs, ms);
}

/** Each kind of exchange's server CPU per login, median over the runs, costliest first, with each side's total. */
function printExchanges(runs, ms) {
  const rows = [];
  for (const side of ['floor', 'broker']) {
    const kinds = new Set(runs.flatMap((r) => [...r[side].exchanges.keys()]));
    const each = [...kinds].map((kind) => [kind, median(runs.map((r) => r[side].exchanges.get(kind) ?? 0))]);
    each.sort((a, b) => b[1] - a[1]);
    const label = runs[0][side].sequential.label.replace(', sequential', '');
    for (const [kind, value] of each) rows.push([label, kind, ms(value)]);
    rows.push([label, 'all exchanges', ms(each.reduce((sum, [, value]) => sum + value, 0))]);
  }
  console.log('');
  printTable(['server', `exchange (${LOGINS} sequential logins per run)`, 'server CPU per login'], rows);
}

await main();
