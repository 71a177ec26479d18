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
//
// `bash .ci/with-pg.sh node bench/serve.js --postgres [--logins N] [--runs N] [--warmup N]` (or IDP_TEST_PG_URL and
// PGPASSWORD set, for a role that may create databases) measures instead, in each run, the same org three ways: one
// `idp serve` on SQLite, one on PostgreSQL, and two on one PostgreSQL database, each setup on a fresh org (a new
// database, dropped after; a random IDP_SEAL_KEY), warmed up, then sequential, 8 and 16 concurrent logins in all.
// Every instance has the same --public-url, so the RP sees one issuer; it sends login n, all of it, to instance
// n mod count (the affinity a load balancer would need: the sandbox GitHub runs inside each instance). Server CPU per
// login is the instances' plus the whole PostgreSQL cluster's (postmaster, backends, background workers, exited ones
// included), from /proc; beside it the RP's, and how busy the cores were (this bench's processes, the machine). It
// reports PostgreSQL's cost against SQLite's, two instances' logins/s against one's (target 1.5x), and when the cores
// bind; and PostgreSQL's transactions per login, rolled back (serialization failures, rerun) among them. No bare floor.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
async function codeFlow(config, answer, exchanges, agent = exchanges ? new TimedAgent(exchanges) : new UserAgent()) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
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

