// `idp explain`: what a first (or next) federated sign-in would do, without writing anything: the JIT decision and
// why, the user it would create, link or reuse, the attribute changes under the sync policy, the steps that would
// run after step 1 (as the app's script decides), and whether MFA is possible.
import type { MappedProfile } from '../core/claims.js';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { effectiveSteps, isSecondFactor } from '../core/signin.js';
import type { App, Connection, JitDecisionKind } from '../core/types.js';
import type { ScriptRunner, Store, UpstreamProfile } from '../ports.js';
import { proposedUsername, readDecision, returningPatch } from '../flow/provision.js';
import { planNextStep, simulatedFlow } from '../flow/script-plan.js';
import type { Identity } from '../flow/types.js';

export interface Explanation {
  decision: JitDecisionKind;
  reason: string;
  user: { id: string | null; username: string; email: string | null; state: 'new' | 'existing' } | null;
  attributes: { attribute: string; before: unknown; after: unknown }[];
  steps: { step: number; options: string[] }[];
  mfa_required: boolean;
  mfa_possible: boolean;
  upstream: { subject: string; claims: Record<string, unknown> };
}

export async function explain(
  store: Store,
  app: App,
  connection: Connection,
  upstream: UpstreamProfile,
  scripts: ScriptRunner,
): Promise<Explanation> {
  const steps = effectiveSteps(app, await store.connections.names());
  if (!steps[0]?.includes(connection.name)) {
    throw new IdpError(
      'UNKNOWN_SIGN_IN_OPTION',
      `${app.name} does not offer ${connection.name} in step 1`,
      `step 1 offers: ${steps[0]?.join(', ') ?? 'nothing'}`,
    );
  }
  const input = { connection, subject: upstream.subject, claims: upstream.claims };
  const { decision, profile } = await readDecision(store, input);
  const existing =
    decision.kind === 'returning' || decision.kind === 'link' ? await store.users.byId(decision.userId) : undefined;
  const user: Explanation['user'] = existing
    ? { id: existing.id, username: existing.username, email: existing.email, state: 'existing' }
    : decision.kind === 'provision'
      ? { id: null, username: await proposedUsername(store, input, profile), email: profile.email, state: 'new' }
      : null;
  const identity: Identity | null =
    decision.kind === 'pass-through'
      ? { kind: 'pass-through', connection: connection.name, subject: upstream.subject, profile }
      : user
        ? { kind: 'local', userId: user.id ?? 'new-user', username: user.username }
        : null;
  const later = identity
    ? await laterSteps({ store, scripts }, app, steps, connection.name, identity, upstream.claims)
    : [];
  const mfaRequired = later.some((s) => s.options.every(isSecondFactor));
  return {
    decision: decision.kind,
    reason: decision.reason,
    user,
    attributes: await attributeChanges(store, decision.kind, existing?.id, profile, connection),
    steps: [{ step: 1, options: [connection.name] }, ...later],
    mfa_required: mfaRequired,
    mfa_possible: identity?.kind === 'local',
    upstream: { subject: upstream.subject, claims: upstream.claims },
  };
}

/** The profile fields explain reports, by the names apps and claims use (the same for a new and a returning user). */
const FIELDS = [
  ['email', 'email'],
  ['email_verified', 'emailVerified'],
  ['name', 'name'],
  ['given_name', 'givenName'],
  ['family_name', 'familyName'],
  ['picture', 'picture'],
] as const;

async function attributeChanges(
  store: Store,
  kind: JitDecisionKind,
  userId: string | undefined,
  profile: MappedProfile,
  connection: Connection,
): Promise<Explanation['attributes']> {
  if (kind === 'provision') {
    const fields: [string, unknown][] = [
      ...FIELDS.map(([attribute, key]): [string, unknown] => [attribute, profile[key]]),
      ...Object.entries(profile.attributes),
    ];
    return fields
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([attribute, after]) => ({ attribute, before: null, after }));
  }
  if (kind !== 'returning' || !userId) return [];
  const user = (await store.users.byId(userId))!;
  const patch = await returningPatch(store, user, profile, connection.jit.sync);
  // The patch carries email_verified along with a new email even when it stays the same: list only real changes.
  return [
    ...FIELDS.filter(([, key]) => key in patch).map(([attribute, key]) => ({
      attribute,
      before: user[key],
      after: patch[key],
    })),
    ...Object.entries(patch.attributes ?? {}).map(([attribute, after]) => ({
      attribute,
      before: user.attributes[attribute] ?? null,
      after,
    })),
  ].filter((c) => c.before !== c.after);
}

/** The steps after step 1, in order: all of them, or those the app's script runs (each assumed to succeed). */
async function laterSteps(
  { store, scripts }: { store: Store; scripts: ScriptRunner },
  app: App,
  steps: string[][],
  connection: string,
  identity: Identity,
  remoteClaims: Record<string, unknown>,
) {
  const all = steps.slice(1).map((options, i) => ({ step: i + 2, options }));
  if (app.script === null) return all;
  const state = simulatedFlow(app.name, steps, identity, [
    { step: 1, option: connection, idp: connection, remoteClaims },
  ]);
  const chosen: { step: number; options: string[] }[] = [];
  for (;;) {
    const plan = await planNextStep({ store, scripts }, app.script, state, { app: app.name, clientId: app.clientId });
    if ('failed' in plan)
      throw new IdpError(
        'SCRIPT_FAILED_LOGIN',
        `${app.name}'s script would fail this sign-in: ${plan.failed.errorMessage ?? plan.failed.errorCode ?? 'fail()'}`,
        hint`see ${{ kind: 'show', what: 'app-script', name: app.name }}`,
      );
    if (plan.next === null || state.completed.some((c) => c.step === plan.next)) return chosen;
    chosen.push({ step: plan.next, options: steps[plan.next - 1] ?? [] });
    state.completed.push({ step: plan.next, option: steps[plan.next - 1]?.[0] ?? '', idp: 'LOCAL' });
  }
}
