// The web driver: oidc-provider's login interactions answered by idp's flow engine, one page per waiting view, the
// upstream's callback on the server's own /commonauth route, and a done flow handed back as the provider's session.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, Provider } from 'oidc-provider';
import { brokeredSession, type KeptWithGrant, sessionClaims, sessionSatisfies } from '../app/broker.js';
import { ERROR_CODES, IdpError, isIdpError } from '../core/errors.js';
import { deviceName } from '../core/device-name.js';
import type { Hint } from '../core/fixes.js';
import type { FlowEngine } from '../flow/engine.js';
import type { FlowResult, FlowView } from '../flow/types.js';
import { readParams, sendHtml } from '../net/http.js';
import type { Store } from '../ports.js';
import { readCookie, type Signer, setCookie } from './cookies.js';
import { errorPage } from './pages/error.js';
import { answerOf, CSRF_FIELD, flowPage } from './pages/flow.js';
import { ASSET_PATH, INTERACTION_PATH, KEPT_MODEL, now } from './provider.js';

/** Which flow answers an interaction: a row beside the interaction, as long-lived. */
const WEB_FLOW_MODEL = 'WebFlow';
/** The interaction an upstream callback belongs to, carried by the browser across the upstream's pages. */
const CALLBACK_COOKIE = 'idp_upstream';
const CALLBACK_COOKIE_SECONDS = 15 * 60;

export interface WebDriverDeps {
  store: Store;
  provider: Provider;
  engine: FlowEngine;
  signer: Signer;
  org: string;
  /** `/t/<org>` */
  mount: string;
  /** `http://localhost:PORT/t/<org>/commonauth`: the callback every upstream redirects to. */
  callbackUrl: string;
  /** How this server's operator words a refusal's fix (the CLI's `idp ...` lines). */
  wordHint(hint: Hint | undefined): string | null;
  /** A failure that is not a refusal, for the operator's terminal. */
  onError?(err: unknown): void;
}

export class WebDriver {
  constructor(private readonly deps: WebDriverDeps) {}

  /** Routes below `{mount}/authenticationendpoint/`: `<uid>` (GET shows, POST answers), `<uid>/callback`, `<uid>/cancel`. */
  async interaction(req: IncomingMessage, res: ServerResponse, rest: string, query: string): Promise<void> {
    const [uid = '', action = ''] = rest.split('/');
    const details = await this.details(req, res, uid);
    if (!details) return;
    try {
      await this.answerInteraction(req, res, details, action, query);
    } catch (err) {
      // A refusal inside a sign-in (a finished flow, a malformed answer) keeps the way back to the app.
      if (res.headersSent) throw err;
      this.fail(res, statusOf(err), err, { flow: (await this.flowOf(uid)) ?? null, uid });
    }
  }

  private async answerInteraction(
    req: IncomingMessage,
    res: ServerResponse,
    details: Interaction,
    action: string,
    query: string,
  ): Promise<void> {
    const uid = details.uid;
    if (action === 'cancel') return this.cancel(req, res, 'The person cancelled the sign-in.');
    if (details.prompt.name === 'consent' && (await this.singleSignOn(req, res, details))) return;
    if (action === 'callback') return this.upstreamCallback(req, res, details, query);
    if (action !== '') return this.fail(res, 404, notFound(req));
    if (req.method === 'POST') return this.answer(req, res, details);
    if (req.method !== 'GET') return this.fail(res, 405, new IdpError('USAGE', `${req.method} is not allowed here`));
    const flow = await this.flowOf(uid);
    if (flow) return this.respond(req, res, details, await this.deps.engine.current(flow));
    return this.start(req, res, details);
  }

  /** GET `{mount}/commonauth`: the upstream's redirect, sent on to its interaction (whose cookie is scoped there). */
  commonauth(req: IncomingMessage, res: ServerResponse, query: string): void {
    const uid = this.deps.signer.unsign(CALLBACK_COOKIE, readCookie(req, CALLBACK_COOKIE));
    if (!uid)
      return this.fail(
        res,
        400,
        new IdpError(
          'STATE_MISMATCH',
          'this browser has no sign-in waiting for an upstream callback',
          'start the sign-in again from the app',
        ),
      );
    res.writeHead(303, {
      location: `${this.deps.mount}${INTERACTION_PATH}${uid}/callback?${query}`,
      'cache-control': 'no-store',
    });
    res.end();
  }

