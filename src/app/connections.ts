// Use cases on federated connections: add, set (JIT settings, attribute map, scopes, client, issuer or base URL, token
// endpoint authentication, secret) and remove, each with its audit event, and which settings each type accepts. Secrets arrive already read (environment variable name, or value); the driver
// asks for them, after checkNewConnection has accepted everything else.
import { randomBytes } from 'node:crypto';
import { refuseVerificationMap } from '../core/claims.js';
import { defaultJit, defaultScopes } from '../core/connection-defaults.js';
import { IdpError } from '../core/errors.js';
import { hint, type Fix } from '../core/fixes.js';
import { refuseProtectedClaims } from '../core/protected-claims.js';
import { secretTail } from '../core/secret-tail.js';
import { effectiveSteps, mfaConflicts, type MfaConflict } from '../core/signin.js';
import { upstreamChanges } from '../core/upstream-identity.js';
import type { App, Connection, ConnectionType, JitSettings, TokenAuthMethod } from '../core/types.js';
import { validateBaseUrl, validateIssuer } from '../core/urls.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { diff, type Change } from './diff.js';
import { requireConnection } from './lookup.js';
import { checkConnectionName } from './names.js';
import { connectionView, maskSecret } from './views.js';

export type SecretInput = Parameters<Store['connections']['insert']>[0]['secret'];

export interface ConnectionSettings {
  jit?: boolean;
  jitScheme?: JitSettings['scheme'];
  sync?: JitSettings['sync'];
  linking?: JitSettings['linking'];
  /** upstream=local edits in order; an empty local name drops the mapping. */
  map?: [string, string][];
  scopes?: string[];
  clientId?: string;
  issuer?: string;
  /** github only: a GitHub Enterprise Server address; github.com's own address means github.com (null). */
  baseUrl?: string;
  /** 'auto': chosen from the provider's discovery document again. */
  tokenAuth?: TokenAuthMethod | 'auto';
  secret?: SecretInput;
}

export interface NewConnectionInput extends ConnectionSettings {
  type: ConnectionType;
  sandbox: boolean;
}

const field = (name: string, example?: string) =>
  ({ kind: 'option', option: name, ...(example && { value: example }) }) as const;

/** A fresh random client secret for a sandbox connection (the in-process provider reads it from the org). */
export function sandboxSecret(): SecretInput {
  return { kind: 'value', value: randomBytes(20).toString('hex') };
}

/** Everything about a new connection but its secret, so a driver asks for the secret only when the rest is valid. */
export async function checkNewConnection(
  store: Store,
  name: string,
  input: Omit<NewConnectionInput, 'secret'>,
): Promise<void> {
  checkConnectionName(name);
  checkMap(input.map);
  if (await store.connections.get(name))
    throw new IdpError(
      'CONNECTION_EXISTS',
      `a connection named '${name}' already exists`,
      hint`change it with \`${{ kind: 'set', on: 'connection', name }}\``,
    );
  checkTypeSettings(name, input.type, input.sandbox, input);
  if (!input.sandbox && !input.clientId)
    throw new IdpError(
      'USAGE',
      `a real ${input.type} connection needs a client id`,
      hint`pass ${field('client-id')}, or ${field('sandbox')} to use the bundled provider`,
    );
  if (input.type === 'oidc' && !input.sandbox && !input.issuer)
    throw new IdpError(
      'USAGE',
      'an oidc connection needs an issuer',
      hint`e.g. ${field('issuer', 'https://login.example.com')}`,
    );
}

/** Whether a new connection needs a client secret: a public client (token auth none) and an OIDC one (may be public) do not. */
export function needsSecret(input: {
  type: ConnectionType;
  sandbox: boolean;
  tokenAuth?: TokenAuthMethod | 'auto' | null;
}): boolean {
  return !input.sandbox && input.type !== 'oidc' && input.tokenAuth !== 'none';
}

const GITHUB_COM = 'https://github.com';

/**
 * Which settings a connection type accepts, for add, set and apply alike. GitHub is no OpenID provider: it has no
 * issuer, and an Enterprise Server is reached through its base URL. The base URL is GitHub's alone, and a sandbox
 * connection's endpoints are the bundled provider's.
 */
