// The login engine: a resumable state machine over an app's sign-in steps. `start` and `submit` persist the flow,
// append stage events (to the store and a live listener), and return what the flow waits for next.
import { timingSafeEqual, createHash } from 'node:crypto';
import { IdpError, isIdpError, unknownNameHint } from '../core/errors.js';
import { FLOW_LIFETIME_MS } from '../core/flow-lifetime.js';
import { newFlowId } from '../core/ids.js';
import { upstreamText } from '../core/upstream-text.js';
import { effectiveSteps, formatMethod, isLocalOption, isMfaOption, MY_ACCOUNT } from '../core/signin.js';
import { verifyPassword } from '../core/password.js';
import type { App, Stage, StageStatus, User } from '../core/types.js';
import type { Mailer, MailMessage, Store, Upstreams, UpstreamProfile } from '../ports.js';
import { applyJit, proposedUsername, readDecision, type JitApplied, type UpstreamUser } from './provision.js';
import { issueIdToken } from './session.js';
import { amrFor, beginMfa, MAX_MFA_ATTEMPTS, mfaPrompt, verifyMfa, type MfaMethod } from './mfa.js';
import type { FlowError, FlowInput, FlowState, FlowView, JitOutcome, StageListener } from './types.js';

export const MAX_PASSWORD_ATTEMPTS_PER_FLOW = 3;
export const LOCKOUT_AFTER_FAILED_LOGINS = 5;

interface Run {
  id: string;
  state: FlowState;
  app: App;
  /** The stage a failure is reported against. */
  current: Stage;
  /** performance.now() when this call began: a failure's ms is measured from here. */
  since: number;
}

export interface EngineDeps {
  store: Store;
  upstreams: Upstreams;
  onEvent?: StageListener;
  /** The optional SMTP relay for emailed codes (`idp org set --smtp`). */
  mailer?: Mailer;
}

export class FlowEngine {
  constructor(private readonly deps: EngineDeps) {}

  private get store(): Store {
    return this.deps.store;
  }

  /** Starts a flow for an app. Unknown apps and unregistered redirect URIs throw before any flow exists. */
  async start(appName: string, opts: { redirectUri?: string } = {}): Promise<FlowView> {
    const app = this.store.apps.get(appName);
    if (!app) throw new IdpError('APP_NOT_FOUND', `no app named '${appName}'`, unknownNameHint('app', appName, this.store.apps.names(), 'idp app list'));
    if (opts.redirectUri !== undefined && !app.redirectUris.includes(opts.redirectUri)) {
      throw new IdpError('REDIRECT_URI_MISMATCH', `${opts.redirectUri} is not a registered redirect URI of ${app.name}`, `registered: ${app.redirectUris.join(', ') || 'none'} (idp app set ${app.name} --redirect-uri URI)`);
    }
    const state: FlowState = {
      app: app.name,
      redirectUri: opts.redirectUri ?? app.redirectUris[0] ?? null,
      steps: effectiveSteps(app, this.store.connections.names()),
      step: 0,
      seq: 0,
      waiting: { kind: 'none' },
      waitingSince: Date.now(),
      identity: null,
      completed: [],
      amr: [],
      jit: null,
      authTime: null,
      passwordFailures: 0,
    };
    const run: Run = { id: newFlowId(), state, app, current: 'app', since: performance.now() };
    this.store.flows.insert(run.id, app.name, state);
    this.stage(run, 'app', 'ok', `${app.name} (client ${app.clientId}); ${formatMethod(state.steps)}`, 0);
    return this.guard(run, () => this.nextStep(run));
  }

  submit(flowId: string, input: FlowInput): Promise<FlowView> {
    return oneAtATime(flowId, () => this.resume(flowId, input));
  }

