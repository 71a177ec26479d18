// Use cases of the broker (`idp serve`): what a finished flow hands to the OpenID provider as a session, and the claims
// an app then sees for it. A local user's claims are read fresh from the user store; a pass-through user's upstream
// attributes live only with the grant, never as a user row.
import { SERVER_COOKIE_KEY_SETTING } from '../core/sealed-cells.js';
import { isProtectedClaim } from '../core/protected-claims.js';
import {
  effectiveSteps,
  FEDERATED_AMR,
  isLocalOption,
  LOCAL_OPTION_AMR,
  PASSKEY_AMRS,
  USER_VERIFIED_AMR,
} from '../core/signin.js';
import type { App } from '../core/types.js';
import { appAttributes } from '../flow/session.js';
import type { FlowResult } from '../flow/types.js';
import { randomBytes } from 'node:crypto';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { orgUrls } from './org.js';

/** What idp keeps with a grant: where the person signed in, and a pass-through person's attributes. */
export interface KeptWithGrant {
  idp: string;
  /** How the person authenticated (RFC 8176 values): what another app's steps are checked against. */
  amr: string[];
  passThrough: boolean;
  /** The app's attributes from the upstream profile; empty for local users, whose record is read instead. */
  attributes: Record<string, unknown>;
}

export interface BrokeredSession {
  accountId: string;
  amr: string[];
  acr: string;
  kept: KeptWithGrant;
}

/** The session a done flow starts at the provider: its subject, how it authenticated, and what the grant keeps. */
export function brokeredSession(result: FlowResult): BrokeredSession {
  const attributes: Record<string, unknown> = {};
  if (result.passThrough) {
    for (const [name, value] of Object.entries(result.claims)) if (!isProtectedClaim(name)) attributes[name] = value;
  }
  return {
    accountId: String(result.claims.sub),
    amr: result.amr,
    acr: result.acr,
    kept: { idp: String(result.claims.idp), amr: result.amr, passThrough: result.passThrough, attributes },
  };
}

/**
 * The claims the app with `clientId` may see for `accountId`: the attributes it asks for (with preferred_username
 * beside username, as OIDC SDKs read it), where the person signed in, and whether they pass through. Undefined when
 * tokens must stop working: the app or the local user is gone, or the user is not active.
 */
export async function sessionClaims(
  store: Store,
  clientId: string,
  accountId: string,
  kept: KeptWithGrant,
): Promise<Record<string, unknown> | undefined> {
  const app = await store.apps.byClientId(clientId);
  if (!app) return undefined;
  let attributes: Record<string, unknown>;
  if (kept.passThrough) {
    attributes = Object.fromEntries(Object.entries(kept.attributes).filter(([name]) => app.attributes.includes(name)));
  } else {
    const user = await store.users.byId(accountId);
    if (user?.status !== 'active') return undefined;
    attributes = appAttributes(app, user, null);
  }
  return {
    ...attributes,
    ...(typeof attributes.username === 'string' && { preferred_username: attributes.username }),
    sub: accountId,
    idp: kept.idp,
    ...(kept.passThrough && { pass_through: true }),
  };
}

/**
 * Whether a provider session of `accountId` may go on (to sign in to another app of the org, say): not when it names a
 * local user who is now locked or disabled. A deleted user's tokens fail at sessionClaims.
 */
export async function sessionStands(store: Store, accountId: string): Promise<boolean> {
  const user = await store.users.byId(accountId);
  return user === undefined || user.status === 'active';
}

/**
 * Whether a session started for one app signs the person in to `app` without a new flow (single sign-on): only when
 * it already passed every step `app` asks for, through options `app` offers. An app with a script decides its steps
 * per sign-in, so it always runs its own flow; so does an app that offers a connection after step 1.
 */
export async function sessionSatisfies(store: Store, app: App, kept: KeptWithGrant): Promise<boolean> {
  if (app.script !== null) return false;
  const [first = [], ...later] = effectiveSteps(app, await store.connections.names());
  const firstPassed =
    kept.idp === 'LOCAL'
      ? first.some((option) => passed(option, kept.amr, true))
      : first.includes(kept.idp) && kept.amr.includes(FEDERATED_AMR);
  return firstPassed && later.every((step) => step.some((option) => passed(option, kept.amr, false)));
}

/**
 * Whether the session's amr passed a local option. A passkey is either kind of key (`hwk`, or `swk` in a sandbox);
 * as a passwordless first step it must also have verified the person (`user`), as such a step itself requires.
 */
function passed(option: string, amr: string[], passwordless: boolean): boolean {
  if (!isLocalOption(option)) return false;
  if (option === 'passkey')
    return PASSKEY_AMRS.some((value) => amr.includes(value)) && (!passwordless || amr.includes(USER_VERIFIED_AMR));
  return amr.includes(LOCAL_OPTION_AMR[option as keyof typeof LOCAL_OPTION_AMR]);
}

/**
 * `idp serve` listens at `url` (`http://localhost:PORT`): the org's base URL becomes it, recorded with its actor when
 * it changes, so the issuer of `idp login` tokens and the apps' SDK configurations name the running server.
 */
export async function serveAt({ store, actor }: Pick<Admin, 'store' | 'actor'>, url: string) {
  const before = await store.org.baseUrl();
  if (before !== url)
    await store.tx(async (tx) => {
      await tx.org.setBaseUrl(url);
      await tx.events.recordConfig({
        actor,
        action: 'org.serve',
        target: 'org',
        detail: `org base URL ${before} -> ${url} (idp serve)`,
        before: { base_url: before },
        after: { base_url: url },
      });
    });
  return await orgUrls(store);
}

/**
 * The key the server signs its cookies with: made once per org and sealed, so sessions outlive a restart. Made in a
 * unit of work: instances of one org starting at once must agree on one key, or each refuses the other's cookies.
 */
export async function serverCookieKey(store: Store): Promise<string> {
  const sealed = await store.tx(async (tx) => {
    const held = await tx.org.setting(SERVER_COOKIE_KEY_SETTING);
    if (held) return held;
    const made = tx.seal(randomBytes(32).toString('base64url'));
    await tx.org.setSetting(SERVER_COOKIE_KEY_SETTING, made);
    return made;
  });
  return store.unseal(sealed);
}