export function checkTypeSettings(
  name: string,
  type: ConnectionType,
  sandbox: boolean,
  given: { issuer?: string | null; baseUrl?: string | null },
): void {
  if (type === 'github' && given.issuer) {
    throw new IdpError(
      'USAGE',
      `a github connection has no issuer (GitHub is not an OpenID provider)`,
      hint`for GitHub Enterprise Server give its address as the base URL instead: ${field('base-url', 'https://github.example.com')}`,
    );
  }
  if (type !== 'github' && given.baseUrl) {
    throw new IdpError(
      'USAGE',
      `only a github connection has a base URL (GitHub Enterprise Server); ${name} is ${type}`,
      hint`point a ${type} connection at its provider with the issuer: ${field('issuer', 'URL')}`,
    );
  }
  if (sandbox && given.baseUrl) {
    throw new IdpError(
      'USAGE',
      `sandbox connection ${name} uses the bundled GitHub-like provider, so it takes no base URL`,
      'give the base URL to a real github connection',
    );
  }
}

/** The stored form of a base URL: validated, and github.com's own address meaning github.com (null). */
function baseUrlOf(value: string): string | null {
  const url = validateBaseUrl(value);
  return url === GITHUB_COM ? null : url;
}

function tokenAuthOf(value: TokenAuthMethod | 'auto'): TokenAuthMethod | null {
  return value === 'auto' ? null : value;
}

export const MAPPED_ATTRIBUTE = 'a mapped attribute';

function checkMap(edits: [string, string][] | undefined): void {
  refuseProtectedClaims(
    (edits ?? []).map(([, local]) => local),
    MAPPED_ATTRIBUTE,
  );
  refuseVerificationMap(edits ?? []);
}

function checkSecret(secret: SecretInput | undefined): void {
  // Not echoed: what was given instead of a name is often the secret itself.
  if (secret?.kind === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(secret.variable)) {
    throw new IdpError(
      'INVALID_VALUE',
      'the client secret is read from an environment variable given by name (letters, digits, _), not by value',
      hint`e.g. ${field('client-secret-env', 'CORP_SECRET')}`,
    );
  }
}

export async function addConnection(
  { store, actor }: Admin,
  name: string,
  input: NewConnectionInput,
): Promise<Connection> {
  await checkNewConnection(store, name, input);
  checkSecret(input.secret);
  const record = {
    name,
    type: input.type,
    sandbox: input.sandbox,
    issuer: input.issuer ? validateIssuer(input.issuer) : null,
    baseUrl: input.baseUrl ? baseUrlOf(input.baseUrl) : null,
    tokenAuth: input.tokenAuth ? tokenAuthOf(input.tokenAuth) : null,
    clientId: input.clientId ?? `sandbox-${name}`,
    secret: input.sandbox ? sandboxSecret() : (input.secret ?? { kind: 'none' }),
    scopes: input.scopes ?? defaultScopes(input.type),
    jit: applyJit(defaultJit(), input),
    attributeMap: applyMap({}, input.map),
  };
  await store.tx(async (tx) => {
    await tx.connections.insert(record);
    const after = connectionView((await tx.connections.get(name))!);
    await tx.events.recordConfig({
      actor,
      action: 'connection.add',
      target: `connection ${name}`,
      detail: `added ${input.type} connection ${name}`,
      before: null,
      after,
    });
  });
  return (await store.connections.get(name))!;
}

export interface ConnectionChange {
  changes: Change[];
  /** Associations deleted (or, in a dry run, to be deleted) because the upstream changed. */
  forgotten: number;
  before: ReturnType<typeof connectionView>;
  after: ReturnType<typeof connectionView>;
  /** Set when this change turns JIT off: the apps whose MFA step its users can no longer pass. */
  conflicts: MfaConflict[];
}

/**
 * Changes only the given settings; with dryRun, reports what would change and writes nothing. A change of upstream
 * (issuer) is refused while users are associated with the old one's subjects, unless forgetAssociations.
 */
