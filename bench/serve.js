// Serve benchmark (a script that prints figures, not a test): brokered logins per second through a running `idp serve`,
// without a browser: an openid-client relying party (code + PKCE), the server's pages and the sandbox GitHub answered
// over HTTP, each login JIT-provisioning a fresh persona; sequential and 8 concurrent. In the same run, the same code
// flow against a bare oidc-provider whose interaction approves at once (the floor of the engine idp serve builds on),
// and the ratio of the two. Run after `npm run build`: `node bench/serve.js [--logins N]`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { batch, numberArg, printTable, scratchDir, summary, verdict } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const BIN = join(ROOT, 'bin', 'idp.js');
const LOGINS = numberArg('--logins', 200);
const CONCURRENCY = 8;
const WARMUP = 20;
const TARGETS = { brokeredPerSecond: 100, vsBare: 2 };
/** Where the RP's redirect goes; nothing listens there: the RP reads the code off the Location header. */
const REDIRECT_URI = 'http://localhost:5173/callback';
const ORG = 'bench';

const scratch = scratchDir('serve');

/** One code flow by the RP: authorize (answering pages), then the token request with the PKCE verifier. */
async function codeFlow(config, answer) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await new UserAgent().authorize(url, REDIRECT_URI, answer);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  if (!tokens.id_token) throw new Error('no ID token');
  return tokens.claims();
}

