// The login engine: a resumable state machine over an app's sign-in steps. `start` and `submit` persist the flow,
// append stage events (to the store and a live listener), and return what the flow waits for next. Each waiting
// state has one handler in ./steps (STEPS below picks it); the engine keeps the flow's lifecycle and its records.
import { IdpError, isIdpError, unknownNameHint } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { upstreamText } from '../core/upstream-text.js';
import { FLOW_LIFETIME_MS } from '../core/flow-lifetime.js';
import { effectiveSteps, formatMethod } from '../core/signin.js';
import type { Stage, StageStatus } from '../core/types.js';
import { mfaPrompt } from './mfa.js';
import { chooseOption } from './steps/choose.js';
import { answerJitPrompt } from './steps/jit-prompt.js';
import { localUser, type Kit, type Run } from './steps/kit.js';
import { checkMfa } from './steps/mfa.js';
import { checkPasskey, fallbackOption, passkeyView } from './steps/passkey.js';
import { nextStep } from './steps/next.js';
import { checkPassword } from './steps/password.js';
import { callback } from './steps/redirect.js';
import type { EngineDeps, FlowError, FlowInput, FlowState, FlowView, Waiting } from './types.js';

/** The key that names an answer: `choose`, `credentials`, `callback`, `jitAnswer`, `otp`, `passkey`. */
type AnswerKey = Exclude<FlowInput extends infer I ? (I extends unknown ? keyof I : never) : never, 'redirectUri'>;
/** The answers with key K (distributed: a handler taking several keys takes any of their answers). */
type Answer<K extends AnswerKey> = K extends AnswerKey ? Extract<FlowInput, Record<K, unknown>> : never;
type ActiveWaiting = Exclude<Waiting['kind'], 'none'>;

/** One waiting state's handler: the answer it takes, and how the flow resumes with it. */
interface Step<W extends ActiveWaiting, K extends AnswerKey> {
  answer: K | K[];
  resume(kit: Kit, run: Run, waiting: Extract<Waiting, { kind: W }>, input: Answer<K>): Promise<FlowView>;
}

const STEPS: { [W in ActiveWaiting]: Step<W, AnswerKey> } = {
  choose: step('choose', (kit, run, _w, input) => chooseOption(kit, run, input.choose, input.redirectUri)),
  credentials: step('credentials', (kit, run, _w, input) => checkPassword(kit, run, input.credentials)),
  redirect: step('callback', (kit, run, waiting: Extract<Waiting, { kind: 'redirect' }>, input) =>
    callback(kit, run, waiting, input.callback),
  ),
  'jit-prompt': step('jitAnswer', (kit, run, waiting: Extract<Waiting, { kind: 'jit-prompt' }>, input) =>
    answerJitPrompt(kit, run, waiting, input.jitAnswer),
  ),
  mfa: step('otp', (kit, run, waiting: Extract<Waiting, { kind: 'mfa' }>, input) =>
    checkMfa(kit, run, waiting, input.otp),
  ),
  // A passkey step also takes `choose`: another of the step's options, the "use another way" fallback.
  passkey: step(['passkey', 'choose'], (kit, run, waiting: Extract<Waiting, { kind: 'passkey' }>, input) =>
    'choose' in input
      ? chooseOption(kit, run, fallbackOption(run, input.choose), input.redirectUri)
      : checkPasskey(kit, run, waiting, input.passkey),
  ),
};

function step<W extends ActiveWaiting, K extends AnswerKey>(
  answer: K | K[],
  resume: Step<W, K>['resume'],
): Step<W, AnswerKey> {
  // The dispatcher checks `answer in input` before calling, which is what makes the narrower input type hold.
  return { answer, resume: resume as Step<W, AnswerKey>['resume'] };
}

/** The stage a flow abandoned while waiting is recorded against. */
const WAITING_STAGE: Record<Waiting['kind'], Stage> = {
  choose: 'options',
  credentials: 'password',
  redirect: 'consent',
  'jit-prompt': 'jit',
  mfa: 'mfa',
  passkey: 'mfa',
  none: 'session',
};

export class FlowEngine {
  private readonly kit: StepKit;

  constructor(deps: EngineDeps) {
    this.kit = new StepKit(deps);
  }

