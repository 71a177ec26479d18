// My Account on the web (`/t/<org>/myaccount`): the built-in My Account app signs in through the org's own provider
// (code + PKCE, like any SPA), then a signed-in local user sees their profile, links, factors and passkeys, enrols or
// removes TOTP, and adds, renames or removes passkeys, through the same use cases as `idp account` and `idp users mfa`.
// A pass-through user is refused: no local account.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  accountView,
  beginTotpEnrolment,
  enrolConfirmedTotp,
  pendingTotpEnrolment,
  removeFactors,
  type SelfService,
} from '../app/account.js';
import { beginPasskeyEnrolment, finishPasskeyEnrolment, passkeyList, renamePasskey } from '../app/passkeys.js';
import { deviceName } from '../core/device-name.js';
import { IdpError, isIdpError } from '../core/errors.js';
import { MY_ACCOUNT } from '../core/signin.js';
import type { User } from '../core/types.js';
import { readParams, sendHtml } from '../net/http.js';
import type { PasskeyVerifier, Store, TotpVerifier } from '../ports.js';
import { readCookie, type Signer, setCookie } from './cookies.js';
import { accountActionOf, accountPage, passkeyEnrolPage, totpEnrolPage } from './pages/account.js';
import { CSRF_FIELD } from './pages/flow.js';
import { ASSET_PATH, now, ROUTES } from './provider.js';
import type { WebDriver } from './web-driver.js';

const SESSION_COOKIE = 'idp_myaccount';
const REQUEST_COOKIE = 'idp_myaccount_request';
const SESSION_SECONDS = 60 * 60;
const REQUEST_SECONDS = 15 * 60;

export interface MyAccountDeps {
  store: Store;
  signer: Signer;
  totp: TotpVerifier;
  passkeys: PasskeyVerifier;
  org: string;
  mount: string;
  /** `http://localhost:PORT/t/<org>` */
  base: string;
  /** The My Account app's redirect URI. */
  callback: string;
  /** The token endpoint on 127.0.0.1: the code and verifier never go to whatever else answers for `localhost`. */
  tokenEndpoint: string;
  driver: WebDriver;
}

/** Refusals that a fresh sign-in cures. */
const RESIGN_IN = new Set<string>(['SIGN_IN_TOO_OLD', 'SIGN_IN_WITHOUT_FACTOR']);

interface Visit {
  user: User;
  /** When and how the person signed in (the ID token's auth_time and amr): what adding or removing a factor needs. */
  signedIn: SelfService;
  /** The signed session value, which this visit's forms' CSRF token is bound to. */
  session: string;
  csrf: string;
}

export class MyAccount {
  private readonly path: string;

  constructor(private readonly deps: MyAccountDeps) {
    this.path = `${deps.mount}/myaccount`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, inner: string, params: URLSearchParams): Promise<void> {
    if (inner === '/myaccount/callback') return this.callback(req, res, params);
    const visit = await this.signedIn(req);
    if (!visit)
      return req.method === 'GET' && inner === '/myaccount' ? this.signIn(res) : this.fail(res, 401, signInFirst());
    if (req.method === 'GET' && inner === '/myaccount') return this.show(res, visit, params.get('notice') ?? undefined);
    if (req.method !== 'POST' || inner !== '/myaccount')
      return this.fail(res, 405, new IdpError('USAGE', `${req.method} ${inner} is not a My Account action`));
    const form = await readParams(req);
    if (!this.deps.signer.verify('myaccount', visit.session, form.get(CSRF_FIELD)))
      return this.fail(
        res,
        403,
        new IdpError('USAGE', 'this form was not sent from My Account', 'reload My Account and try again'),
      );
    try {
      return await this.act(req, res, visit, accountActionOf(form));
    } catch (err) {
      // Too long since the person signed in, or signed in without their factor: sign in again (prompt=login; the
      // flow asks for a factor the user holds), then back here to retry.
      if (isIdpError(err) && RESIGN_IN.has(err.code)) return this.signIn(res, { again: true });
      throw err;
    }
  }