function discover(issuer, clientId) {
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

/** Warms up, then runs LOGINS logins sequentially and LOGINS at CONCURRENCY, each with its own login index. */
async function measure(label, login) {
  let n = 0;
  await batch(WARMUP, 1, () => login(n++));
  const sequential = summary(`${label}, sequential`, await batch(LOGINS, 1, () => login(n++)));
  const concurrent = summary(`${label}, ${CONCURRENCY} concurrent`, await batch(LOGINS, CONCURRENCY, () => login(n++)));
  return { sequential, concurrent };
}

/**
 * A bare oidc-provider laid out as idp serve lays it out (issuer under /t/<org>/oauth2/token, RS256, PKCE required,
 * one public client, models in memory), whose interaction signs in a new account and grants at once.
 */
async function startBareProvider() {
  // idp's own quiet import: oidc-provider's Node 20 warning is not a figure.
  const { withoutWarning } = await import(join(DIST, 'src', 'net', 'quiet-import.js'));
  // idp serve's own routes: Asgardeo's paths.
  const { ROUTES } = await import(join(DIST, 'src', 'server', 'provider.js'));
  const [{ default: Provider }, { createMemoryAdapter }] = await Promise.all([
    withoutWarning('Unsupported runtime', () => import('oidc-provider')),
    import('oidc-provider/lib/adapters/memory_adapter.js'),
  ]);
  let dispatch;
  const server = createServer((req, res) => dispatch(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://localhost:${server.address().port}/t/${ORG}`;
  const { privateKey } = await import('node:crypto').then(({ generateKeyPairSync }) =>
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  );
  const provider = new Provider(`${base}/oauth2/token`, {
    adapter: createMemoryAdapter(),
    clients: [
      {
        client_id: 'bare-spa',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/t/${ORG}/interaction/${interaction.uid}` },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // idp serve's lifetimes; set, so oidc-provider does not print a notice per default it falls back to.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 1209600,
      Grant: 1209600,
    },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    claims: { openid: ['sub'], profile: ['name'] },
    routes: ROUTES,
  });
  let accounts = 0;
  const oidc = provider.callback();
  const prefix = `/t/${ORG}`;
  dispatch = async (req, res) => {
    // Mounted under /t/<org>: oidc-provider derives its endpoint URLs from originalUrl minus url. Discovery sits
    // under the issuer's path (Asgardeo's layout) but is the provider's own, so it is served as if asked at the mount.
    if (req.url.startsWith(`${prefix}/oauth2/token/.well-known/`)) req.url = req.url.replace('/oauth2/token', '');
    req.originalUrl = req.url;
    req.url = req.url.startsWith(prefix) ? req.url.slice(prefix.length) || '/' : req.url;
    if (!req.url.startsWith('/interaction/')) return oidc(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = `bare-${accounts++}`;
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope));
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId }, consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: false },
      );
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  };
  return {
    issuer: `${base}/oauth2/token`,
    clientId: 'bare-spa',
    close: () => new Promise((resolve) => server.close(resolve) && server.closeAllConnections()),
  };
}

async function bare() {
  const provider = await startBareProvider();
  try {
    const config = await discover(provider.issuer, provider.clientId);
    return await measure('bare oidc-provider', () =>
      codeFlow(config, () => {
        throw new Error('the bare provider showed a page');
      }),
    );
  } finally {
    await provider.close();
  }
}

let nextGithubId = 7_000_000;

/** GitHub personas bench-serve-<i>, each with its own id and verified email, so every login provisions a new user. */
function personasFile(count) {
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
  const file = join(scratch, 'personas.json');
  writeFileSync(file, JSON.stringify({ github }));
  return file;
}

function idp(home, ...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, IDP_HOME: home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`idp ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** `idp serve --port 0 --json` on `home`; resolves with its listening line once it prints it. */
function serve(home, personas) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '--personas', personas], {
    env: { ...process.env, IDP_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`idp serve exited ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolve({
        ...JSON.parse(line),
        close: () => new Promise((done) => child.once('exit', done).kill('SIGTERM')),
      }),
    );
  });
}

async function brokered() {
  const home = join(scratch, 'serve');
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
  const server = await serve(home, personasFile(WARMUP + 2 * LOGINS));
  try {
    const config = await discover(server.issuer, created.client_id);
    return await measure('idp serve, brokered', (i) => codeFlow(config, viaConnection('github', `bench-serve-${i}`)));
  } finally {
    await server.close();
  }
}

let UserAgent;
let viaConnection;

async function main() {
  if (!existsSync(join(DIST, 'src', 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  console.log(
    `idp serve benchmark: node ${process.version}, ${LOGINS} logins per mode after ${WARMUP} warm-up logins, each brokered login provisions a new GitHub persona`,
  );
  // The walk through a sign-in's pages is the one the serve tests use (a browser without a browser).
  ({ UserAgent, viaConnection } = await import(join(DIST, 'test', 'helpers', 'user-agent.js')));
  const floor = await bare();
  const broker = await brokered();
  const ms = (v) => `${v.toFixed(2)} ms`;
  const rows = [floor.sequential, floor.concurrent, broker.sequential, broker.concurrent];
  printTable(
    ['mode', 'p50', 'p95', 'logins/s'],
    rows.map((s) => [s.label, ms(s.p50), ms(s.p95), `${s.perSecond.toFixed(1)}/s`]),
  );
  console.log('');
  // Per-login cost at 8 concurrent: the machine's throughput is what a busy server offers.
  const ratio = floor.concurrent.perSecond / broker.concurrent.perSecond;
  printTable(
    ['measure', 'value', 'target', 'result'],
    [
      [
        `brokered logins/s, ${CONCURRENCY} concurrent`,
        `${broker.concurrent.perSecond.toFixed(1)}/s`,
        `>= ${TARGETS.brokeredPerSecond}/s`,
        verdict(broker.concurrent.perSecond >= TARGETS.brokeredPerSecond),
      ],
      [
        `brokered / bare per-login cost, ${CONCURRENCY} concurrent`,
        `${ratio.toFixed(2)}x`,
        `<= ${TARGETS.vsBare}x`,
        verdict(ratio <= TARGETS.vsBare),
      ],
      ['brokered / bare p50, sequential', `${(broker.sequential.p50 / floor.sequential.p50).toFixed(2)}x`, '', ''],
    ],
  );
}

await main();
