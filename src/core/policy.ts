// Policy as code: the file format shared by `export`, `apply` and scenario `config:` (apps, connections, JIT settings,
// scripts; secrets only as env-var references), its validation with paths into the file, and the plan that turns the
// current org into the one the file describes.
import { defaultJit, defaultScopes } from './connection-defaults.js';
import { IdpError } from './errors.js';
import { FileChecker } from './file-checker.js';
import { effectiveSteps, validateSteps } from './signin.js';
import { validateBaseUrl, validateIssuer, validateRedirectUri } from './urls.js';
import { CONNECTION_TYPES, JIT_SCHEMES, LINKING_POLICIES, SYNC_POLICIES, TOKEN_AUTH_METHODS, type App, type Connection, type ConnectionType, type JitSettings, type TokenAuthMethod } from './types.js';

export interface PolicyApp {
  client_id?: string;
  redirect_uris?: string[];
  steps?: string[][];
  attributes?: string[];
  script?: string | null;
}

export interface PolicyConnection {
  type?: ConnectionType;
  sandbox?: boolean;
  issuer?: string | null;
  client_id?: string;
  client_secret_env?: string;
  /** 'stored': the secret lives encrypted in the org and is never exported. */
  client_secret?: 'stored';
  /** Absent (or `auto` in a file): chosen from the provider's discovery document. */
  token_auth?: TokenAuthMethod | 'auto';
  /** github only: a GitHub Enterprise Server address. */
  base_url?: string;
  scopes?: string[];
  jit?: Partial<JitSettings>;
  attribute_map?: Record<string, string>;
}

export interface PolicyDoc {
  apps: Record<string, PolicyApp>;
  connections: Record<string, PolicyConnection>;
}

export interface PlanChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface PlanItem {
  action: 'create' | 'update' | 'delete';
  kind: 'app' | 'connection';
  name: string;
  changes: PlanChange[];
  /** The whole desired entity after the change (create/update). */
  desired?: PolicyApp | PolicyConnection;
}

type Path = string;

const HINT = 'see the file format in the README ("Policy file")';

class Checker extends FileChecker {
  name(value: string, path: Path): void {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(value)) this.fail(path, `'${value}' is not a valid name (letters, digits, - and _)`);
  }
}

const APP_KEYS = ['client_id', 'redirect_uris', 'steps', 'attributes', 'script'] as const;
const CONNECTION_KEYS = ['type', 'sandbox', 'issuer', 'base_url', 'client_id', 'client_secret_env', 'client_secret', 'token_auth', 'scopes', 'jit', 'attribute_map'] as const;
const JIT_KEYS = ['enabled', 'scheme', 'sync', 'linking'] as const;

/** Validates a parsed policy document; a partial one (only some keys) is valid. */
export function validatePolicy(raw: unknown, file: string): PolicyDoc {
  const c = new Checker(file, HINT);
  const root = raw === null || raw === undefined ? {} : c.mapping(raw, '(top level)', ['apps', 'connections']);
  const doc: PolicyDoc = { apps: {}, connections: {} };
  for (const [name, value] of Object.entries(root.connections === undefined ? {} : c.mapping(root.connections, 'connections'))) {
    const path = `connections.${name}`;
    c.name(name, path);
    doc.connections[name] = validateConnection(c, c.mapping(value ?? {}, path, CONNECTION_KEYS), path);
  }
  for (const [name, value] of Object.entries(root.apps === undefined ? {} : c.mapping(root.apps, 'apps'))) {
    const path = `apps.${name}`;
    c.name(name, path);
    doc.apps[name] = validateApp(c, c.mapping(value ?? {}, path, APP_KEYS), path);
  }
  return doc;
}

function validateConnection(c: Checker, v: Record<string, unknown>, path: Path): PolicyConnection {
  const out: PolicyConnection = {};
  if (v.type !== undefined) out.type = c.oneOf(v.type, `${path}.type`, CONNECTION_TYPES);
  if (v.sandbox !== undefined) out.sandbox = c.boolean(v.sandbox, `${path}.sandbox`);
  if (v.issuer !== undefined) out.issuer = v.issuer === null ? null : c.check(() => validateIssuer(c.string(v.issuer, `${path}.issuer`)), `${path}.issuer`);
  if (v.base_url !== undefined) out.base_url = c.check(() => validateBaseUrl(c.string(v.base_url, `${path}.base_url`)), `${path}.base_url`);
  if (v.client_id !== undefined) out.client_id = c.string(v.client_id, `${path}.client_id`);
  if (v.token_auth !== undefined) out.token_auth = c.oneOf(v.token_auth, `${path}.token_auth`, ['auto', ...TOKEN_AUTH_METHODS] as const);
  if (v.client_secret_env !== undefined) {
    out.client_secret_env = c.string(v.client_secret_env, `${path}.client_secret_env`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(out.client_secret_env)) c.fail(`${path}.client_secret_env`, 'must be an environment variable name');
  }
  if (v.client_secret !== undefined) {
    if (v.client_secret !== 'stored') c.fail(`${path}.client_secret`, "secrets never go in the file: use client_secret_env: VAR (or 'stored' for a secret kept in the org)", "e.g. client_secret_env: GITHUB_CLIENT_SECRET");
    out.client_secret = 'stored';
  }
  if (out.client_secret && out.client_secret_env) c.fail(path, 'give client_secret_env or client_secret, not both');
  if (v.scopes !== undefined) out.scopes = c.strings(v.scopes, `${path}.scopes`);
  if (v.jit !== undefined) {
    const jit = c.mapping(v.jit, `${path}.jit`, JIT_KEYS);
    out.jit = {};
    if (jit.enabled !== undefined) out.jit.enabled = c.boolean(jit.enabled, `${path}.jit.enabled`);
    if (jit.scheme !== undefined) out.jit.scheme = c.oneOf(jit.scheme, `${path}.jit.scheme`, JIT_SCHEMES);
    if (jit.sync !== undefined) out.jit.sync = c.oneOf(jit.sync, `${path}.jit.sync`, SYNC_POLICIES);
    if (jit.linking !== undefined) out.jit.linking = c.oneOf(jit.linking === false ? 'off' : jit.linking, `${path}.jit.linking`, LINKING_POLICIES);
  }
  if (v.attribute_map !== undefined) {
    const map = c.mapping(v.attribute_map, `${path}.attribute_map`);
    out.attribute_map = Object.fromEntries(Object.entries(map).map(([k, val]) => [k, c.string(val, `${path}.attribute_map.${k}`)]));
  }
  return out;
}