  private async act(
    req: IncomingMessage,
    res: ServerResponse,
    visit: Visit,
    asked: ReturnType<typeof accountActionOf>,
  ): Promise<void> {
    const { user, signedIn } = visit;
    const deps = { store: this.deps.store, actor: user.username, passkeys: this.deps.passkeys };
    const origin = new URL(this.deps.base).origin;
    switch (asked.op) {
      case 'enrol-totp':
        return this.beginTotp(res, visit);
      case 'confirm-totp':
        return this.confirmTotp(res, visit, asked.code);
      case 'remove-factor':
        await removeFactors(deps, user, asked.factor, signedIn);
        return this.back(res, asked.factor.startsWith('passkey:') ? 'passkey-removed' : 'factor-removed');
      case 'enrol-passkey':
        return this.passkeyPage(
          req,
          res,
          visit,
          await beginPasskeyEnrolment(deps, user.id, { origin, session: signedIn }),
        );
      case 'finish-passkey':
        return this.finishPasskey(req, res, visit, asked, origin);
      case 'rename-passkey':
        await renamePasskey(deps, user.id, asked.passkey, asked.name);
        return this.back(res, 'passkey-renamed');
      case 'sign-out':
        setCookie(res, SESSION_COOKIE, '', { path: this.path, maxAge: 0 });
        return this.redirect(
          res,
          `${this.deps.base}${ROUTES.end_session}?client_id=${encodeURIComponent((await this.app()).clientId)}`,
        );
    }
  }

  private async show(res: ServerResponse, { user, csrf }: Visit, notice?: string): Promise<void> {
    const passkeys = await passkeyList({ store: this.deps.store }, user.id);
    const view = { ...(await accountView(this.deps.store, user)), passkeys };
    sendHtml(
      res,
      200,
      accountPage(view, {
        csrf,
        action: this.path,
        org: this.deps.org,
        notice: NOTICES[notice ?? ''],
      }),
    );
  }

  /**
   * Starts the My Account app's sign-in at the org's own authorization endpoint; `again`: a fresh sign-in even with a
   * session (prompt=login), after which My Account says the change can be retried.
   */
  private async signIn(res: ServerResponse, { again = false } = {}): Promise<void> {
    const state = randomBytes(16).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const request = this.deps.signer.sign(REQUEST_COOKIE, `${state}~${verifier}~${again ? 'again' : ''}`);
    setCookie(res, REQUEST_COOKIE, request, { path: this.path, maxAge: REQUEST_SECONDS });
    const url = new URL(`${this.deps.base}${ROUTES.authorization}`);
    url.search = new URLSearchParams({
      client_id: (await this.app()).clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: this.deps.callback,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(again && { prompt: 'login' }),
    }).toString();
    this.redirect(res, url.href);
  }

  /** The code comes back: redeemed at the org's token endpoint, over HTTP like any app would. */
  private async callback(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    const request = this.deps.signer.unsign(REQUEST_COOKIE, readCookie(req, REQUEST_COOKIE));
    const [state, verifier, again] = request?.split('~') ?? [];
    if (!state || !verifier || params.get('state') !== state)
      return this.fail(
        res,
        400,
        new IdpError(
          'STATE_MISMATCH',
          'this My Account sign-in was not started in this browser',
          'open My Account again',
        ),
      );
    setCookie(res, REQUEST_COOKIE, '', { path: this.path, maxAge: 0 });
    const error = params.get('error');
    if (error)
      return this.fail(
        res,
        403,
        new IdpError('UPSTREAM_DENIED', params.get('error_description') ?? error, 'open My Account again'),
      );
    const claims = await this.redeem(params.get('code') ?? '', verifier);
    // A pass-through sign-in never gets here: the flow refuses it for My Account with the explanation (NEEDS_LOCAL_USER).
    const user = await this.deps.store.users.byId(String(claims.sub));
    if (!user) return this.fail(res, 403, signInFirst());
    const expires = now() + SESSION_SECONDS;
    const signedInAt = typeof claims.auth_time === 'number' ? claims.auth_time : now();
    // RFC 8176 values are short tokens (no `~` or space): kept space-separated in the signed cookie.
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((v) => typeof v === 'string').join(' ') : '';
    const value = `${user.id}~${expires}~${signedInAt}~${amr}`;
    setCookie(res, SESSION_COOKIE, this.deps.signer.sign(SESSION_COOKIE, value), {
      path: this.path,
      maxAge: SESSION_SECONDS,
    });
    if (again) this.back(res, 'signed-in-again');
    else this.redirect(res, this.path);
  }