export async function setConnection(
  { store, actor }: Admin,
  name: string,
  settings: ConnectionSettings,
  opts: { dryRun: boolean; forgetAssociations?: boolean },
): Promise<ConnectionChange> {
  const current = await requireConnection(store, name);
  checkMap(settings.map);
  checkSecret(settings.secret);
  checkTypeSettings(name, current.type, current.sandbox, settings);
  const secret = settings.secret;
  const patch = {
    jit: applyJit(current.jit, settings),
    attributeMap: applyMap(current.attributeMap, settings.map),
    scopes: settings.scopes ?? current.scopes,
    clientId: settings.clientId ?? current.clientId,
    issuer: settings.issuer ? validateIssuer(settings.issuer) : current.issuer,
    baseUrl: settings.baseUrl ? baseUrlOf(settings.baseUrl) : current.baseUrl,
    tokenAuth: settings.tokenAuth ? tokenAuthOf(settings.tokenAuth) : current.tokenAuth,
  };
  const moved = upstreamChanges(current, patch);
  let forgotten = await associationsToForget(store, name, moved, !!opts.forgetAssociations);
  const before = connectionView(current);
  const after = {
    ...connectionView({ ...current, ...patch }),
    client_secret: secret ? maskSecret(previewSecret(secret)) : before.client_secret,
  };
  // A new secret value always counts as a change, even if its masked form looks the same.
  const sameMask = secret?.kind === 'value' && before.client_secret === after.client_secret;
  const changes = diff(before, after).concat(
    sameMask ? [{ path: 'client_secret', before: before.client_secret, after: after.client_secret }] : [],
  );
  if (changes.length > 0 && !opts.dryRun) {
    forgotten = await store.tx(async (tx) => {
      // Counted again with the change, and with no new link landing until it commits: a sign-in that finished since
      // the count above left one the new provider's subjects must not inherit.
      if (moved.length > 0) await tx.associations.holdNewLinks();
      const linked = await associationsToForget(tx, name, moved, !!opts.forgetAssociations);
      if (linked) await forgetAssociations(tx, actor, name);
      await tx.connections.update(name, secret ? { ...patch, secret } : patch);
      await tx.events.recordConfig({
        actor,
        action: 'connection.set',
        target: `connection ${name}`,
        detail: describeChanges(name, changes),
        before,
        after,
      });
      return linked;
    });
  }
  const conflicts = current.jit.enabled && !patch.jit.enabled ? await jitOffConflicts(store, name) : [];
  return { changes, forgotten, before, after, conflicts };
}

/**
 * How many associations a change of upstream takes with it: the subjects were issued by the old provider, and the
 * new one's may coincide with them, so each would sign its holder in as someone else. Refused unless `forget`.
 */
export async function associationsToForget(
  store: Store,
  name: string,
  changed: string[],
  forget: boolean,
): Promise<number> {
  if (changed.length === 0) return 0;
  const count = await store.associations.countForConnection(name);
  if (count > 0 && !forget) {
    throw new IdpError(
      'UPSTREAM_HAS_ASSOCIATIONS',
      `changing the ${changed.join(' and ')} of connection ${name} would hand its ${count} association(s) to another provider's subjects`,
      hint`leave the ${changed.join(' and ')} as it is, or pass ${field('forget-associations')} to delete the ${count} association(s) with the change (the users stay; their next sign-in through ${name} counts as a first one)`,
    );
  }
  return count;
}

/** Deletes the connection's associations, with their own audit event; inside the caller's transaction. */
export async function forgetAssociations(store: Store, actor: string, name: string): Promise<void> {
  const count = await store.associations.deleteForConnection(name);
  await store.events.recordConfig({
    actor,
    action: 'connection.forget-associations',
    target: `connection ${name}`,
    detail: `forgot ${count} association(s) of ${name}: its upstream changed`,
    before: { associations: count },
    after: { associations: 0 },
  });
}

export interface ConnectionRemoval {
  connection: Connection;
  /** Associations that go with it (the users stay). */
  associations: number;
  /** Apps that offer it; with force, it is taken out of their steps. */
  usedBy: App[];
}

