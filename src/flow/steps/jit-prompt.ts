// After the upstream has said who the person is: the JIT decision applied (or, under a prompt scheme, first the
// `jit-prompt` state asking consent and maybe a username and password), then the step is done.
import { IdpError } from '../../core/errors.js';
import { hint } from '../../core/fixes.js';
import { asksBeforeProvisioning } from '../../core/jit.js';
import { FEDERATED_AMR } from '../../core/signin.js';
import { MY_ACCOUNT } from '../../core/signin.js';
import {
  applyJit,
  checkChosenUsername,
  proposedUsername,
  readDecision,
  type JitApplied,
  type UpstreamUser,
} from '../provision.js';
import type { FlowError, FlowInput, FlowView, JitOutcome, Waiting } from '../types.js';
import { completeStep, type Kit, type Run } from './kit.js';
import { MIN_PASSWORD_LENGTH } from '../../core/user-fields.js';

type JitAnswer = Extract<FlowInput, { jitAnswer: unknown }>['jitAnswer'];

export async function afterUpstream(kit: Kit, run: Run, upstream: UpstreamUser): Promise<FlowView> {
  const { store } = kit.deps;
  run.current = 'jit';
  const { decision, profile } = await readDecision(store, upstream);
  if (asksBeforeProvisioning(upstream.connection.jit, decision)) {
    const proposed = await proposedUsername(store, upstream, profile);
    return kit.wait(run, {
      kind: 'jit-prompt',
      connection: upstream.connection.name,
      subject: upstream.subject,
      claims: upstream.claims,
      proposedUsername: proposed,
    });
  }
  const started = performance.now();
  return afterJit(kit, run, upstream, await applyJit(store, upstream), performance.now() - started);
}

type JitPromptWaiting = Extract<Waiting, { kind: 'jit-prompt' }>;

export async function answerJitPrompt(
  kit: Kit,
  run: Run,
  waiting: JitPromptWaiting,
  answer: JitAnswer,
): Promise<FlowView> {
  const { store } = kit.deps;
  run.current = 'jit';
  const connection = await store.connections.get(waiting.connection);
  if (!connection)
    throw new IdpError(
      'CONNECTION_NOT_FOUND',
      `connection ${waiting.connection} was removed during this sign-in`,
      'start a new login',
    );
  if (!answer.consent)
    throw new IdpError(
      'JIT_DENIED',
      'you declined creating a local account',
      `nothing was written; with ${connection.name}'s scheme ${connection.jit.scheme} an account is needed to continue`,
    );
  const upstream: UpstreamUser = { connection, subject: waiting.subject, claims: waiting.claims };
  const chosen: { username?: string; passwordHash?: string } = {};
  if (connection.jit.scheme === 'prompt-username-password-consent') {
    const username = answer.username ?? waiting.proposedUsername;
    try {
      await checkChosenUsername(store, (await readDecision(store, upstream)).profile, username);
    } catch (err) {
      if (err instanceof IdpError && err.code === 'USER_EXISTS') return askAgain(kit, run, waiting, upstream, username);
      throw err;
    }
    if (!answer.password || answer.password.length < MIN_PASSWORD_LENGTH)
      throw new IdpError(
        'INVALID_VALUE',
        `the new password must have at least ${MIN_PASSWORD_LENGTH} characters`,
        'choose a longer password',
      );
    const { hashPassword } = await import('../../core/password.js');
    chosen.username = username;
    chosen.passwordHash = await hashPassword(answer.password);
  }
  const started = performance.now();
  let applied: JitApplied;
  try {
    applied = await applyJit(store, upstream, chosen);
  } catch (err) {
    // Free when checked, taken now: another sign-in chose the same name while this one hashed the password.
    if (chosen.username !== undefined && (await store.users.identifierTaken(chosen.username)))
      return askAgain(kit, run, waiting, upstream, chosen.username);
    throw err;
  }
  return afterJit(kit, run, upstream, applied, performance.now() - started + kit.waited(run));
}

/**
 * A taken username is the person's to fix: the prompt again (nothing written), with the refusal as its retry and a
 * username proposed afresh, as it is free now.
 */
async function askAgain(
  kit: Kit,
  run: Run,
  waiting: JitPromptWaiting,
  upstream: UpstreamUser,
  username: string,
): Promise<FlowView> {
  kit.stage(run, 'jit', 'failed', `username '${username}' is taken; asked for another`, 0);
  const { profile } = await readDecision(kit.deps.store, upstream);
  const proposed = await proposedUsername(kit.deps.store, upstream, profile);
  const retry: FlowError = {
    code: 'USER_EXISTS',
    message: `username '${username}' is taken`,
    hint: 'choose another username',
  };
  return {
    ...((await kit.wait(run, { ...waiting, proposedUsername: proposed })) as Extract<
      FlowView,
      { waiting: 'jit-prompt' }
    >),
    retry,
  };
}

function afterJit(kit: Kit, run: Run, upstream: UpstreamUser, applied: JitApplied, ms: number): Promise<FlowView> {
  const { state } = run;
  const { decision } = applied;
  if (decision.kind === 'deny') {
    // The stage, which admins read, keeps the reason (it may name the local account holding the email); the outcome
    // goes back to the person signing in, who is told only the refusal.
    state.jit = { decision: decision.kind, reason: decision.refusal.message, user: null };
    kit.stage(run, 'jit', 'failed', applied.detail, ms);
    throw new IdpError(decision.refusal.code, decision.refusal.message, decision.refusal.hint);
  }
  const outcome: JitOutcome = {
    decision: decision.kind,
    reason: decision.reason,
    user: applied.user && { id: applied.user.id, username: applied.user.username },
  };
  state.jit = outcome;
  kit.stage(run, 'jit', 'ok', applied.detail, ms);
  state.identity = applied.user
    ? { kind: 'local', userId: applied.user.id, username: applied.user.username }
    : {
        kind: 'pass-through',
        connection: upstream.connection.name,
        subject: upstream.subject,
        profile: applied.profile,
      };
  completeStep(kit, run, upstream.connection.name, upstream.connection.name, FEDERATED_AMR, upstream.claims);
  if (run.app.builtIn && run.app.name === MY_ACCOUNT && state.identity.kind === 'pass-through') {
    run.current = 'session';
    const jitOn = {
      kind: 'set',
      on: 'connection',
      name: upstream.connection.name,
      setting: 'jit',
      value: 'true',
    } as const;
    throw new IdpError(
      'NEEDS_LOCAL_USER',
      `My Account needs a local user, and ${upstream.connection.name} has JIT off: this sign-in passed through without one`,
      hint`turn JIT on (${jitOn}) so the first sign-in creates an account, or sign in with a local password`,
    );
  }
  return kit.next(run);
}