function validateApp(c: Checker, v: Record<string, unknown>, path: Path): PolicyApp {
  const out: PolicyApp = {};
  if (v.client_id !== undefined) out.client_id = c.string(v.client_id, `${path}.client_id`);
  if (v.redirect_uris !== undefined) {
    out.redirect_uris = c.strings(v.redirect_uris, `${path}.redirect_uris`);
    out.redirect_uris.forEach((uri, i) => c.check(() => validateRedirectUri(uri), `${path}.redirect_uris[${i}]`));
  }
  if (v.steps !== undefined) {
    if (!Array.isArray(v.steps)) c.fail(`${path}.steps`, 'must be a list of steps, each a list of options', 'e.g. steps: [[password, github], [totp]]');
    out.steps = v.steps.map((s, i) => c.strings(s, `${path}.steps[${i}]`));
  }
  if (v.attributes !== undefined) out.attributes = c.strings(v.attributes, `${path}.attributes`);
  if (v.script !== undefined) out.script = v.script === null ? null : c.string(v.script, `${path}.script`);
  return out;
}

/** An app as the file describes it (every key, in a fixed order: export is deterministic). */
export function exportApp(app: App): PolicyApp {
  return {
    client_id: app.clientId,
    redirect_uris: app.redirectUris,
    steps: app.steps,
    attributes: app.attributes,
    ...(app.script !== null && { script: app.script }),
  };
}

export function exportConnection(c: Connection): PolicyConnection {
  return {
    type: c.type,
    sandbox: c.sandbox,
    ...(c.issuer !== null && { issuer: c.issuer }),
    ...(c.baseUrl !== null && { base_url: c.baseUrl }),
    client_id: c.clientId,
    ...(c.secret.kind === 'env' && { client_secret_env: c.secret.variable }),
    ...(c.secret.kind === 'stored' && !c.sandbox && { client_secret: 'stored' as const }),
    ...(c.tokenAuth !== null && { token_auth: c.tokenAuth }),
    scopes: c.scopes,
    jit: { enabled: c.jit.enabled, scheme: c.jit.scheme, sync: c.jit.sync, linking: c.jit.linking },
    attribute_map: c.attributeMap,
  };
}

function mergeConnection(existing: PolicyConnection | undefined, patch: PolicyConnection, name: string, file: string): PolicyConnection {
  const c = new Checker(file, HINT);
  let current = existing;
  if (!current) {
    const type = patch.type ?? c.fail(`connections.${name}.type`, 'is needed for a new connection', `allowed values: ${CONNECTION_TYPES.join(', ')}`);
    const sandbox = patch.sandbox ?? false;
    if (!sandbox && !patch.client_id) c.fail(`connections.${name}.client_id`, 'is needed for a new real connection (or set sandbox: true)');
    if (type === 'oidc' && !sandbox && !patch.issuer) c.fail(`connections.${name}.issuer`, 'is needed for a new oidc connection');
    current = { type, sandbox, client_id: `sandbox-${name}`, scopes: defaultScopes(type), jit: defaultJit(), attribute_map: {} };
  } else if (patch.type && patch.type !== current.type) {
    c.fail(`connections.${name}.type`, `cannot change from ${current.type} to ${patch.type}`, 'remove the connection and add it again');
  }
  const merged: PolicyConnection = { ...current, ...patch, jit: { ...current.jit, ...patch.jit } };
  if (merged.token_auth === 'auto') delete merged.token_auth;
  if (patch.client_secret_env) delete merged.client_secret;
  if (patch.client_secret) delete merged.client_secret_env;
  // A file cannot carry a secret: `stored` keeps one or replaces an env reference, but cannot create one, so where an
  // existing connection has none to keep it is no change (else every apply would plan it again).
  if (patch.client_secret && existing && !existing.client_secret && !existing.client_secret_env) delete merged.client_secret;
  return exportOrder(merged);
}

