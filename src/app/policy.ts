// The policy use case: make the org match a policy file (idp apply). A file is one more way a change arrives, so
// it passes the same rules as the commands (names, steps, scripts, protected claims, a changed upstream's
// associations) before anything is planned, then the plan runs in one transaction. It returns the JIT-off-before-MFA
// conflicts the result has, as `app set` and `connection set` do.
import { IdpError } from '../core/errors.js';
import type { Hint } from '../core/fixes.js';
import { checkTypeUnchanged } from '../core/app-client.js';
import { softwarePasskeyRefusal } from '../core/passkeys.js';
import { refuseProtectedClaims } from '../core/protected-claims.js';
import { validateOrigin } from '../core/urls.js';
import { planPolicy, type PlanItem, type PolicyApp, type PolicyConnection, type PolicyDoc } from '../core/policy.js';
import { effectiveSteps, mfaConflicts, validateSteps, type MfaConflict } from '../core/signin.js';
import type { JitSettings } from '../core/types.js';
import type { Store } from '../ports.js';
import { applyPlan, upstreamOf } from './apply.js';
import { APP_ATTRIBUTE } from './apps.js';
import { upstreamChanges } from '../core/upstream-identity.js';
import { associationsToForget, checkTypeSettings, MAPPED_ATTRIBUTE } from './connections.js';
import type { Admin } from './deps.js';
import { checkConnectionName } from './names.js';
import { checkOrgName } from './org.js';
import { softwarePasskeyWarning } from './passkeys.js';
import { checkScript } from './scripts.js';

export interface PolicyOptions {
  /** Names the file in messages and the audit trail. */
  file: string;
  prune: boolean;
  dryRun: boolean;
  /** Lets a connection's upstream change although users are associated with the old one: their associations go. */
  forgetAssociations?: boolean;
}

export interface PolicyResult {
  plan: PlanItem[];
  /** What the file could not carry (secrets to set by hand). */
  notes: Hint[];
  conflicts: MfaConflict[];
  /** Associations deleted (or, in a dry run, to be deleted) because their connection's upstream changes. */
  forgotten: { connection: string; associations: number }[];
}

export async function applyPolicy(
  { store, actor, scripts }: Pick<Admin, 'store' | 'actor' | 'scripts'>,
  doc: PolicyDoc,
  opts: PolicyOptions,
): Promise<PolicyResult> {
  await checkPolicy(store, scripts, doc, opts);
  const current = {
    orgName: await store.org.name(),
    apps: await store.apps.list(),
    connections: await store.connections.list(),
  };
  const plan = planPolicy(current, doc, {
    prune: opts.prune,
    file: opts.file,
  });
  const forgotten = await associationsToForgetIn(store, plan, opts);
  const conflicts = await plannedConflicts(store, plan);
  const notes = plan.length && !opts.dryRun ? await applyPlan(store, plan, actor, opts.file) : [];
  // The file's first real connection turns the software passkeys already held into refusals at sign-in.
  const software = softwarePasskeyRefusal(current.connections) === null && (await softwarePasskeyWarning(store));
  if (software && !opts.dryRun) notes.push(software);
  return { plan, notes, conflicts, forgotten };
}

/**
 * The commands' rules on what the file names: the org name, new connection names, an app's fixed type and its origins,
 * sign-in steps, every script it changes, and no protected claim among app attributes or attribute maps.
 */
