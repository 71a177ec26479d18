// idp's software authenticator, a TESTING AID for headless CI against the sandbox: a P-256 key held in an environment
// variable instead of a device, answering WebAuthn options as a browser and authenticator would (clientDataJSON,
// authenticatorData, attestation `none` in CBOR, ES256 signatures). The server checks its answers with the same
// verifier as a device's; only this authenticator side writes CBOR, by hand, for the few shapes it needs.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { IdpError } from '../core/errors.js';
import { SOFTWARE_AAGUID } from '../core/passkeys.js';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  SoftwareAuthenticator,
} from '../ports.js';

/** What the environment variable holds: enough to sign for one credential. */
export interface SoftwareKey {
  rpId: string;
  credentialId: string;
  /** The user id the credential was made for (its userHandle). */
  userHandle: string;
  /** PKCS#8 DER, base64url. */
  privateKey: string;
}

const KEY_PREFIX = 'idp-passkey-v1.';

export function encodeSoftwareKey(key: SoftwareKey): string {
  return KEY_PREFIX + Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeSoftwareKey(text: string): SoftwareKey {
  const bad = new IdpError(
    'INVALID_VALUE',
    `that is not a software passkey key (a key starts with ${KEY_PREFIX} and holds a P-256 private key)`,
    'use the key that enrolling a software passkey printed',
  );
  if (!text.startsWith(KEY_PREFIX)) throw bad;
  try {
    const key = JSON.parse(Buffer.from(text.slice(KEY_PREFIX.length), 'base64url').toString('utf8')) as SoftwareKey;
    // The private key is parsed here, not first while signing: a corrupt one is bad input before any flow starts.
    if ([key.rpId, key.credentialId, key.userHandle, key.privateKey].every((f) => typeof f === 'string')) {
      const details = privateKeyOf(key).asymmetricKeyDetails;
      if (details?.namedCurve === 'prime256v1') return key;
    }
  } catch {
    // falls through to the refusal
  }
  throw bad;
}

function privateKeyOf(key: SoftwareKey): KeyObject {
  return createPrivateKey({ key: Buffer.from(key.privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
}

// --- CBOR (RFC 8949), only the authenticator's shapes: small ints, byte and text strings, maps -------------------

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

// --- WebAuthn ---------------------------------------------------------------------------------------------------

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (bytes: Buffer | Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** The COSE_Key of a P-256 public key (kty EC2, alg ES256, crv P-256, x, y). */
function coseKey(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  return cbor(
    new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
}

function authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([
    sha256(rpId),
    Buffer.from([flags | (attested ? FLAG_AT : 0)]),
    count,
    attested ?? Buffer.alloc(0),
  ]);
}

function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

/** Registers a new credential for `options` (a browser's navigator.credentials.create, attestation `none`). */
export function softwareRegistration(
  options: PublicKeyCredentialCreationOptionsJSON,
  origin: string,
): { response: RegistrationResponseJSON; key: SoftwareKey } {
  // Encoded by the generator and read back: a KeyObject straight from the job can deadlock Node 20's JWK export when GC
  // finalises the job meanwhile (both lock the key's one mutex), as an e2e run hung doing.
  const { privateKey: der } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
    publicKeyEncoding: { format: 'der', type: 'spki' },
  });
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const credentialId = randomBytes(32);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credentialId.length);
  const aaguid = Buffer.from(SOFTWARE_AAGUID.replace(/-/g, ''), 'hex');
  const attested = Buffer.concat([aaguid, idLength, credentialId, coseKey(privateKey)]);
  const authData = authenticatorData(options.rp.id!, FLAG_UP | FLAG_UV, 0, attested);
  const attestationObject = cbor(
    new Map<Cbor, Cbor>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', authData],
    ]),
  );
  const id = b64url(credentialId);
  return {
    response: {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64url(clientData('webauthn.create', options.challenge, origin)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
    },
    key: {
      rpId: options.rp.id!,
      credentialId: id,
      userHandle: Buffer.from(options.user.id, 'base64url').toString('utf8'),
      privateKey: b64url(privateKey.export({ format: 'der', type: 'pkcs8' })),
    },
  };
}

/** The authenticator as the enrolment use case sees it: the key comes back encoded, ready to be printed once. */
export const softwareAuthenticator: SoftwareAuthenticator = {
  register(options, origin) {
    const { response, key } = softwareRegistration(options, origin);
    return { response, key: encodeSoftwareKey(key) };
  },
};

/**
 * Signs `options`' challenge (a browser's navigator.credentials.get). It claims user verification, as a device would
 * after a PIN or a fingerprint, and a counter of 0 (it keeps none, as many platform authenticators); a test may give
 * either otherwise.
 */
export function softwareAssertion(
  key: SoftwareKey,
  options: PublicKeyCredentialRequestOptionsJSON,
  origin: string,
  opts: { counter?: number; userVerified?: boolean } = {},
): AuthenticationResponseJSON {
  if (options.rpId !== undefined && options.rpId !== key.rpId)
    throw new IdpError(
      'MFA_FAILED',
      `this software passkey is for ${key.rpId}, and the page asks for ${options.rpId}`,
      'enrol a software passkey for this organisation',
    );
  const flags = opts.userVerified === false ? FLAG_UP : FLAG_UP | FLAG_UV;
  const authData = authenticatorData(key.rpId, flags, opts.counter ?? 0);
  const data = clientData('webauthn.get', options.challenge, origin);
  const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), privateKeyOf(key));
  return {
    id: key.credentialId,
    rawId: key.credentialId,
    type: 'public-key',
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: b64url(data),
      authenticatorData: b64url(authData),
      signature: b64url(signature),
      userHandle: b64url(Buffer.from(key.userHandle, 'utf8')),
    },
  };
}