/** The RP's configuration; with `route`, each of its requests (discovery, token) goes where `route` sends its URL. */
function discover(issuer, clientId, route) {
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
    ...(route ? { [client.customFetch]: (url, options) => fetch(route(url), options) } : {}),
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

/** Runs `idp ...args` with `env` added to the bench's own; its stdout. */
function idp(env, ...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`idp ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/**
 * A fresh org named ORG with one SPA whose first step offers GitHub; `store` is the global options naming where it
 * lives (none: the data directory in env's IDP_HOME). Resolves with the app as `app create --json` prints it.
 */
function createOrg(env, store = []) {
  idp(env, ...store, 'init', '--quiet');
  idp(env, ...store, 'org', 'set', '--name', ORG);
  return JSON.parse(
    idp(
      env,
      ...store,
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
}

/** Run `run`'s brokered logins: a fresh org with one SPA, and `idp serve --port 0 --json` on it. */
async function brokered(run) {
  const home = join(scratch, `serve-${run}`);
  const created = createOrg({ IDP_HOME: home });
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

/** The user agents, from the build (the walk through a sign-in's pages is the serve tests' browser without a browser). */
async function loadAgents() {
  if (!existsSync(join(DIST, 'src', 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
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
}

async function main() {
  await loadAgents();
  console.log(
    `idp serve benchmark: node ${process.version}, ${RUNS} runs of ${LOGINS} logins per mode, each after ${WARMUP} warm-up logins; each brokered login provisions a new GitHub persona; medians (min-max)`,
  );
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

// --postgres: the same org on SQLite, on PostgreSQL, and on PostgreSQL behind two instances, measured in one run.

const CORES = availableParallelism();
const SCALE_TARGET = 1.5;
/** The origin every instance advertises (--public-url). Nothing listens there: the RP routes each request itself. */
const PUBLIC_URL = 'http://localhost:8080';
const PUBLIC_ORIGIN = new URL(PUBLIC_URL).origin;
const PG_CONCURRENCIES = [CONCURRENCY, 2 * CONCURRENCY];
/** From this share of the cores busy (the whole machine's, /proc/stat), the cores are what binds. */
const SATURATED = 0.9;
const SETUPS = [
  { key: 'sqlite', label: 'SQLite, 1 instance', instances: 1 },
  { key: 'pg1', label: 'PostgreSQL, 1 instance', instances: 1, postgres: true },
  { key: 'pg2', label: 'PostgreSQL, 2 instances', instances: 2, postgres: true },
];
/** The user agent that sends what is addressed to the public origin to one instance, as a load balancer would. */
let RoutedAgent;

/** Busy CPU time of the whole machine so far (ms, all cores): /proc/stat's total less idle and iowait. */
function machineBusyMs() {
  // user nice system idle iowait irq softirq steal (guest time is counted in user already).
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
  return (total - ticks[3] - ticks[4]) * TICK_MS;
}

/** Where each process's CPU time stood: the instances, the PostgreSQL cluster, this process (the RP), the machine. */
function reading(instances, cluster) {
  const { user, system } = process.cpuUsage();
  return {
    at: performance.now(),
    idp: instances.reduce((sum, instance) => sum + cpuMs(instance.pid), 0),
    postgres: cluster ? cluster.cpuMs() : 0,
    rp: (user + system) / 1000,
    machine: machineBusyMs(),
  };
}

/** A batch of logins with each side's CPU per login, and how busy the cores were (this bench's processes, all). */
async function costed(label, instances, cluster, count, concurrency, login) {
  const failures = [];
  const before = reading(instances, cluster);
  const figures = summary(label, await batch(count, concurrency, login, failures));
  const after = reading(instances, cluster);
  const used = (key) => after[key] - before[key];
  const ours = used('idp') + used('postgres') + used('rp');
  const capacity = (after.at - before.at) * CORES;
  // Per login that succeeded (logins/s counts those only): what failed ones cost is part of the price of the others.
  const done = count - failures.length;
  return {
    ...figures,
    failures: failures.map(reason),
    idpCpu: used('idp') / done,
    pgCpu: used('postgres') / done,
    serverCpu: (used('idp') + used('postgres')) / done,
    rpCpu: used('rp') / done,
    allCpu: ours / done,
    ours: ours / capacity,
    machine: used('machine') / capacity,
  };
}

/** Why a login failed, in a few words: the error code idp's page names (STORE_BUSY), else the message's start. */
function reason(err) {
  const message = String(err?.message ?? err);
  return /Error code ([A-Z_]+)/.exec(message)?.[1] ?? message.split('\n')[0].slice(0, 120);
}

/** Sends a URL on the public origin to `instance`'s listening address; any other (the sandbox's pages) as it is. */
function routeTo(instance) {
  return (url) => {
    const target = new URL(url);
    return target.origin === PUBLIC_ORIGIN ? new URL(`${target.pathname}${target.search}`, instance.url) : target;
  };
}

/**
 * Warms the instances up, then LOGINS logins sequentially and LOGINS at each of PG_CONCURRENCIES. Login n goes to
 * instance n mod count, the whole of it: the sandbox GitHub runs inside each instance, so its callback must come back
 * to the instance that sent the person there, as a load balancer with session affinity does; the RP's token request
 * goes there too (a SPA's comes from the same browser).
 */
async function measureSetup(setup, instances, cluster, clientId) {
  const issuers = new Set(instances.map((instance) => instance.issuer));
  if (issuers.size !== 1) throw new Error(`the instances advertise different issuers: ${[...issuers].join(', ')}`);
  const routes = instances.map(routeTo);
  const configs = await Promise.all(instances.map((instance, k) => discover(instance.issuer, clientId, routes[k])));
  const login = (n) => {
    const k = n % instances.length;
    return codeFlow(configs[k], viaConnection('github', `bench-serve-${n}`), undefined, new RoutedAgent(routes[k]));
  };
  let n = 0;
  const warmUp = [];
  await batch(WARMUP, CONCURRENCY, () => login(n++), warmUp);
  const result = {
    warmUpFailures: warmUp.map(reason),
    sequential: await costed(`${setup.label}, sequential`, instances, cluster, LOGINS, 1, () => login(n++)),
  };
  for (const c of PG_CONCURRENCIES)
    result[c] = await costed(`${setup.label}, ${c} concurrent`, instances, cluster, LOGINS, c, () => login(n++));
  return result;
}

/**
 * One setup in one run: a fresh org (a data directory, or a new database dropped after), its instances of
 * `idp serve --public-url PUBLIC_URL`, its figures, and on PostgreSQL the database's transactions per login.
 */
async function runSetup(setup, run, cluster, sealKey) {
  const home = join(scratch, `${setup.key}-${run}`);
  mkdirSync(home, { recursive: true });
  const env = { IDP_HOME: home, ...(setup.postgres ? { IDP_SEAL_KEY: sealKey } : {}) };
  const database = setup.postgres ? await cluster.createDatabase() : undefined;
  const store = database ? ['--store', database.url] : [];
  try {
    const created = createOrg(env, store);
    const logins = WARMUP + LOGINS * (1 + PG_CONCURRENCIES.length);
    const personas = personasFile(home, logins);
    const setUp = database && (await cluster.transactions(database.name));
    const instances = [];
    let figures;
    try {
      for (let i = 0; i < setup.instances; i++) {
        const args = [BIN, ...store, 'serve', '--port', '0', '--json', '--public-url', PUBLIC_URL];
        instances.push(await startProcess('idp serve', [...args, '--personas', personas], env));
      }
      figures = await measureSetup(setup, instances, database && cluster, created.client_id);
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
    if (database) {
      // Counted once every instance has gone (PostgreSQL's statistics are complete only then): the whole setup's
      // logins, warm-up included, against what init and app create had committed.
      const done = await cluster.transactions(database.name);
      figures.committedPerLogin = (done.committed - setUp.committed) / logins;
      figures.rolledBackPerLogin = (done.rolledBack - setUp.rolledBack) / logins;
    }
    return figures;
  } finally {
    if (database) await cluster.drop(database.name);
  }
}

async function postgresMain() {
  const { serverUrl, openCluster } = await import('./postgres.js');
  const url = serverUrl('bench/serve.js');
  await loadAgents();
  RoutedAgent = class extends UserAgent {
    constructor(route) {
      super();
      this.route = route;
    }

    send(url, init) {
      return super.send(this.route(url), init);
    }
  };
  const cluster = await openCluster(url, TICK_MS);
  const runs = [];
  try {
    console.log(
      `idp serve on PostgreSQL: node ${process.version}, ${cluster.version}, ${CORES} cores; ${RUNS} runs of ${LOGINS} logins per mode, each setup after ${WARMUP} warm-up logins; each login provisions a new GitHub persona; medians (min-max)`,
    );
    // Every instance of every setup gets the same sealing key; PostgreSQL orgs need one from the environment.
    const sealKey = randomBytes(32).toString('base64url');
    for (let run = 0; run < RUNS; run++) {
      const figures = {};
      // The setups take turns going first, so none always meets the machine at the same point of a run.
      for (let k = 0; k < SETUPS.length; k++) {
        const setup = SETUPS[(run + k) % SETUPS.length];
        figures[setup.key] = await runSetup(setup, run, cluster, sealKey);
      }
      runs.push(figures);
      const each = SETUPS.map((s) => `${s.label} ${figures[s.key][CONCURRENCY].perSecond.toFixed(1)}/s`);
      console.log(`run ${run + 1}: ${each.join(', ')} at ${CONCURRENCY} concurrent`);
    }
  } finally {
    await cluster.close();
  }
  printPostgres(runs);
}

/** The median of one figure over the runs, `digits` after the point, with its range when there is more than one run. */
function figure(values, digits, unit = '') {
  const f = (v) => v.toFixed(digits);
  const range = values.length < 2 ? '' : ` (${f(Math.min(...values))}-${f(Math.max(...values))})`;
  return `${f(median(values))}${unit}${range}`;
}

function printPostgres(runs) {
  const batches = ['sequential', ...PG_CONCURRENCIES];
  const rows = SETUPS.flatMap((setup) => batches.map((b) => runs.map((r) => r[setup.key][b])));
  const of = (all, key, digits, scale = 1) =>
    figure(
      all.map((f) => f[key] * scale),
      digits,
    );
  console.log('');
  printTable(
    ['mode', 'p50 ms', 'p95 ms', 'logins/s', 'server CPU ms per login', 'failed'],
    rows.map((all) => [
      all[0].label,
      of(all, 'p50', 1),
      of(all, 'p95', 1),
      of(all, 'perSecond', 1),
      of(all, 'serverCpu', 1),
      `${all.reduce((sum, f) => sum + f.failures.length, 0)} of ${LOGINS * all.length}`,
    ]),
  );
  console.log('');
  printTable(
    [
      'CPU ms per login',
      'idp serve',
      'PostgreSQL',
      'relying party',
      'all',
      `% of ${CORES} cores: this bench`,
      'machine',
    ],
    rows.map((all) => [
      all[0].label,
      of(all, 'idpCpu', 1),
      of(all, 'pgCpu', 1),
      of(all, 'rpCpu', 1),
      of(all, 'allCpu', 1),
      of(all, 'ours', 0, 100),
      of(all, 'machine', 0, 100),
    ]),
  );
  console.log('');
  const within = (a, b, batch, key) => runs.map((r) => r[a][batch][key] / r[b][batch][key]);
  const scale = (c) => within('pg2', 'pg1', c, 'perSecond');
  const tx = (key) =>
    `${median(runs.map((r) => r[key].committedPerLogin)).toFixed(1)} (${median(runs.map((r) => r[key].rolledBackPerLogin)).toFixed(2)})`;
  printTable(
    ['measure', 'value', 'target', 'result'],
    [
      [
        `PostgreSQL / SQLite server CPU per login, ${CONCURRENCY} concurrent`,
        figure(within('pg1', 'sqlite', CONCURRENCY, 'serverCpu'), 2, 'x'),
        '',
        '',
      ],
      [
        `PostgreSQL / SQLite logins/s, ${CONCURRENCY} concurrent`,
        figure(within('pg1', 'sqlite', CONCURRENCY, 'perSecond'), 2, 'x'),
        '',
        '',
      ],
      ['PostgreSQL / SQLite p50, sequential', figure(within('pg1', 'sqlite', 'sequential', 'p50'), 2, 'x'), '', ''],
      ...PG_CONCURRENCIES.map((c) => [
        `2 instances / 1 instance on PostgreSQL, logins/s, ${c} concurrent in all`,
        figure(scale(c), 2, 'x'),
        `>= ${SCALE_TARGET}x`,
        verdict(median(scale(c)) >= SCALE_TARGET),
      ]),
      ['PostgreSQL transactions per login, committed (rolled back), 1 instance, all batches', tx('pg1'), '', ''],
      ['PostgreSQL transactions per login, committed (rolled back), 2 instances, all batches', tx('pg2'), '', ''],
    ],
  );
  console.log('');
  for (const line of scaleVerdict(runs)) console.log(line);
  const failed = failureCounts(runs);
  if (failed.length > 0)
    console.log(`Failed logins (not in logins/s; their CPU is in the others'): ${failed.join('; ')}.`);
}

/** Each batch's failed logins over the runs, by reason: `PostgreSQL, 2 instances, 16 concurrent: 3 STORE_BUSY`. */
function failureCounts(runs) {
  const lines = [];
  for (const setup of SETUPS)
    for (const b of ['warmUp', 'sequential', ...PG_CONCURRENCIES]) {
      const reasons = runs.flatMap((r) => (b === 'warmUp' ? r[setup.key].warmUpFailures : r[setup.key][b].failures));
      const counts = new Map();
      for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      const label = b === 'warmUp' ? 'warm-up' : b === 'sequential' ? b : `${b} concurrent`;
      if (counts.size > 0)
        lines.push(`${setup.label}, ${label}: ${[...counts].map(([r, c]) => `${c} ${r}`).join(', ')}`);
    }
  return lines;
}

/**
 * Whether two instances reached SCALE_TARGET times one at CONCURRENCY; what the CPU per login measured allows with the
 * cores all to the benchmark (when that is under the target, the cores bind); and whether other processes held the
 * cores while it ran, which makes logins/s a measure of what they left.
 */
function scaleVerdict(runs) {
  const m = (key, field) => median(runs.map((r) => r[key][CONCURRENCY][field]));
  const ms = (v) => `${v.toFixed(1)} ms`;
  const perSecond = (v) => `${v.toFixed(1)}/s`;
  const percent = (v) => `${Math.round(v * 100)}%`;
  const ratio = median(runs.map((r) => r.pg2[CONCURRENCY].perSecond / r.pg1[CONCURRENCY].perSecond));
  // An instance runs its JavaScript on one core, and all the processes share CORES: logins/s can go no higher than
  // either allows. (Node's GC threads give an instance a little more than one core: the bound on the ratio is generous.)
  const one = Math.min(1000 / m('pg1', 'idpCpu'), (CORES * 1000) / m('pg1', 'allCpu'));
  const two = Math.min(2000 / m('pg2', 'idpCpu'), (CORES * 1000) / m('pg2', 'allCpu'));
  const bound = two / one;
  // The same without the relying party, which in production runs on other machines than the instances.
  const alone = (key, instances) =>
    Math.min((instances * 1000) / m(key, 'idpCpu'), (CORES * 1000) / m(key, 'serverCpu'));
  const boundAlone = alone('pg2', 2) / alone('pg1', 1);
  const others = m('pg2', 'machine') - m('pg2', 'ours');
  const busyWithOthers = m('pg2', 'machine') >= SATURATED && others >= 1 - SATURATED;
  const result =
    ratio >= SCALE_TARGET
      ? 'PASS'
      : bound < SCALE_TARGET
        ? `MISS: the ${CORES} cores bind`
        : busyWithOthers
          ? 'MISS, on a machine busy with other work (see below)'
          : m('pg2', 'machine') >= SATURATED
            ? `MISS: the ${CORES} cores bind, held by this bench's processes`
            : 'MISS with CPU to spare: what binds is not the cores';
  return [
    `Scaling: 2 instances served ${ratio.toFixed(2)}x the logins/s of 1 at ${CONCURRENCY} concurrent (target ${SCALE_TARGET}x): ${result}.`,
    `With the ${CORES} cores all its own, the CPU per login measured allows 1 instance at most ${perSecond(one)} (its JavaScript on one core: ${ms(m('pg1', 'idpCpu'))} per login; all processes ${ms(m('pg1', 'allCpu'))} over ${CORES} cores) and 2 instances at most ${perSecond(two)} (all processes ${ms(m('pg2', 'allCpu'))} per login: idp serve ${ms(m('pg2', 'idpCpu'))}, PostgreSQL ${ms(m('pg2', 'pgCpu'))}, relying party ${ms(m('pg2', 'rpCpu'))}): at most ${bound.toFixed(2)}x; ${boundAlone.toFixed(2)}x were the relying party elsewhere.`,
    `Cores busy during those batches: the machine ${percent(m('pg2', 'machine'))} with 2 instances (this bench's processes ${percent(m('pg2', 'ours'))}), ${percent(m('pg1', 'machine'))} with 1 (${percent(m('pg1', 'ours'))})${busyWithOthers ? `: other processes held ${percent(others)} of ${CORES} cores, so logins/s measure what they left` : ''}.`,
  ];
}

await (process.argv.includes('--postgres') ? postgresMain() : main());
