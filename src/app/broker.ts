// Use cases of the broker (`idp serve`): what a finished flow hands to the OpenID provider as a session, and the claims
// an app then sees for it. A local user's claims are read fresh from the user store; a pass-through user's upstream
// attributes live only with the grant, never as a user row.
import { isProtectedClaim } from '../core/protected-claims.js';
import { appAttributes } from '../flow/session.js';
import type { FlowResult } from '../flow/types.js';
import type { Store } from '../ports.js';

/** What idp keeps with a grant: where the person signed in, and a pass-through person's attributes. */
export interface KeptWithGrant {
  idp: string;
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
    kept: { idp: String(result.claims.idp), passThrough: result.passThrough, attributes },
  };
}

/**
 * The claims the app with `clientId` may see for `accountId`: the attributes it asks for (with preferred_username
 * beside username, as OIDC SDKs read it), where the person signed in, and whether they pass through. Undefined when
 * tokens must stop working: the app or the local user is gone, or the user is not active.
 */
export function sessionClaims(
  store: Store,
  clientId: string,
  accountId: string,
  kept: KeptWithGrant,
): Record<string, unknown> | undefined {
  const app = store.apps.byClientId(clientId);
  if (!app) return undefined;
  let attributes: Record<string, unknown>;
  if (kept.passThrough) {
    attributes = Object.fromEntries(Object.entries(kept.attributes).filter(([name]) => app.attributes.includes(name)));
  } else {
    const user = store.users.byId(accountId);
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
export function sessionStands(store: Store, accountId: string): boolean {
  const user = store.users.byId(accountId);
  return user === undefined || user.status === 'active';
}