  private async resume(flowId: string, input: FlowInput): Promise<FlowView> {
    const row = this.store.flows.get(flowId);
    if (!row) throw new IdpError('USAGE', `no flow with id ${flowId}`, 'see `idp events` for recent flows');
    if (row.status === 'expired') throw new IdpError('FLOW_EXPIRED', `flow ${flowId} expired: it had no step for ${FLOW_LIFETIME_MS / 60_000} minutes`, 'start a new login');
    if (row.status !== 'active') throw new IdpError('USAGE', `flow ${flowId} has already ${row.status === 'done' ? 'finished' : 'failed'}`, 'start a new login');
    const state = JSON.parse(row.state) as FlowState;
    const app = this.store.apps.get(state.app);
    if (!app) throw new IdpError('APP_NOT_FOUND', `the app of flow ${flowId} no longer exists`, 'start a new login');
    const run: Run = { id: flowId, state, app, current: 'options', since: performance.now() };
    return this.guard(run, () => this.dispatch(run, input));
  }

  /** Ends a flow from outside (timeout, Ctrl-C, a driver that cannot answer): recorded against the stage it waited in. */
  abandon(flowId: string, err: IdpError): Promise<FlowView> {
    return oneAtATime(flowId, async () => {
      const row = this.store.flows.get(flowId);
      if (!row || row.status !== 'active') throw err;
      const state = JSON.parse(row.state) as FlowState;
      const app = this.store.apps.get(state.app)!;
      const since = performance.now() - Math.max(0, Date.now() - state.waitingSince);
      return this.guard({ id: flowId, state, app, current: WAITING_STAGE[state.waiting.kind], since }, () => Promise.reject(err));
    });
  }