/** The edit that takes `connection` out of the first step of `app` that offers it. */
function withoutConnection(app: App, connection: string): Fix {
  const index = app.steps.findIndex((s) => s.includes(connection));
  const rest = app.steps[index]!.filter((o) => o !== connection);
  return { kind: 'set', on: 'app', name: app.name, setting: 'step', value: `${index + 1}=${rest.join(',')}` };
}

/** What removing the connection takes with it, if it may be removed: asked before the driver confirms. */
export async function connectionRemoval(store: Store, name: string, force: boolean): Promise<ConnectionRemoval> {
  const connection = await requireConnection(store, name);
  const usedBy = (await store.apps.list()).filter((a) => a.steps.some((s) => s.includes(name)));
  if (usedBy.length > 0 && !force) {
    throw new IdpError(
      'CONNECTION_IN_USE',
      `connection ${name} is offered by ${usedBy.map((a) => a.name).join(', ')}`,
      [
        'remove it from their steps (',
        ...usedBy.flatMap((app, i) => [...(i > 0 ? ['; '] : []), withoutConnection(app, name)]),
        ...hint`), or pass ${field('force')} to do that here`,
      ],
    );
  }
  const stepLoss = usedBy.find((a) => a.steps.some((s) => s.length === 1 && s[0] === name) && a.steps[0]!.length === 1);
  if (stepLoss) {
    const other = { kind: 'set', on: 'app', name: stepLoss.name, setting: 'step', value: '1=password' } as const;
    throw new IdpError(
      'CONNECTION_IN_USE',
      `connection ${name} is the only option of step 1 of ${stepLoss.name}`,
      hint`give ${stepLoss.name} another option first: ${other}`,
    );
  }
  return { connection, associations: await store.associations.countForConnection(name), usedBy };
}

export async function removeConnection(
  { store, actor }: Admin,
  name: string,
  force: boolean,
): Promise<ConnectionRemoval> {
  const removal = await connectionRemoval(store, name, force);
  await store.tx(async (tx) => {
    for (const app of removal.usedBy) {
      await tx.apps.update(app.name, {
        steps: app.steps.map((s) => s.filter((o) => o !== name)).filter((s) => s.length > 0),
      });
    }
    await tx.connections.delete(name);
    await tx.events.recordConfig({
      actor,
      action: 'connection.remove',
      target: `connection ${name}`,
      detail: `removed connection ${name}`,
      before: connectionView(removal.connection),
      after: null,
    });
  });
  return removal;
}

function applyJit(current: JitSettings, settings: ConnectionSettings): JitSettings {
  return {
    enabled: settings.jit ?? current.enabled,
    scheme: settings.jitScheme ?? current.scheme,
    sync: settings.sync ?? current.sync,
    linking: settings.linking ?? current.linking,
  };
}

function applyMap(current: Record<string, string>, edits: [string, string][] | undefined): Record<string, string> {
  const next = { ...current };
  for (const [upstream, local] of edits ?? []) {
    if (local) next[upstream] = local;
    else delete next[upstream];
  }
  return next;
}

/** The masked form a new secret will have, for before -> after output, without storing anything. */
function previewSecret(secret: SecretInput): Connection['secret'] {
  if (secret.kind === 'value') return { kind: 'stored', last4: secretTail(secret.value) };
  return secret;
}

function describeChanges(name: string, changes: Change[]): string {
  return changes
    .map((c) =>
      c.path === 'jit.enabled'
        ? `JIT turned ${c.after ? 'on' : 'off'} on ${name}`
        : `${c.path} ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`,
    )
    .join('; ');
}

/** The apps whose MFA step the connection's users reach without a local account once its JIT is off. */
async function jitOffConflicts(store: Store, name: string): Promise<MfaConflict[]> {
  const connections = (await store.connections.list()).map((c) =>
    c.name === name ? { ...c, jit: { ...c.jit, enabled: false } } : c,
  );
  const names = connections.map((c) => c.name);
  const apps = (await store.apps.list()).map((a) => ({ ...a, steps: effectiveSteps(a, names) }));
  return mfaConflicts(apps, connections).filter((x) => x.connection === name);
}