/** Key order of an exported connection, so a merged one diffs and prints like an exported one. */
function exportOrder(c: PolicyConnection): PolicyConnection {
  const { type, sandbox, issuer, base_url, client_id, client_secret_env, client_secret, token_auth, scopes, jit, attribute_map } = c;
  return Object.fromEntries(Object.entries({ type, sandbox, issuer, base_url, client_id, client_secret_env, client_secret, token_auth, scopes, jit, attribute_map }).filter(([, v]) => v !== undefined && v !== null)) as PolicyConnection;
}

function mergeApp(current: PolicyApp | undefined, patch: PolicyApp): PolicyApp {
  const base: PolicyApp = current ?? { redirect_uris: [], steps: [['password']], attributes: ['username', 'email', 'email_verified', 'name'] };
  const merged = { ...base, ...patch };
  if (merged.script === null) delete merged.script;
  return merged;
}

function changes(before: unknown, after: unknown, prefix = ''): PlanChange[] {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isMap(before) && isMap(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => changes(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: prefix, before: before ?? null, after: after ?? null }];
}

/**
 * The plan from the current org to the file: creates and updates for what it names (partially, key by key),
 * and with prune, deletes for what it does not name (never built-in apps). Validates the end state.
 */
export function planPolicy(current: { apps: App[]; connections: Connection[] }, doc: PolicyDoc, opts: { prune: boolean; file: string }): PlanItem[] {
  const plan: PlanItem[] = [];
  const finalConnections = new Set(current.connections.map((c) => c.name));
  for (const [name, patch] of Object.entries(doc.connections).sort(([a], [b]) => a.localeCompare(b))) {
    const existing = current.connections.find((c) => c.name === name);
    const before = existing && exportConnection(existing);
    const after = mergeConnection(before, patch, name, opts.file);
    const diff = changes(before ?? {}, after);
    if (!existing) plan.push({ action: 'create', kind: 'connection', name, changes: diff, desired: after });
    else if (diff.length) plan.push({ action: 'update', kind: 'connection', name, changes: diff, desired: after });
    finalConnections.add(name);
  }
  if (opts.prune) {
    for (const c of current.connections) {
      if (!(c.name in doc.connections)) {
        plan.push({ action: 'delete', kind: 'connection', name: c.name, changes: [] });
        finalConnections.delete(c.name);
      }
    }
  }
  const connectionNames = [...finalConnections];
  for (const [name, patch] of Object.entries(doc.apps).sort(([a], [b]) => a.localeCompare(b))) {
    const existing = current.apps.find((a) => a.name === name);
    const before = existing && exportApp(existing);
    const after = mergeApp(before, patch);
    try {
      validateSteps(effectiveSteps({ name, builtIn: existing?.builtIn ?? false, steps: after.steps! }, connectionNames), connectionNames);
    } catch (err) {
      throw new IdpError('FILE_INVALID', `${opts.file}: apps.${name}.steps: ${(err as IdpError).message}`, (err as IdpError).hint);
    }
    const diff = changes(before ?? {}, after);
    if (!existing) plan.push({ action: 'create', kind: 'app', name, changes: diff, desired: after });
    else if (diff.length) plan.push({ action: 'update', kind: 'app', name, changes: diff, desired: after });
  }
  for (const app of current.apps) {
    if (app.name in doc.apps) continue;
    if (opts.prune && !app.builtIn) {
      plan.push({ action: 'delete', kind: 'app', name: app.name, changes: [] });
      continue;
    }
    const orphaned = app.steps.flat().filter((o) => !isKnownOption(o, connectionNames));
    if (orphaned.length) {
      throw new IdpError('FILE_INVALID', `${opts.file}: removing ${orphaned.join(', ')} would leave app ${app.name} offering it`, `remove it from apps.${app.name}.steps in the file too`);
    }
  }
  checkClientIds(current.apps, plan, doc, opts.file);
  return plan;
}

/** A client_id the file gives must not be another app's after the plan (the store would refuse it mid-apply). */
function checkClientIds(apps: App[], plan: PlanItem[], doc: PolicyDoc, file: string): void {
  const finalIds = new Map(apps.map((a) => [a.name, a.clientId]));
  for (const item of plan) {
    if (item.kind !== 'app') continue;
    if (item.action === 'delete') finalIds.delete(item.name);
    else if ((item.desired as PolicyApp).client_id) finalIds.set(item.name, (item.desired as PolicyApp).client_id!);
  }
  for (const [name, app] of Object.entries(doc.apps)) {
    const other = [...finalIds].find(([n, id]) => n !== name && id === app.client_id)?.[0];
    if (other) new Checker(file, HINT).fail(`apps.${name}.client_id`, `is already the client_id of app ${other}`, 'give each app its own client_id, or leave it out to generate one');
  }
}

function isKnownOption(option: string, connections: string[]): boolean {
  return ['password', 'email-otp', 'totp'].includes(option) || connections.includes(option);
}
