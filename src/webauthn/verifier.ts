// WebAuthn on @simplewebauthn/server: the options a browser is given and the checks of what it answers (signature,
// challenge, exact origin, RP ID, user presence/verification, attestation `none`). No CBOR or COSE is parsed here.
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { PasskeyVerifier, PasskeyVerdict } from '../ports.js';

type Lib = typeof import('@simplewebauthn/server');
let loaded: Promise<Lib> | null = null;

/** The library loads with the first passkey step: most sign-ins never need it. */
function lib(): Promise<Lib> {
  loaded ??= import('@simplewebauthn/server');
  return loaded;
}

const b64url = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url'),
  decode: (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(text, 'base64url')),
};

/** A posted value is untrusted: only an object with string fields where the library reads them goes further. */
function responseShape(response: unknown, kind: 'assertion' | 'attestation'): boolean {
  if (typeof response !== 'object' || response === null) return false;
  const r = response as Record<string, unknown>;
  const inner = r.response as Record<string, unknown> | undefined;
  const fields =
    kind === 'assertion'
      ? ['clientDataJSON', 'authenticatorData', 'signature']
      : ['clientDataJSON', 'attestationObject'];
  return (
    typeof r.id === 'string' &&
    typeof r.rawId === 'string' &&
    r.type === 'public-key' &&
    typeof inner === 'object' &&
    inner !== null &&
    fields.every((f) => typeof inner[f] === 'string')
  );
}

/** The library's refusals are Errors whose message says what did not match: that is the reason shown. */
async function verdict<T>(check: () => Promise<T | null>): Promise<PasskeyVerdict<T>> {
  try {
    const value = await check();
    return value === null ? { ok: false, reason: 'the authenticator response did not verify' } : { ok: true, value };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

const transports = (list: string[]): AuthenticatorTransportFuture[] => list as AuthenticatorTransportFuture[];

export const passkeyVerifier: PasskeyVerifier = {
  async authenticationOptions({ rpId, userVerification, allow, timeoutMs }) {
    return (await lib()).generateAuthenticationOptions({
      rpID: rpId,
      userVerification,
      timeout: timeoutMs,
      // None at all (not an empty list) asks for a discoverable credential.
      allowCredentials: allow.length
        ? allow.map((c) => ({ id: c.credentialId, transports: transports(c.transports) }))
        : undefined,
    });
  },

  async registrationOptions({ rpId, rpName, user, exclude, timeoutMs }) {
    return (await lib()).generateRegistrationOptions({
      rpID: rpId,
      rpName,
      userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
      userName: user.name,
      userDisplayName: user.displayName,
      timeout: timeoutMs,
      attestationType: 'none',
      excludeCredentials: exclude.map((c) => ({ id: c.credentialId, transports: transports(c.transports) })),
      // A passkey: discoverable, so it can also sign in passwordless at step 1.
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
  },

  async verifyAuthentication(response, { challenge, origin, rpId, requireUserVerification, key }) {
    if (!responseShape(response, 'assertion')) return { ok: false, reason: 'not a WebAuthn assertion' };
    const { verifyAuthenticationResponse } = await lib();
    return verdict(async () => {
      const result = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification,
        // Counter 0: the library then accepts any counter, and the caller judges it against the stored one, so a
        // counter that went backwards reads as a possible clone rather than as a bad signature.
        credential: {
          id: key.credentialId,
          publicKey: b64url.decode(key.publicKey),
          counter: 0,
          transports: transports(key.transports),
        },
      });
      if (!result.verified) return null;
      return { counter: result.authenticationInfo.newCounter, userVerified: result.authenticationInfo.userVerified };
    });
  },

  async verifyRegistration(response, { challenge, origin, rpId, requireUserVerification }) {
    if (!responseShape(response, 'attestation')) return { ok: false, reason: 'not a WebAuthn registration' };
    const { verifyRegistrationResponse } = await lib();
    return verdict(async () => {
      const result = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification,
      });
      if (!result.verified) return null;
      // Attestation is asked for as `none` and never trusted: whatever statement a client still sends was verified
      // above as a signature, and no authenticator model is required.
      const { credential, aaguid, userVerified } = result.registrationInfo;
      return {
        credentialId: credential.id,
        publicKey: b64url.encode(credential.publicKey),
        counter: credential.counter,
        transports: credential.transports ?? (response as RegistrationResponseJSON).response.transports ?? [],
        aaguid,
        userVerified,
      };
    });
  },
};