  /** Any failure ends the flow: a `failed` stage event, the flow row marked failed, and a failed view. */
  private async guard(run: Run, body: () => Promise<FlowView>): Promise<FlowView> {
    try {
      const view = await body();
      if (view.status === 'active') this.store.flows.save(run.id, 'active', run.state);
      return view;
    } catch (err) {
      const error: FlowError = isIdpError(err)
        ? err.toJSON()
        : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), hint: 'rerun with --debug, and report it if it persists' };
      this.stage(run, run.current, 'failed', error.message, performance.now() - run.since);
      run.state.waiting = { kind: 'none' };
      this.store.flows.save(run.id, 'failed', run.state);
      return { flow: run.id, app: run.app.name, step: run.state.step, status: 'failed', error, jit: run.state.jit };
    }
  }

  private async dispatch(run: Run, input: FlowInput): Promise<FlowView> {
    const waiting = run.state.waiting;
    if ('choose' in input && waiting.kind === 'choose') return this.choose(run, input.choose, input.redirectUri);
    if ('credentials' in input && waiting.kind === 'credentials') return this.checkPassword(run, input.credentials.username, input.credentials.password);
    if ('callback' in input && waiting.kind === 'redirect') return this.callback(run, input.callback);
    if ('jitAnswer' in input && waiting.kind === 'jit-prompt') return this.jitAnswer(run, input.jitAnswer);
    if ('otp' in input && waiting.kind === 'mfa') return this.checkMfa(run, input.otp);
    throw new IdpError('USAGE', `flow ${run.id} is waiting for ${waiting.kind}, not for that answer`, 'answer what the flow asks for');
  }

  private async nextStep(run: Run): Promise<FlowView> {
    const { state } = run;
    const next = run.app.script ? await this.scriptedNext(run) : state.step + 1 > state.steps.length ? null : state.step + 1;
    if (next === null) return this.finish(run);
    state.step = next;
    const options = state.steps[next - 1]!;
    run.current = 'options';
    if (state.identity?.kind === 'pass-through' && options.every((o) => isLocalOption(o))) {
      run.current = 'mfa';
      throw mfaNeedsLocalUser(run);
    }
    if (next > 1 && options.length === 1) return this.choose(run, options[0]!, undefined, true);
    return this.wait(run, { kind: 'choose' });
  }

  /** Asks the app's script which step comes next (null: none), and says so in a `script` stage. */
  private async scriptedNext(run: Run): Promise<number | null> {
    const { state, app } = run;
    run.current = 'script';
    const started = performance.now();
    const { planNextStep } = await import('./script-plan.js');
    const plan = await planNextStep(this.store, app.script!, state, { app: app.name, clientId: app.clientId });
    const after = state.completed.length ? `after step ${state.step} (idp ${state.completed[state.completed.length - 1]!.idp})` : 'at the start';
    if ('failed' in plan) {
      const message = plan.failed.errorMessage ?? 'the script refused this sign-in';
      throw new IdpError('SCRIPT_FAILED_LOGIN', `${app.name}'s script failed the login${plan.failed.errorCode ? ` (${plan.failed.errorCode})` : ''}: ${message}`, `see the script: idp app script show ${app.name}`);
    }
    if (plan.next !== null) {
      if (state.completed.length) this.stage(run, 'script', 'ok', `${after}: runs step ${plan.next}`, performance.now() - started);
      return plan.next;
    }
    if (state.completed.length === 0) throw new IdpError('SCRIPT_ERROR', `${app.name}'s script ran no step, so nobody was identified`, 'call executeStep(1) in onLoginRequest');
    const skipped = state.steps.map((_, i) => i + 1).filter((n) => !plan.ran.includes(n));
    this.stage(run, 'script', 'ok', `${after}: done; ran step ${plan.ran.join(', ')}${skipped.length ? `, skipped step ${skipped.join(', ')}` : ''}`, performance.now() - started);
    return null;
  }

  private async choose(run: Run, option: string, redirectUri?: string, automatic = false): Promise<FlowView> {
    const { state } = run;
    const options = state.steps[state.step - 1]!;
    run.current = 'options';
    if (!options.includes(option)) {
      throw new IdpError('UNKNOWN_SIGN_IN_OPTION', `${run.app.name} does not offer '${option}' in step ${state.step}`, `step ${state.step} offers: ${options.join(', ')}`);
    }
    this.stage(run, 'options', 'ok', `step ${state.step}: ${option} (${automatic ? 'the only option' : `offered ${options.join(' | ')}`})`, automatic ? 0 : this.waited(run));
    if (option === 'password') return this.wait(run, { kind: 'credentials' });
    if (isMfaOption(option)) return this.startMfa(run, option as MfaMethod);
    return this.redirect(run, option, redirectUri);
  }

  private async redirect(run: Run, connectionName: string, redirectUri: string | undefined): Promise<FlowView> {
    run.current = 'redirect';
    const connection = this.store.connections.get(connectionName);
    if (!connection) throw new IdpError('CONNECTION_NOT_FOUND', `connection ${connectionName} no longer exists`, `remove it from ${run.app.name}'s steps`);
    if (!redirectUri) throw new IdpError('USAGE', 'a federated step needs the loopback redirect URI', 'the driver passes it with the choice');
    const started = performance.now();
    const { connector, provider } = await this.deps.upstreams.connector(connection);
    const auth = await connector.authorizationRequest(redirectUri);
    const target = new URL(auth.url);
    this.stage(run, 'redirect', 'ok', `to ${provider}${connection.sandbox ? ' (sandbox)' : ''} at ${target.origin}${target.pathname}; PKCE S256, state, nonce`, performance.now() - started);
    return this.wait(run, { kind: 'redirect', connection: connection.name, auth, provider, sandbox: connection.sandbox });
  }

  private async callback(run: Run, callbackUrl: string): Promise<FlowView> {
    const waiting = run.state.waiting;
    if (waiting.kind !== 'redirect') throw new IdpError('INTERNAL', 'not waiting for a callback');
    const url = new URL(callbackUrl);
    run.current = 'callback';
    if (!sameSecret(url.searchParams.get('state') ?? '', waiting.auth.state)) {
      throw new IdpError('STATE_MISMATCH', 'the callback state does not match this flow: possible forgery or a stale browser tab', 'start a new login; the code was not redeemed');
    }
    run.current = 'consent';
    const error = url.searchParams.get('error');
    if (error) {
      const description = url.searchParams.get('error_description');
      if (error === 'access_denied') throw new IdpError('UPSTREAM_DENIED', `consent denied at ${waiting.provider}`, 'nothing was written; sign in again and approve to continue');
      throw new IdpError('UPSTREAM_ERROR', `${waiting.provider} returned ${upstreamText(`${error}${description ? `: ${description}` : ''}`, [waiting.auth.state, waiting.auth.nonce, waiting.auth.codeVerifier])}`, 'check the connection settings: idp connection show ' + waiting.connection);
    }
    this.stage(run, 'consent', 'ok', `approved at ${waiting.provider}`, this.waited(run));
    this.stage(run, 'callback', 'ok', 'state matches; authorization code received', 0);
    const connection = this.store.connections.get(waiting.connection)!;
    const { connector } = await this.deps.upstreams.connector(connection);

    run.current = 'token';
    let started = performance.now();
    const tokens = await connector.exchangeCode(url, waiting.auth);
    this.stage(run, 'token', 'ok', `code redeemed at ${waiting.provider}${tokens.idToken ? '; ID token verified (signature, iss, aud, exp, nonce)' : ''}`, performance.now() - started);

    run.current = 'userinfo';
    started = performance.now();
    const profile = await connector.fetchProfile(tokens);
    this.stage(run, 'userinfo', 'ok', describeProfile(profile), performance.now() - started);

    run.current = 'jit';
    const upstream: UpstreamUser = { connection, subject: profile.subject, claims: profile.claims };
    if (connection.jit.enabled && connection.jit.scheme !== 'silent') {
      const { decision, profile: mapped } = readDecision(this.store, upstream);
      if (decision.kind === 'provision') {
        return this.wait(run, { kind: 'jit-prompt', connection: connection.name, subject: profile.subject, claims: profile.claims, proposedUsername: proposedUsername(this.store, upstream, mapped) });
      }
    }
    started = performance.now();
    return this.afterJit(run, upstream, applyJit(this.store, upstream), performance.now() - started);
  }

  private async jitAnswer(run: Run, answer: { consent: boolean; username?: string; password?: string }): Promise<FlowView> {
    const waiting = run.state.waiting;
    if (waiting.kind !== 'jit-prompt') throw new IdpError('INTERNAL', 'not waiting for a JIT answer');
    run.current = 'jit';
    const connection = this.store.connections.get(waiting.connection)!;
    if (!answer.consent) throw new IdpError('JIT_DENIED', 'you declined creating a local account', `nothing was written; with ${connection.name}'s scheme ${connection.jit.scheme} an account is needed to continue`);
    const chosen: { username?: string; passwordHash?: string } = {};
    if (connection.jit.scheme === 'prompt-username-password-consent') {
      const { validUsername } = await import('../core/user-fields.js');
      const username = answer.username ?? waiting.proposedUsername;
      if (!validUsername(username)) throw new IdpError('INVALID_VALUE', `'${username}' is not a valid username`, 'use letters, digits and . _ @ + - (up to 64)');
      if (this.store.users.usernameTaken(username)) throw new IdpError('USER_EXISTS', `username '${username}' is taken`, 'choose another username');
      if (!answer.password || answer.password.length < 8) throw new IdpError('INVALID_VALUE', 'the new password must have at least 8 characters', 'choose a longer password');
      const { hashPassword } = await import('../core/password.js');
      chosen.username = username;
      chosen.passwordHash = await hashPassword(answer.password);
    }
    const upstream: UpstreamUser = { connection, subject: waiting.subject, claims: waiting.claims };
    const started = performance.now();
    return this.afterJit(run, upstream, applyJit(this.store, upstream, chosen), performance.now() - started + this.waited(run));
  }

  private afterJit(run: Run, upstream: UpstreamUser, applied: JitApplied, ms: number): Promise<FlowView> {
    const { state } = run;
    const { decision } = applied;
    const outcome: JitOutcome = { decision: decision.kind, reason: decision.reason, user: applied.user && { id: applied.user.id, username: applied.user.username } };
    state.jit = outcome;
    if (decision.kind === 'deny') {
      const r = decision.refusal!;
      throw new IdpError(r.code, r.message, r.hint);
    }
    this.stage(run, 'jit', 'ok', applied.detail, ms);
    state.identity = applied.user
      ? { kind: 'local', userId: applied.user.id, username: applied.user.username }
      : { kind: 'pass-through', connection: upstream.connection.name, subject: upstream.subject, profile: applied.profile };
    this.completeStep(run, upstream.connection.name, upstream.connection.name, 'fed', upstream.claims);
    if (run.app.builtIn && run.app.name === MY_ACCOUNT && state.identity.kind === 'pass-through') {
      run.current = 'session';
      throw new IdpError(
        'NEEDS_LOCAL_USER',
        `My Account needs a local user, and ${upstream.connection.name} has JIT off: this sign-in passed through without one`,
        `turn JIT on (idp connection set ${upstream.connection.name} --jit=true) so the first sign-in creates an account, or sign in with a local password`,
      );
    }
    return this.nextStep(run);
  }

  private async checkPassword(run: Run, username: string, password: string): Promise<FlowView> {
    run.current = 'password';
    const started = performance.now();
    const user = this.store.users.find(username);
    const stored = user ? this.store.users.passwordState(user.id) : { hash: null, failedLogins: 0 };
    // Hash even for an unknown user, so timing does not reveal which usernames exist.
    const ok = await verifyPassword(password, stored.hash ?? DUMMY_HASH);
    if (user && user.status !== 'active') {
      throw new IdpError(user.status === 'locked' ? 'USER_LOCKED' : 'USER_DISABLED', `user ${user.username} is ${user.status}`, `an admin can run: idp users set ${user.username} ${user.status === 'locked' ? '--unlock' : '--enable'}`);
    }
    if (!user || !stored.hash || !ok) return this.wrongPassword(run, user?.id);
    this.store.users.recordLogin(user.id);
    this.stage(run, 'password', 'ok', `${user.username} verified (scrypt)`, performance.now() - started);
    run.state.identity = { kind: 'local', userId: user.id, username: user.username };
    this.completeStep(run, 'password', 'LOCAL', 'pwd');
    return this.nextStep(run);
  }

  private wrongPassword(run: Run, userId: string | undefined): FlowView {
    if (userId) {
      const failures = this.store.users.recordFailedLogin(userId);
      if (failures >= LOCKOUT_AFTER_FAILED_LOGINS) {
        this.store.users.setStatus(userId, 'locked');
        throw new IdpError('USER_LOCKED', `too many wrong passwords: the account is now locked`, 'an admin can unlock it: idp users set <user> --unlock');
      }
    }
    const attempts = ++run.state.passwordFailures;
    this.stage(run, 'password', 'failed', `wrong username or password (attempt ${attempts} of ${MAX_PASSWORD_ATTEMPTS_PER_FLOW})`, 0);
    if (attempts >= MAX_PASSWORD_ATTEMPTS_PER_FLOW) throw new IdpError('BAD_CREDENTIALS', 'wrong username or password', 'check the credentials and sign in again');
    const retry: FlowError = { code: 'BAD_CREDENTIALS', message: `wrong username or password (${MAX_PASSWORD_ATTEMPTS_PER_FLOW - attempts} attempt(s) left)`, hint: null };
    return { flow: run.id, app: run.app.name, step: run.state.step, status: 'active', waiting: 'credentials', fields: ['username', 'password'], retry };
  }

  private async startMfa(run: Run, method: MfaMethod): Promise<FlowView> {
    run.current = 'mfa';
    const user = this.localUser(run);
    const { waiting, mail } = beginMfa(this.store, run.id, run.app.name, user, method);
    if (mail) this.stage(run, 'mfa', 'waiting', `email code sent to ${mail.to} (idp outbox${await this.relay(mail)})`, 0);
    return this.wait(run, waiting);
  }

  /** The SMTP relay's part of the stage detail. A relay that fails does not fail the step: the outbox has the code. */
  private async relay(mail: MailMessage): Promise<string> {
    const mailer = this.deps.mailer;
    if (!mailer) return '';
    try {
      await mailer.send(mail);
      return `; relayed to ${mailer.target}`;
    } catch (err) {
      return `; the relay to ${mailer.target} failed: ${(err as Error).message}`;
    }
  }

  private async checkMfa(run: Run, code: string): Promise<FlowView> {
    const waiting = run.state.waiting;
    if (waiting.kind !== 'mfa') throw new IdpError('INTERNAL', 'not waiting for a code');
    run.current = 'mfa';
    const user = this.localUser(run);
    const verdict = await verifyMfa(this.store, run.id, user, waiting, code);
    if (verdict !== 'ok') {
      waiting.attempts++;
      this.stage(run, 'mfa', 'failed', `${waiting.method}: ${verdict} (attempt ${waiting.attempts} of ${MAX_MFA_ATTEMPTS})`, this.waited(run));
      if (waiting.attempts >= MAX_MFA_ATTEMPTS) throw new IdpError('MFA_TOO_MANY_ATTEMPTS', `too many wrong ${waiting.method} codes`, 'sign in again');
      return { ...(this.waitingView(run) as Extract<FlowView, { waiting: 'mfa' }>), retry: { code: 'MFA_FAILED', message: `${verdict}: ${MAX_MFA_ATTEMPTS - waiting.attempts} attempt(s) left`, hint: null } };
    }
    const enrolled = waiting.method === 'totp' && waiting.enrolSecret ? ' (new factor enrolled)' : '';
    this.stage(run, 'mfa', 'ok', `${waiting.method} verified for ${user.username}${enrolled}`, this.waited(run));
    this.completeStep(run, waiting.method, 'LOCAL', amrFor(waiting.method));
    return this.nextStep(run);
  }

  private localUser(run: Run): User {
    const identity = run.state.identity;
    if (identity?.kind === 'pass-through') throw mfaNeedsLocalUser(run);
    const user = identity && this.store.users.byId(identity.userId);
    if (!user) throw new IdpError('MFA_FAILED', 'an MFA step needs a user identified by an earlier step', `put a sign-in option in step 1 of ${run.app.name}`);
    return user;
  }

  private completeStep(run: Run, option: string, idp: string, amr: string, remoteClaims?: Record<string, unknown>): void {
    const { state } = run;
    state.completed.push({ step: state.step, option, idp, ...(remoteClaims && { remoteClaims }) });
    if (!state.amr.includes(amr)) state.amr.push(amr);
    state.authTime ??= Math.floor(this.store.clock().getTime() / 1000);
  }

  private async finish(run: Run): Promise<FlowView> {
    const { state, app } = run;
    run.current = 'session';
    const started = performance.now();
    const identity = state.identity;
    if (!identity) throw new IdpError('INTERNAL', 'the flow finished without identifying anyone');
    const first = state.completed[0]!;
    const mfa = state.completed.some((c) => isMfaOption(c.option));
    const { idToken, claims } = await issueIdToken(this.store, app, identity, { amr: state.amr, mfa, authTime: state.authTime!, idp: first.idp });
    this.stage(run, 'session', 'ok', `ID token for ${app.name}: sub ${String(claims.sub)}, amr ${state.amr.join(',')}, acr ${String(claims.acr)}`, performance.now() - started);
    state.waiting = { kind: 'none' };
    this.store.flows.save(run.id, 'done', state);
    return {
      flow: run.id,
      app: app.name,
      step: state.step,
      status: 'done',
      result: {
        app: app.name,
        user: identity.kind === 'local' ? { id: identity.userId, username: identity.username } : null,
        passThrough: identity.kind === 'pass-through',
        jit: state.jit,
        amr: state.amr,
        acr: String(claims.acr),
        idToken,
        claims,
        redirectUri: state.redirectUri,
      },
    };
  }

  private wait(run: Run, waiting: FlowState['waiting']): FlowView {
    run.state.waiting = waiting;
    run.state.waitingSince = Date.now();
    return this.waitingView(run);
  }

  private waitingView(run: Run): FlowView {
    const { state } = run;
    const base = { flow: run.id, app: run.app.name, step: state.step, status: 'active' as const };
    const w = state.waiting;
    switch (w.kind) {
      case 'choose':
        return { ...base, waiting: 'choose', options: state.steps[state.step - 1]! };
      case 'credentials':
        return { ...base, waiting: 'credentials', fields: ['username', 'password'] };
      case 'redirect':
        return { ...base, waiting: 'redirect', url: w.auth.url, connection: w.connection, provider: w.provider, sandbox: w.sandbox };
      case 'jit-prompt': {
        const connection = this.store.connections.get(w.connection)!;
        const email = typeof w.claims.email === 'string' ? w.claims.email : null;
        const name = typeof w.claims.name === 'string' ? w.claims.name : null;
        const fields = connection.jit.scheme === 'prompt-username-password-consent' ? ['consent', 'username', 'password'] : ['consent'];
        return { ...base, waiting: 'jit-prompt', connection: w.connection, scheme: connection.jit.scheme, proposed: { username: w.proposedUsername, email, name }, fields };
      }
      case 'mfa':
        return { ...base, waiting: 'mfa', method: w.method, ...mfaPrompt(this.store, this.localUser(run), w) };
      default:
        throw new IdpError('INTERNAL', `flow ${run.id} is not waiting for anything`);
    }
  }

  /** ms since the flow started waiting: how long the person (or the upstream page) took. */
  private waited(run: Run): number {
    return Math.max(0, Date.now() - run.state.waitingSince);
  }

  private stage(run: Run, stage: Stage, status: StageStatus, detail: string, ms: number): void {
    const event = { flow: run.id, seq: ++run.state.seq, stage, status, ms: Math.round(ms * 10) / 10, detail, at: this.store.clock().toISOString() };
    this.store.events.recordStage(event);
    this.deps.onEvent?.(event);
  }
}

