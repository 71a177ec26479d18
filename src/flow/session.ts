// The `session` stage: the ID token the org signs for the app, with the attributes the app asked for under the
// claims idp sets itself (core/protected-claims.ts), which nothing stored can replace.
import { type MappedProfile, profileClaims } from '../core/claims.js';
import { idTokenClaims } from '../core/protected-claims.js';
import type { App, User } from '../core/types.js';
import type { Store, TokenSigner } from '../ports.js';
import type { Identity } from './types.js';

export const ACR_MFA = 'urn:idp:acr:mfa';
export const ACR_SINGLE_FACTOR = 'urn:idp:acr:sfa';

/** The issuer `idp serve` publishes (Asgardeo's layout), so tokens from `idp login` and from the server verify alike. */
export async function orgIssuer(store: Store): Promise<string> {
  return `${await store.org.baseUrl()}/t/${await store.org.name()}/oauth2/token`;
}

function attributeValues(user: User | null, profile: MappedProfile | null): Record<string, unknown> {
  const source = user ?? profile;
  // Custom attributes first: one stored under a profile field's name (by an import, say) must not replace it.
  return source ? { ...source.attributes, ...profileClaims(source) } : {};
}

/** The attributes `app` asks for, from a local user's record or a pass-through user's upstream profile. */
export function appAttributes(app: App, user: User | null, profile: MappedProfile | null): Record<string, unknown> {
  const values = attributeValues(user, profile);
  const requested: Record<string, unknown> = {};
  for (const attribute of app.attributes) {
    const value = values[attribute];
    if (value !== null && value !== undefined) requested[attribute] = value;
  }
  return requested;
}

/**
 * The ID token for the app, signed with the org's key of the app's algorithm; or, when the driver's own OpenID
 * provider issues the app's tokens (`idp serve`), only the claims it would carry.
 */
export async function issueIdToken(
  { store, signer }: { store: Store; signer: TokenSigner },
  app: App,
  identity: Identity,
  session: { amr: string[]; mfa: boolean; authTime: number; idp: string; sign: boolean },
): Promise<{ idToken: string | null; claims: Record<string, unknown> }> {
  const user = identity.kind === 'local' ? ((await store.users.byId(identity.userId)) ?? null) : null;
  const profile = identity.kind === 'pass-through' ? identity.profile : null;
  const sub =
    identity.kind === 'local'
      ? identity.userId
      : signer.passThroughSubject(
          identity.connection,
          identity.subject,
          (await store.org.setting('subject_salt')) ?? '',
        );
  const requested = appAttributes(app, user, profile);
  const claims = idTokenClaims(
    {
      iss: await orgIssuer(store),
      aud: app.clientId,
      sub,
      amr: session.amr,
      acr: session.mfa ? ACR_MFA : ACR_SINGLE_FACTOR,
      auth_time: session.authTime,
      idp: session.idp,
      ...(identity.kind === 'pass-through' ? { pass_through: true } : {}),
    },
    requested,
  );
  if (!session.sign) return { idToken: null, claims };
  const key = await store.org.signingKey(app.idTokenAlg);
  if (!key) throw new Error(`the organisation has no ${app.idTokenAlg} signing key`);
  return signer.signIdToken(key, claims, store.clock());
}
