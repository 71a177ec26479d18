// The one driver loop shared by the terminal and headless drivers: start a flow, answer what it waits for
// (through an Answerer). The loopback callback page is held while the callback is redeemed: a flow that then waits for
// the person at the terminal tells the browser so at once; the outcome reaches the page (if still open) at the end.
import { IdpError, isIdpError } from '../../core/errors.js';
import { isLocalOption } from '../../core/signin.js';
import type { FlowEngine } from '../../flow/engine.js';
import type { FlowView, PasskeyAnswer } from '../../flow/types.js';
import type { LoopbackCallback, LoopbackServer } from '../../loopback/server.js';

type Waiting<K extends string> = Extract<FlowView, { waiting: K }>;

export interface Answerer {
  choose(view: Waiting<'choose'>): Promise<string>;
  credentials(view: Waiting<'credentials'>): Promise<{ username: string; password: string }>;
  /** Gets the person (or the headless driver) through the upstream pages; resolves with the loopback callback. */
  callback(
    view: Waiting<'redirect'>,
    loopback: LoopbackServer,
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<LoopbackCallback>;
  jitPrompt(view: Waiting<'jit-prompt'>): Promise<{ consent: boolean; username?: string; password?: string }>;
  mfa(view: Waiting<'mfa'>): Promise<string>;
  /** Answers a passkey step (an assertion, or a registration in 'enrol' mode) with the origin of the page that asked. */
  passkey(view: Waiting<'passkey'>, ctx: PasskeyContext): Promise<PasskeyAnswer>;
}

/** What a passkey answer may need from the loop: the loopback server (a page to serve), started on first use. */
export interface PasskeyContext {
  loopback: () => Promise<LoopbackServer>;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface DriveOptions {
  app: string;
  redirectUri?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export async function drive(engine: FlowEngine, answerer: Answerer, opts: DriveOptions): Promise<FlowView> {
  let loopback: LoopbackServer | undefined;
  let callback: LoopbackCallback | undefined;
  let view = await engine.start(opts.app, { redirectUri: opts.redirectUri });
  try {
    while (view.status === 'active') {
      try {
        view = await answer(view);
      } catch (err) {
        if (!isIdpError(err)) throw err;
        view = await engine.abandon(view.flow, err);
      }
    }
    return view;
  } finally {
    callback?.respond(outcomePage(view));
    await loopback?.close();
  }

  async function answer(current: Extract<FlowView, { status: 'active' }>): Promise<FlowView> {
    if (opts.signal.aborted) throw new IdpError('INTERRUPTED', 'interrupted', 'run the login again');
    switch (current.waiting) {
      case 'choose': {
        const option = await answerer.choose(current);
        if (!isLocalOption(option)) loopback ??= await startLoopbackServer();
        return engine.submit(current.flow, { choose: option, ...(loopback && { redirectUri: loopback.redirectUri }) });
      }
      case 'credentials':
        return engine.submit(current.flow, { credentials: await answerer.credentials(current) });
      case 'redirect': {
        callback = await answerer.callback(current, loopback!, { timeoutMs: opts.timeoutMs, signal: opts.signal });
        const next = await engine.submit(current.flow, { callback: callback.url.href });
        if (next.status === 'active') callback.continueInTerminal(current.provider);
        return next;
      }
      case 'jit-prompt':
        return engine.submit(current.flow, { jitAnswer: await answerer.jitPrompt(current) });
      case 'mfa':
        return engine.submit(current.flow, { otp: await answerer.mfa(current) });
      case 'passkey': {
        const ctx: PasskeyContext = {
          loopback: async () => (loopback ??= await startLoopbackServer()),
          timeoutMs: opts.timeoutMs,
          signal: opts.signal,
        };
        return engine.submit(current.flow, { passkey: await answerer.passkey(current, ctx) });
      }
    }
  }
}

async function startLoopbackServer(): Promise<LoopbackServer> {
  const { startLoopback } = await import('../../loopback/server.js');
  return startLoopback();
}

function outcomePage(view: FlowView): { title: string; message: string; ok: boolean } {
  if (view.status === 'done')
    return {
      title: 'Signed in',
      message: `You are signed in to ${view.app}. Return to the terminal for the details.`,
      ok: true,
    };
  if (view.status === 'failed')
    return {
      title: 'Sign-in failed',
      message: `${view.error.message}. Return to the terminal for the fix.`,
      ok: false,
    };
  return { title: 'Sign-in ended', message: 'This sign-in did not finish. Return to the terminal.', ok: false };
}