  private async details(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Interaction | undefined> {
    let details: Interaction;
    try {
      details = await this.deps.provider.interactionDetails(req, res);
    } catch {
      this.fail(res, 400, expired());
      return undefined;
    }
    if (details.uid !== uid) {
      this.fail(res, 400, expired());
      return undefined;
    }
    return details;
  }

  private async start(req: IncomingMessage, res: ServerResponse, details: Interaction): Promise<void> {
    const { store, engine } = this.deps;
    const clientId = String(details.params.client_id);
    const app = await store.apps.byClientId(clientId);
    if (!app) return this.cancel(req, res, `no app has client id ${clientId}`);
    // The provider has checked the redirect URI against the client's registration (My Account's is the server's own
    // callback, which the app record does not list), so the flow starts without one of its own to check.
    const view = await engine.start(app.name);
    await store.oidc.upsert(WEB_FLOW_MODEL, details.uid, { flow: view.flow }, details.exp);
    return this.respond(req, res, details, view);
  }

  private async answer(req: IncomingMessage, res: ServerResponse, details: Interaction): Promise<void> {
    const { engine, signer, callbackUrl } = this.deps;
    const flow = await this.flowOf(details.uid);
    if (!flow) return this.fail(res, 400, expired());
    const form = await readParams(req);
    if (!signer.verify('csrf', details.uid, form.get(CSRF_FIELD)))
      return this.fail(
        res,
        403,
        new IdpError('USAGE', 'this form was not sent from its sign-in page', 'reload the page and try again'),
      );
    // A passkey answer is checked against this server's own origin, never one a request names.
    const input = answerOf(await engine.current(flow), form, { origin: new URL(callbackUrl).origin });
    if ('choose' in input) input.redirectUri = callbackUrl;
    return this.respond(req, res, details, await engine.submit(flow, input));
  }

  private async upstreamCallback(
    req: IncomingMessage,
    res: ServerResponse,
    details: Interaction,
    query: string,
  ): Promise<void> {
    const flow = await this.flowOf(details.uid);
    if (!flow) return this.fail(res, 400, expired());
    setCookie(res, CALLBACK_COOKIE, '', { path: this.callbackPath(), maxAge: 0 });
    const view = await this.deps.engine.submit(flow, { callback: `${this.deps.callbackUrl}?${query}` });
    return this.respond(req, res, details, view);
  }

  private respond(
    req: IncomingMessage,
    res: ServerResponse,
    details: Interaction,
    view: FlowView,
  ): Promise<void> | void {
    if (view.status === 'done') return this.finish(req, res, details, view.result);
    if (view.status === 'failed') {
      const error = new IdpError(view.error.code, view.error.message, view.error.hint ?? undefined);
      return this.fail(res, statusOf(error), error, { flow: view.flow, uid: details.uid });
    }
    if (view.waiting === 'redirect') {
      const uid = this.deps.signer.sign(CALLBACK_COOKIE, details.uid);
      setCookie(res, CALLBACK_COOKIE, uid, { path: this.callbackPath(), maxAge: CALLBACK_COOKIE_SECONDS });
      res.writeHead(303, { location: view.url, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const action = `${this.deps.mount}${INTERACTION_PATH}${details.uid}`;
    sendHtml(
      res,
      200,
      flowPage(this.worded(view), {
        action,
        csrf: this.deps.signer.mac('csrf', details.uid),
        app: view.app,
        org: this.deps.org,
        assets: `${this.deps.mount}${ASSET_PATH}`,
        passkeyName: deviceName(req.headers['user-agent']),
      }),
    );
  }

  /** A retry's fix as this server words fixes, so the page shows it as the error page and the CLI would. */
  private worded(view: FlowView): FlowView {
    if (!('retry' in view) || !view.retry?.hint || typeof view.retry.hint === 'string') return view;
    return { ...view, retry: { ...view.retry, hint: this.deps.wordHint(view.retry.hint) } };
  }

  /** A done flow becomes the provider's session and grant; the grant keeps where the person signed in. */
  private async finish(
    req: IncomingMessage,
    res: ServerResponse,
    details: Interaction,
    result: FlowResult,
  ): Promise<void> {
    const session = brokeredSession(result);
    const grantId = await this.grant(details, session.accountId);
    // What the grant keeps and the end of the interaction's flow row: one commit.
    await this.deps.store.tx(async (tx) => {
      await keep(tx, grantId, session.kept);
      await tx.oidc.destroy(WEB_FLOW_MODEL, details.uid);
    });
    await this.deps.provider.interactionFinished(
      req,
      res,
      {
        login: { accountId: session.accountId, amr: session.amr, acr: session.acr, remember: true },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
  }

  /**
   * A signed-in person opening another app of the org: when their session already passed every step that app asks
   * for, consent is given for it (the org's apps are its own, as on Asgardeo) and the new grant keeps what the
   * session's earlier grant kept. False when the app needs its own flow (another option, a further step, a script).
   */
  private async singleSignOn(req: IncomingMessage, res: ServerResponse, details: Interaction): Promise<boolean> {
    const accountId = details.session?.accountId;
    const { store } = this.deps;
    const app = await store.apps.byClientId(String(details.params.client_id));
    const kept = accountId && app ? await this.keptForSession(details) : undefined;
    if (!accountId || !app || !kept || !(await sessionSatisfies(store, app, kept))) return false;
    // A person deleted or locked since gets a fresh sign-in (which then refuses them), not a grant that cannot work.
    if (!(await sessionClaims(store, app.clientId, accountId, kept))) return false;
    const grantId = await this.grant(details, accountId);
    await keep(store, grantId, kept);
    await this.deps.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return true;
  }

  private async grant(details: Interaction, accountId: string): Promise<string> {
    const { Grant } = this.deps.provider;
    const clientId = String(details.params.client_id);
    const existing = details.grantId ? await Grant.find(details.grantId) : undefined;
    // The session's grant belongs to whoever signed in before: a different person gets a grant of their own.
    const grant = existing?.accountId === accountId ? existing : new Grant({ accountId, clientId });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    return grant.save();
  }

  private async keptForSession(details: Interaction): Promise<KeptWithGrant | undefined> {
    const uid = details.session?.uid;
    const session = uid ? await this.deps.store.oidc.findByUid('Session', uid, now()) : undefined;
    const authorizations = (session?.authorizations ?? {}) as Record<string, { grantId?: string }>;
    for (const { grantId } of Object.values(authorizations)) {
      const kept = grantId ? await this.deps.store.oidc.find(KEPT_MODEL, grantId, now()) : undefined;
      if (kept) return kept as unknown as KeptWithGrant;
    }
    return undefined;
  }

  /** Ends the interaction with an error the app receives at its redirect URI. */
  private cancel(
    req: IncomingMessage,
    res: ServerResponse,
    description: string,
    error = 'access_denied',
  ): Promise<void> {
    return this.deps.provider.interactionFinished(
      req,
      res,
      { error, error_description: description },
      { mergeWithLastSubmission: false },
    );
  }

  private async flowOf(uid: string): Promise<string | undefined> {
    const row = await this.deps.store.oidc.find(WEB_FLOW_MODEL, uid, now());
    return typeof row?.flow === 'string' ? row.flow : undefined;
  }

  private callbackPath(): string {
    return new URL(this.deps.callbackUrl).pathname;
  }

  /** The error page: the refusal's message and fix, as the CLI would print them; from a sign-in, a way back to the app. */
  fail(res: ServerResponse, status: number, err: unknown, at?: { flow: string | null; uid: string }): void {
    // What went wrong inside stays with the operator (onError prints it to the terminal running idp serve).
    if (!isIdpError(err)) this.deps.onError?.(err);
    const error = isIdpError(err)
      ? err
      : new IdpError(
          'INTERNAL',
          'the server could not answer this request',
          'its details are in the terminal the server runs in',
        );
    sendHtml(
      res,
      status,
      errorPage({
        title: 'Sign-in failed',
        message: error.message,
        fix: this.deps.wordHint(error.hint),
        code: error.code,
        ...(at?.flow && { flow: at.flow }),
        ...(at && { back: `${this.deps.mount}${INTERACTION_PATH}${at.uid}/cancel` }),
      }),
    );
  }
}

/** Keeps `kept` beside the grant, expiring with it. */
async function keep(store: Store, grantId: string, kept: KeptWithGrant): Promise<void> {
  const grant = await store.oidc.find('Grant', grantId, 0);
  const exp = typeof grant?.exp === 'number' ? grant.exp : null;
  await store.oidc.upsert(KEPT_MODEL, grantId, { ...kept, grantId }, exp, grantId);
}

/** The HTTP status a refusal is sent with, by its kind (core/errors.ts). */
export function statusOf(err: unknown): number {
  if (!isIdpError(err)) return 500;
  const kind = ERROR_CODES[err.code];
  if (kind === 'usage' || kind === 'protocol') return 400;
  if (kind === 'refused' || kind === 'mfa') return 403;
  if (kind === 'upstream') return 502;
  if (kind === 'timeout') return 504;
  return 500;
}

function expired(): IdpError {
  return new IdpError(
    'FLOW_EXPIRED',
    'this sign-in expired or belongs to another browser',
    'start the sign-in again from the app',
  );
}

function notFound(req: IncomingMessage): IdpError {
  return new IdpError('USAGE', `nothing at ${req.url ?? ''}`);
}
