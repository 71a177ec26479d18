// Policy as code: the file format shared by `export`, `apply` and scenario `config:` (apps, connections, JIT settings,
// scripts; secrets only as env-var references; its schema is core/schemas/policy.ts), and the plan that turns the
// current org into the one the file describes.
import { followedOrigins, newAppDefaults } from './app-client.js';
import { defaultJit, defaultScopes } from './connection-defaults.js';
import { IdpError } from './errors.js';
import { fileRefusal, parseWith } from './schemas/base.js';
import {
  CONNECTION_KEYS,
  policySchema,
  type PolicyApp,
  type PolicyConnection,
  type PolicyDoc,
  type PolicyOrg,
} from './schemas/policy.js';
import { effectiveSteps, validateSteps } from './signin.js';
import { CONNECTION_TYPES, type App, type Connection } from './types.js';

export type { PolicyApp, PolicyConnection, PolicyDoc, PolicyOrg };

export interface PlanChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface PlanItem {
  action: 'create' | 'update' | 'delete';
  kind: 'app' | 'connection' | 'org';
  name: string;
  changes: PlanChange[];
  /** The whole desired entity after the change (create/update). */
  desired?: PolicyApp | PolicyConnection | PolicyOrg;
}

const HINT = 'see the file format in the README ("Policy file")';

/** Validates a parsed policy document; a partial one (only some keys) is valid. */
export function validatePolicy(raw: unknown, file: string): PolicyDoc {
  return parseWith(policySchema, raw, '(top level)', fileRefusal(file, HINT));
}

/** An app as the file describes it (every key, in a fixed order: export is deterministic). */
export function exportApp(app: App): PolicyApp {
  return {
    client_id: app.clientId,
    type: app.type,
    redirect_uris: app.redirectUris,
    origins: app.origins,
    id_token_alg: app.idTokenAlg,
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

function mergeConnection(
  existing: PolicyConnection | undefined,
  patch: PolicyConnection,
  name: string,
  file: string,
): PolicyConnection {
  const refuse = fileRefusal(file, HINT);
  let current = existing;
  if (!current) {
    const type =
      patch.type ??
      refuse(
        `connections.${name}.type`,
        'is needed for a new connection',
        `allowed values: ${CONNECTION_TYPES.join(', ')}`,
      );
    const sandbox = patch.sandbox ?? false;
    if (!sandbox && !patch.client_id)
      refuse(`connections.${name}.client_id`, 'is needed for a new real connection (or set sandbox: true)');
    if (type === 'oidc' && !sandbox && !patch.issuer)
      refuse(`connections.${name}.issuer`, 'is needed for a new oidc connection');
    current = {
      type,
      sandbox,
      client_id: `sandbox-${name}`,
      scopes: defaultScopes(type),
      jit: defaultJit(),
      attribute_map: {},
    };
  } else if (patch.type && patch.type !== current.type) {
    refuse(
      `connections.${name}.type`,
      `cannot change from ${current.type} to ${patch.type}`,
      'remove the connection and add it again',
    );
  }
  const merged: PolicyConnection = { ...current, ...patch, jit: { ...current.jit, ...patch.jit } };
  if (merged.token_auth === 'auto') delete merged.token_auth;
  if (patch.client_secret_env) delete merged.client_secret;
  if (patch.client_secret) delete merged.client_secret_env;
  // A file cannot carry a secret: `stored` keeps one or replaces an env reference, but cannot create one, so where an
  // existing connection has none to keep it is no change (else every apply would plan it again).
  if (patch.client_secret && existing && !existing.client_secret && !existing.client_secret_env)
    delete merged.client_secret;
  return exportOrder(merged);
}

/** Key order of an exported connection, so a merged one diffs and prints like an exported one. */
function exportOrder(c: PolicyConnection): PolicyConnection {
  return Object.fromEntries(
    CONNECTION_KEYS.map((key) => [key, c[key]]).filter(([, v]) => v !== undefined && v !== null),
  ) as PolicyConnection;
}

/** A new app is a spa unless the file says otherwise; a changed type was refused before planning (app/policy.ts). */
function mergeApp(current: PolicyApp | undefined, patch: PolicyApp, connections: string[]): PolicyApp {
  const base: PolicyApp = current ?? {
    type: patch.type ?? 'spa',
    redirect_uris: [],
    origins: [],
    id_token_alg: 'RS256',
    ...newAppDefaults(connections),
  };
  const merged = { ...base, ...patch };
  merged.origins =
    patch.origins ??
    followedOrigins(
      { type: base.type!, origins: base.origins!, redirectUris: base.redirect_uris! },
      merged.redirect_uris!,
    );
  if (merged.script === null) delete merged.script;
  return merged;
}

function changes(before: unknown, after: unknown, prefix = ''): PlanChange[] {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isMap(before) && isMap(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => changes(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after)
    ? []
    : [{ path: prefix, before: before ?? null, after: after ?? null }];
}

/**
 * The plan from the current org to the file: creates and updates for what it names (partially, key by key),
 * and with prune, deletes for what it does not name (never built-in apps). Validates the end state.
 */
export function planPolicy(
  current: { orgName: string; apps: App[]; connections: Connection[] },
  doc: PolicyDoc,
  opts: { prune: boolean; file: string },
): PlanItem[] {
  const plan: PlanItem[] = [];
  const name = doc.org?.name;
  if (name !== undefined && name !== current.orgName)
    plan.push({
      action: 'update',
      kind: 'org',
      name: 'org',
      changes: [{ path: 'name', before: current.orgName, after: name }],
      desired: { name },
    });
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
    const after = mergeApp(before, patch, [...finalConnections].sort());
    try {
      validateSteps(
        effectiveSteps({ name, builtIn: existing?.builtIn ?? false, steps: after.steps! }, connectionNames),
        connectionNames,
      );
    } catch (err) {
      throw new IdpError(
        'FILE_INVALID',
        `${opts.file}: apps.${name}.steps: ${(err as IdpError).message}`,
        (err as IdpError).hint,
      );
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
      throw new IdpError(
        'FILE_INVALID',
        `${opts.file}: removing ${orphaned.join(', ')} would leave app ${app.name} offering it`,
        `remove it from apps.${app.name}.steps in the file too`,
      );
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
  // Apps by client_id, so that a file naming many apps is checked in linear time.
  const owners = new Map<string, string[]>();
  for (const [name, id] of finalIds) owners.set(id, [...(owners.get(id) ?? []), name].slice(0, 2));
  for (const [name, app] of Object.entries(doc.apps)) {
    const other = app.client_id === undefined ? undefined : owners.get(app.client_id)?.find((n) => n !== name);
    if (other)
      fileRefusal(file, HINT)(
        `apps.${name}.client_id`,
        `is already the client_id of app ${other}`,
        'give each app its own client_id, or leave it out to generate one',
      );
  }
}

function isKnownOption(option: string, connections: string[]): boolean {
  return ['password', 'email-otp', 'totp'].includes(option) || connections.includes(option);
}
