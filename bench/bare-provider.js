// bench/serve's floor, run as its own process as `idp serve` is: a bare oidc-provider laid out as idp serve lays it out
// (issuer under /t/<org>/oauth2/token, RS256, PKCE required, one public client, models in memory), whose interaction
// signs in a new account and grants at once. Prints one JSON listening line, as `idp serve --json` does, and serves
// until SIGTERM. Run by bench/serve.js: `node bench/bare-provider.js <org> <redirect-uri>`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const [org, redirectUri] = process.argv.slice(2);

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
const base = `http://localhost:${server.address().port}/t/${org}`;
const issuer = `${base}/oauth2/token`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const provider = new Provider(issuer, {
  adapter: createMemoryAdapter(),
  clients: [
    {
      client_id: 'bare-spa',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/t/${org}/interaction/${interaction.uid}` },
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
const prefix = `/t/${org}`;
dispatch = async (req, res) => {
  // Mounted under /t/<org>: oidc-provider derives its endpoint URLs from originalUrl minus url. Discovery sits under
  // the issuer's path (Asgardeo's layout) but is the provider's own, so it is served as if asked at the mount.
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

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
process.stdout.write(`${JSON.stringify({ event: 'listening', issuer, clientId: 'bare-spa' })}\n`);