/**
 * The tail of the work queued on each flow in this process. A submission reads the flow, awaits (a hash, a code
 * check, an upstream) and saves it: two racing submissions to one flow would each count from the same state, so
 * attempt caps could be outrun and a losing answer could save a finished flow as active again.
 */
const queued = new Map<string, Promise<unknown>>();

function oneAtATime<T>(flowId: string, work: () => Promise<T>): Promise<T> {
  const result = (queued.get(flowId) ?? Promise.resolve()).then(work);
  const tail = result.catch(() => undefined);
  queued.set(flowId, tail);
  void tail.then(() => queued.get(flowId) === tail && queued.delete(flowId));
  return result;
}

const WAITING_STAGE: Record<FlowState['waiting']['kind'], Stage> = {
  choose: 'options',
  credentials: 'password',
  redirect: 'consent',
  'jit-prompt': 'jit',
  mfa: 'mfa',
  none: 'session',
};

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length > 0;
}

function describeProfile(profile: UpstreamProfile): string {
  const c = profile.claims;
  const who = (c.preferred_username as string | undefined) ?? (c.name as string | undefined) ?? 'user';
  const email = typeof c.email === 'string' ? `${c.email} (${c.email_verified ? 'verified' : 'not verified'})` : 'no email';
  return `${who}, subject ${profile.subject}, ${email}`;
}

function mfaNeedsLocalUser(run: Run): IdpError {
  const identity = run.state.identity as Extract<FlowState['identity'], { kind: 'pass-through' }>;
  return new IdpError(
    'MFA_NEEDS_LOCAL_USER',
    `step ${run.state.step} of ${run.app.name} is MFA, but ${identity.connection} has JIT off: this pass-through user has no local account to hold a factor`,
    `either idp connection set ${identity.connection} --jit=true, or run step ${run.state.step} only when context.steps[1].idp == 'LOCAL' (idp app script set ${run.app.name} --file skip-mfa-for-federated.js)`,
  );
}