  /** Starts a flow for an app. Unknown apps and unregistered redirect URIs throw before any flow exists. */
  async start(appName: string, opts: { redirectUri?: string } = {}): Promise<FlowView> {
    const { store, random } = this.kit.deps;
    const app = await store.apps.get(appName);
    if (!app)
      throw new IdpError(
        'APP_NOT_FOUND',
        `no app named '${appName}'`,
        unknownNameHint('app', appName, await store.apps.names()),
      );
    if (opts.redirectUri !== undefined && !app.redirectUris.includes(opts.redirectUri)) {
      const register = { kind: 'set', on: 'app', name: app.name, setting: 'redirect-uri', value: 'URI' } as const;
      throw new IdpError(
        'REDIRECT_URI_MISMATCH',
        `${opts.redirectUri} is not a registered redirect URI of ${app.name}`,
        hint`registered: ${app.redirectUris.join(', ') || 'none'} (${register})`,
      );
    }
    const state: FlowState = {
      app: app.name,
      redirectUri: opts.redirectUri ?? app.redirectUris[0] ?? null,
      steps: effectiveSteps(app, await store.connections.names()),
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
    const run: Run = { id: random.flowId(), state, app, current: 'app', since: performance.now(), events: [] };
    await store.flows.insert(run.id, app.name, state);
    this.kit.stage(run, 'app', 'ok', `${app.name} (client ${app.clientId}); ${formatMethod(state.steps)}`, 0);
    return this.guard(run, () => this.kit.next(run));
  }

  submit(flowId: string, input: FlowInput): Promise<FlowView> {
    return oneAtATime(flowId, () => this.resume(flowId, input));
  }

  /** What an active flow waits for, as `start` or `submit` last returned it (without a retry): for drivers that
   *  show it again, such as a web page reloaded. A finished, failed or expired flow throws as `submit` would. */
  async current(flowId: string): Promise<FlowView> {
    const run = await this.load(flowId);
    if (run.state.waiting.kind === 'none')
      throw new IdpError('FLOW_FINISHED', `flow ${flowId} is not waiting for anything`, 'start a new login');
    return this.kit.view(run);
  }

  private async resume(flowId: string, input: FlowInput): Promise<FlowView> {
    const run = await this.load(flowId);
    return this.guard(run, () => this.dispatch(run, input));
  }

  private async load(flowId: string): Promise<Run> {
    const { store } = this.kit.deps;
    const row = await store.flows.get(flowId);
    const recent = { kind: 'show', what: 'events' } as const;
    if (!row) throw new IdpError('FLOW_NOT_FOUND', `no flow with id ${flowId}`, hint`see ${recent} for recent flows`);
    if (row.status === 'expired')
      throw new IdpError(
        'FLOW_EXPIRED',
        `flow ${flowId} expired: it had no step for ${FLOW_LIFETIME_MS / 60_000} minutes`,
        'start a new login',
      );
    if (row.status !== 'active')
      throw new IdpError(
        'FLOW_FINISHED',
        `flow ${flowId} has already ${row.status === 'done' ? 'finished' : 'failed'}`,
        'start a new login',
      );
    const state = JSON.parse(row.state) as FlowState;
    const app = await store.apps.get(state.app);
    if (!app) throw new IdpError('APP_NOT_FOUND', `the app of flow ${flowId} no longer exists`, 'start a new login');
    return { id: flowId, state, app, current: 'options', since: performance.now(), events: [] };
  }

  /** Ends a flow from outside (timeout, Ctrl-C, a driver that cannot answer): recorded against the stage it waited in. */
  abandon(flowId: string, err: IdpError): Promise<FlowView> {
    return oneAtATime(flowId, async () => {
      const { store } = this.kit.deps;
      const row = await store.flows.get(flowId);
      if (row?.status !== 'active') throw err;
      const state = JSON.parse(row.state) as FlowState;
      const app = await store.apps.get(state.app);
      if (!app) throw err;
      const since = performance.now() - Math.max(0, Date.now() - state.waitingSince);
      return this.guard({ id: flowId, state, app, current: WAITING_STAGE[state.waiting.kind], since, events: [] }, () =>
        Promise.reject(err),
      );
    });
  }

  /**
   * Runs one call on a flow and stores what it did: its stage events and the flow's state, in one transaction. Any
   * failure ends the flow: a `failed` stage event, the flow row marked failed, and a failed view.
   */
  private async guard(run: Run, body: () => Promise<FlowView>): Promise<FlowView> {
    try {
      const view = await body();
      await this.persist(run, view.status === 'done' ? 'done' : 'active');
      return view;
    } catch (err) {
      const error: FlowError = isIdpError(err)
        ? err.toJSON()
        : {
            code: 'INTERNAL',
            // An unexpected error may quote what idp was sending: redacted and capped like any upstream text.
            message: upstreamText(err instanceof Error ? err.message : String(err), secretsOf(run.state.waiting)),
            hint: hint`rerun with ${{ kind: 'option', option: 'debug' }}, and report it if it persists`,
          };
      this.kit.stage(run, run.current, 'failed', error.message, performance.now() - run.since);
      run.state.waiting = { kind: 'none' };
      run.state.error = error.code;
      await this.persist(run, 'failed');
      return { flow: run.id, app: run.app.name, step: run.state.step, status: 'failed', error, jit: run.state.jit };
    }
  }

  private async persist(run: Run, status: 'active' | 'done' | 'failed'): Promise<void> {
    const { store } = this.kit.deps;
    await store.tx(async (tx) => {
      for (const event of run.events) await tx.events.recordStage(event);
      await tx.flows.save(run.id, status, run.state);
    });
    // Only once stored: a failed write leaves them for the failure's own write.
    run.events.length = 0;
  }

  private dispatch(run: Run, input: FlowInput): Promise<FlowView> {
    const waiting = run.state.waiting;
    if (waiting.kind === 'none')
      throw new IdpError('FLOW_FINISHED', `flow ${run.id} is not waiting for anything`, 'start a new login');
    const handler = STEPS[waiting.kind] as Step<typeof waiting.kind, AnswerKey>;
    if (![handler.answer].flat().some((key) => key in input))
      throw new IdpError(
        'USAGE',
        `flow ${run.id} is waiting for ${waiting.kind}, not for that answer`,
        'answer what the flow asks for',
      );
    // TypeScript cannot tie the table entry to this waiting kind; the lookup by kind and the answer check above do.
    return handler.resume(this.kit, run, waiting as never, input as never);
  }
}

/** The engine's services to the step handlers. */
class StepKit implements Kit {
  constructor(readonly deps: EngineDeps) {}