  private async redeem(code: string, verifier: string): Promise<Record<string, unknown>> {
    const response = await fetch(this.deps.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.deps.callback,
        client_id: (await this.app()).clientId,
        code_verifier: verifier,
      }),
    });
    const body = (await response.json()) as { id_token?: string; error_description?: string; error?: string };
    if (!response.ok || !body.id_token)
      throw new IdpError(
        'UPSTREAM_ERROR',
        `My Account could not redeem its code: ${body.error_description ?? body.error ?? response.status}`,
        'open My Account again',
      );
    // Straight from the token endpoint over this server's own loopback socket: no signature check needed (OIDC 3.1.3.7).
    return JSON.parse(Buffer.from(body.id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  }

  private async beginTotp(res: ServerResponse, visit: Visit): Promise<void> {
    // A second factor is the use case's to refuse (USAGE, with its fix), shown on the error page.
    this.enrolPage(res, visit, await beginTotpEnrolment(this.deps.store, this.deps.totp, visit.user, visit.signedIn));
  }

  private async confirmTotp(res: ServerResponse, visit: Visit, code: string): Promise<void> {
    const { store, totp } = this.deps;
    const pending = await pendingTotpEnrolment(store, totp, visit.user);
    if (!pending) return this.back(res, 'enrolment-expired');
    try {
      await enrolConfirmedTotp({ store, actor: visit.user.username }, totp, visit.user, code);
    } catch (err) {
      if (err instanceof IdpError && err.code === 'MFA_FAILED') return this.enrolPage(res, visit, pending, err.message);
      throw err;
    }
    this.back(res, 'enrolled');
  }

  /**
   * The answer to an enrolment: a refusal (a wrong origin, an expired challenge) shows the page again with a fresh
   * challenge, since any answer used up the one it was made for.
   */
  private async finishPasskey(
    req: IncomingMessage,
    res: ServerResponse,
    visit: Visit,
    asked: { pending: string; response: unknown; name?: string },
    origin: string,
  ): Promise<void> {
    const deps = { store: this.deps.store, actor: visit.user.username, passkeys: this.deps.passkeys };
    try {
      await finishPasskeyEnrolment(deps, visit.user.id, { ...asked, origin });
    } catch (err) {
      // A refused answer or name: the page again, with why. (Its challenge is spent: a fresh one.)
      if (!isIdpError(err) || (err.code !== 'MFA_FAILED' && err.code !== 'INVALID_VALUE')) throw err;
      const fresh = await beginPasskeyEnrolment(deps, visit.user.id, { origin, session: visit.signedIn });
      return this.passkeyPage(req, res, visit, fresh, err.message);
    }
    this.back(res, 'passkey-enrolled');
  }

  private passkeyPage(
    req: IncomingMessage,
    res: ServerResponse,
    { csrf }: Visit,
    enrol: { pending: string; options: unknown },
    retry?: string,
  ): void {
    const name = deviceName(req.headers['user-agent']);
    const ctx = { csrf, action: this.path, org: this.deps.org, assets: `${this.deps.mount}${ASSET_PATH}` };
    sendHtml(res, 200, passkeyEnrolPage(enrol, { ...ctx, ...(name && { name }), ...(retry && { retry }) }));
  }

  private enrolPage(
    res: ServerResponse,
    { csrf }: Visit,
    enrol: { secret: string; uri: string },
    retry?: string,
  ): void {
    const ctx = { csrf, action: this.path, org: this.deps.org, ...(retry && { retry }) };
    sendHtml(res, 200, totpEnrolPage(enrol, ctx));
  }

  /** The signed-in user, and the CSRF token of this session's forms (bound to the session, not only the user). */
  private async signedIn(req: IncomingMessage): Promise<Visit | undefined> {
    const session = this.deps.signer.unsign(SESSION_COOKIE, readCookie(req, SESSION_COOKIE));
    const [id, expires, signedInAt, amr = ''] = session?.split('~') ?? [];
    if (!session || !id || !expires || !signedInAt || Number(expires) < now()) return undefined;
    const user = await this.deps.store.users.byId(id);
    if (user?.status !== 'active') return undefined;
    return {
      user,
      signedIn: { userId: user.id, signedInAt: Number(signedInAt), amr: amr.split(' ').filter(Boolean) },
      session,
      csrf: this.deps.signer.mac('myaccount', session),
    };
  }

  private async app() {
    const app = await this.deps.store.apps.get(MY_ACCOUNT);
    if (!app)
      throw new IdpError('APP_NOT_FOUND', 'the built-in My Account app is missing', 'recreate the organisation');
    return app;
  }

  private back(res: ServerResponse, notice: string): void {
    this.redirect(res, `${this.path}?notice=${notice}`);
  }

  private redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { location, 'cache-control': 'no-store' });
    res.end();
  }

  private fail(res: ServerResponse, status: number, err: IdpError): void {
    this.deps.driver.fail(res, status, err);
  }
}

const NOTICES: Record<string, string> = {
  enrolled: 'Your authenticator app is enrolled: sign-ins that ask for TOTP will use it.',
  'factor-removed': 'The factor was removed.',
  'passkey-enrolled': 'Your passkey is ready: sign-ins that ask for a passkey can use it.',
  'passkey-renamed': 'The passkey was renamed.',
  'passkey-removed': 'The passkey was removed.',
  'enrolment-expired': 'That enrolment expired: start again.',
  'signed-in-again': 'You signed in again: you can now add or remove sign-in factors.',
};

function signInFirst(): IdpError {
  return new IdpError('USAGE', 'sign in to My Account first', 'open My Account to sign in');
}
