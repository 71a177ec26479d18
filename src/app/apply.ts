// Carries out a policy plan against the store in one transaction, with one audit event per planned change (the org's
// name, apps, connections). A connection whose upstream changes loses its associations here (applyPolicy has refused
// that unless asked for).
import { hint, type Hint } from '../core/fixes.js';
import { newClientId } from '../core/ids.js';
import type { PlanItem, PolicyApp, PolicyConnection, PolicyOrg } from '../core/policy.js';
import type { Connection } from '../core/types.js';
import type { Store } from '../ports.js';
import { upstreamChanges } from '../core/upstream-identity.js';
import { forgetAssociations, sandboxSecret, type SecretInput } from './connections.js';

/** Applies the plan; returns notes for things the file cannot carry (secrets to set by hand). */
export async function applyPlan(store: Store, plan: PlanItem[], actor: string, file: string): Promise<Hint[]> {
  // Deletes first: an app the file renames (--prune) hands its client_id on to the new one.
  const ordered = [...plan.filter((i) => i.action === 'delete'), ...plan.filter((i) => i.action !== 'delete')];
  return store.tx(async (tx) => {
    // First, before any read: links made by sign-ins finishing meanwhile are counted by a change of upstream below,
    // and none lands until the plan commits.
    if (plan.some((i) => i.kind === 'connection')) await tx.associations.holdNewLinks();
    const notes: Hint[] = [];
    await releaseMovingClientIds(tx, plan);
    for (const item of ordered) {
      if (item.kind === 'connection') await applyConnection(tx, item, notes, actor);
      else if (item.kind === 'org') await tx.org.setName((item.desired as PolicyOrg).name!);
      else await applyApp(tx, item, notes);
      await tx.events.recordConfig({
        actor,
        action: `apply.${item.kind}.${item.action}`,
        target: `${item.kind} ${item.name}`,
        detail: `${item.action} ${item.kind} ${item.name} from ${file}${item.changes.length ? `: ${item.changes.map((c) => c.path).join(', ')}` : ''}`,
        before: item.changes.map((c) => ({ path: c.path, value: c.before })),
        after: item.changes.map((c) => ({ path: c.path, value: c.after })),
      });
    }
    return notes;
  });
}

/**
 * The plan may move a client_id between apps (two apps swapping theirs, or a new app taking the one another gives up);
 * checked unique at the end, it would still collide mid-transaction with the UNIQUE index. So every app whose
 * client_id changes holds a placeholder until its own update runs.
 */
async function releaseMovingClientIds(store: Store, plan: PlanItem[]): Promise<void> {
  for (const item of plan) {
    if (item.kind === 'app' && item.action === 'update' && item.changes.some((c) => c.path === 'client_id')) {
      await store.apps.update(item.name, { clientId: `moving:${item.name}` });
    }
  }
}

function secretOf(c: PolicyConnection, name: string, notes: Hint[]): SecretInput {
  if (c.client_secret_env) return { kind: 'env', variable: c.client_secret_env };
  if (c.sandbox) return sandboxSecret();
  if ((c.type !== 'oidc' && c.token_auth !== 'none') || c.client_secret) {
    notes.push(
      hint`connection ${name} has no client secret yet: ${{ kind: 'set', on: 'connection', name, setting: 'client-secret-stdin' }}`,
    );
  }
  return { kind: 'none' };
}

/** The upstream a connection of the file points at, as the store keeps it. */
export function upstreamOf(c: PolicyConnection): Pick<Connection, 'type' | 'sandbox' | 'issuer' | 'baseUrl'> {
  return { type: c.type!, sandbox: !!c.sandbox, issuer: c.issuer ?? null, baseUrl: c.base_url ?? null };
}

async function applyConnection(store: Store, item: PlanItem, notes: Hint[], actor: string): Promise<void> {
  if (item.action === 'delete') return await store.connections.delete(item.name);
  const c = item.desired as PolicyConnection;
  const current = await store.connections.get(item.name);
  if (
    current &&
    upstreamChanges(current, upstreamOf(c)).length > 0 &&
    (await store.associations.countForConnection(item.name)) > 0
  )
    await forgetAssociations(store, actor, item.name);
  const tokenAuth = c.token_auth === undefined || c.token_auth === 'auto' ? null : c.token_auth;
  const fields = {
    sandbox: !!c.sandbox,
    issuer: c.issuer ?? null,
    baseUrl: c.base_url ?? null,
    tokenAuth,
    clientId: c.client_id!,
    scopes: c.scopes!,
    jit: { ...c.jit! } as never,
    attributeMap: c.attribute_map ?? {},
  };
  if (item.action === 'create') {
    await store.connections.insert({
      name: item.name,
      type: c.type!,
      ...fields,
      secret: secretOf(c, item.name, notes),
    });
    return;
  }
  const secretChanged = item.changes.some((ch) => ch.path.startsWith('client_secret') || ch.path === 'sandbox');
  await store.connections.update(
    item.name,
    secretChanged ? { ...fields, secret: secretOf(c, item.name, notes) } : fields,
  );
}

/**
 * A web app the file creates gets no secret here: apply's output goes to CI logs, where a secret must not. A note
 * says how to make one, shown once where the person wants it.
 */
async function applyApp(store: Store, item: PlanItem, notes: Hint[]): Promise<void> {
  if (item.action === 'delete') return await store.apps.delete(item.name);
  const a = item.desired as PolicyApp;
  const fields = {
    origins: a.origins!,
    idTokenAlg: a.id_token_alg!,
    redirectUris: a.redirect_uris!,
    steps: a.steps!,
    attributes: a.attributes!,
    script: a.script ?? null,
  };
  if (item.action === 'create') {
    await store.apps.insert({ name: item.name, clientId: a.client_id ?? newClientId(), type: a.type!, ...fields });
    if (a.type === 'web')
      notes.push(hint`web app ${item.name} has no client secret yet: ${{ kind: 'rotate-secret', app: item.name }}`);
  } else await store.apps.update(item.name, { ...fields, ...(a.client_id && { clientId: a.client_id }) });
}