  next(run: Run): Promise<FlowView> {
    return nextStep(this, run);
  }

  wait(run: Run, waiting: Waiting): Promise<FlowView> {
    run.state.waiting = waiting;
    run.state.waitingSince = Date.now();
    return this.view(run);
  }

  async view(run: Run): Promise<FlowView> {
    const { state } = run;
    const base = { flow: run.id, app: run.app.name, step: state.step, status: 'active' as const };
    const w = state.waiting;
    switch (w.kind) {
      case 'choose':
        return { ...base, waiting: 'choose', options: state.steps[state.step - 1]! };
      case 'credentials':
        return { ...base, waiting: 'credentials', fields: ['username', 'password'] };
      case 'redirect':
        return {
          ...base,
          waiting: 'redirect',
          url: w.auth.url,
          connection: w.connection,
          provider: w.provider,
          sandbox: w.sandbox,
        };
      case 'jit-prompt': {
        const connection = await this.deps.store.connections.get(w.connection);
        if (!connection)
          throw new IdpError(
            'CONNECTION_NOT_FOUND',
            `connection ${w.connection} was removed during this sign-in`,
            'start a new login',
          );
        const email = typeof w.claims.email === 'string' ? w.claims.email : null;
        const name = typeof w.claims.name === 'string' ? w.claims.name : null;
        const fields =
          connection.jit.scheme === 'prompt-username-password-consent'
            ? ['consent', 'username', 'password']
            : ['consent'];
        return {
          ...base,
          waiting: 'jit-prompt',
          connection: w.connection,
          scheme: connection.jit.scheme,
          proposed: { username: w.proposedUsername, email, name },
          fields,
        };
      }
      case 'mfa':
        return { ...base, waiting: 'mfa', method: w.method, ...mfaPrompt(this.deps, await localUser(this, run), w) };
      case 'passkey':
        return { ...base, ...passkeyView(run, w) };
      case 'none':
        throw new IdpError('INTERNAL', `flow ${run.id} is not waiting for anything`);
    }
  }

  waited(run: Run): number {
    return Math.max(0, Date.now() - run.state.waitingSince);
  }

  stage(run: Run, stage: Stage, status: StageStatus, detail: string, ms: number): void {
    const event = {
      flow: run.id,
      seq: ++run.state.seq,
      stage,
      status,
      ms: Math.round(ms * 10) / 10,
      detail,
      at: this.deps.store.clock().toISOString(),
    };
    run.events.push(event);
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

/** The values of the upstream request a flow waits on, which no error text may show. */
function secretsOf(waiting: Waiting): string[] {
  return waiting.kind === 'redirect' ? [waiting.auth.state, waiting.auth.nonce, waiting.auth.codeVerifier] : [];
}