async function checkPolicy(
  store: Store,
  scripts: Admin['scripts'],
  doc: PolicyDoc,
  opts: PolicyOptions,
): Promise<void> {
  const orgName = doc.org?.name;
  if (orgName !== undefined) await at(opts.file, 'org.name', () => checkOrgName(orgName));
  const existing = new Set(await store.connections.names());
  for (const [name, connection] of Object.entries(doc.connections)) {
    if (!existing.has(name)) await at(opts.file, `connections.${name}`, () => checkConnectionName(name));
    const current = await store.connections.get(name);
    const [type, sandbox] = [connection.type ?? current?.type, connection.sandbox ?? current?.sandbox ?? false];
    if (type)
      await at(opts.file, `connections.${name}`, () =>
        checkTypeSettings(name, type, sandbox, { issuer: connection.issuer, baseUrl: connection.base_url }),
      );
    if (connection.attribute_map)
      refuseProtectedClaims(
        Object.values(connection.attribute_map),
        MAPPED_ATTRIBUTE,
        `${opts.file}: connections.${name}.attribute_map`,
      );
  }
  const connections = opts.prune
    ? Object.keys(doc.connections)
    : [...new Set([...existing, ...Object.keys(doc.connections)])];
  for (const [name, app] of Object.entries(doc.apps)) {
    const current = await store.apps.get(name);
    if (current) await at(opts.file, `apps.${name}.type`, () => checkTypeUnchanged(current, app.type));
    for (const origin of app.origins ?? []) await at(opts.file, `apps.${name}.origins`, () => validateOrigin(origin));
    if (app.attributes) refuseProtectedClaims(app.attributes, APP_ATTRIBUTE, `${opts.file}: apps.${name}.attributes`);
    if (app.steps) {
      const steps = app.steps;
      await at(opts.file, `apps.${name}.steps`, () =>
        validateSteps(effectiveSteps({ name, builtIn: current?.builtIn ?? false, steps }, connections), connections),
      );
    }
    if (typeof app.script === 'string' && app.script !== current?.script)
      await checkScript(scripts, app.script, `${opts.file}: apps.${name}.script`);
  }
}

/** The command's refusal of a change of upstream, for each connection the plan changes so, and what it takes. */
async function associationsToForgetIn(
  store: Store,
  plan: PlanItem[],
  opts: PolicyOptions,
): Promise<PolicyResult['forgotten']> {
  const forgotten: PolicyResult['forgotten'] = [];
  for (const item of plan) {
    const current =
      item.kind === 'connection' && item.action === 'update' ? await store.connections.get(item.name) : undefined;
    if (!current) continue;
    const changed = upstreamChanges(current, upstreamOf(item.desired as PolicyConnection));
    const associations = await at(opts.file, `connections.${item.name}`, () =>
      associationsToForget(store, item.name, changed, !!opts.forgetAssociations),
    );
    if (associations) forgotten.push({ connection: item.name, associations });
  }
  return forgotten;
}

/** Runs a command's rule on a part of the file: the same refusal (code and hint), its message naming where. */
async function at<T>(file: string, path: string, rule: () => T | Promise<T>): Promise<T> {
  try {
    return await rule();
  } catch (err) {
    if (err instanceof IdpError) throw new IdpError(err.code, `${file}: ${path}: ${err.message}`, err.hint);
    throw err;
  }
}

/** The MFA conflicts of the org as the plan leaves it, in the apps and connections the plan touches. */
async function plannedConflicts(store: Store, plan: PlanItem[]): Promise<MfaConflict[]> {
  const planned = (kind: PlanItem['kind'], name: string) => plan.find((i) => i.kind === kind && i.name === name);
  const finalNames = (kind: PlanItem['kind'], current: string[]) => [
    ...current.filter((name) => planned(kind, name)?.action !== 'delete'),
    ...plan.filter((i) => i.kind === kind && i.action === 'create').map((i) => i.name),
  ];
  const connections = [];
  for (const name of finalNames('connection', await store.connections.names())) {
    const desired = planned('connection', name)?.desired as PolicyConnection | undefined;
    const current = await store.connections.get(name);
    connections.push({ name, jit: { ...current?.jit, ...desired?.jit } as JitSettings });
  }
  const names = connections.map((c) => c.name);
  const apps = [];
  for (const name of finalNames('app', await store.apps.names())) {
    const desired = planned('app', name)?.desired as PolicyApp | undefined;
    const current = await store.apps.get(name);
    const app = {
      name,
      builtIn: current?.builtIn ?? false,
      steps: desired?.steps ?? current!.steps,
      script: desired ? (desired.script ?? null) : current!.script,
    };
    apps.push({ ...app, steps: effectiveSteps(app, names) });
  }
  return mfaConflicts(apps, connections).filter((c) => planned('app', c.app) || planned('connection', c.connection));
}
