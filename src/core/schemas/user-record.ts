// One record of a `users import` file (a JSON object, or a CSV row by its header), with the documented size limits
// of every field (README, "users import"): everything `users export` writes comes back (id, source, times, linked
// connections, MFA enrolments with their sealed secrets when exported with them, passkeys). Fields idp does not know
// become attributes; nothing is dropped or reinterpreted silently: a value idp would have to guess at is refused.
import * as v from 'valibot';
import { NAME_RULE, validName } from '../names.js';
import { isPasswordHash } from '../password.js';
import { isPasskeyName, PASSKEY_NAME_RULE } from '../passkeys.js';
import { USER_STATUSES } from '../types.js';
import { validEmail, validUsername } from '../user-fields.js';
import { isMapping, say, shown } from './base.js';

/** The limits the README documents, in characters. */
export const RECORD_LIMITS = {
  email: 254,
  text: 256,
  picture: 2048,
  passwordHash: 512,
  sealedSecret: 512,
  /** A credential id is at most 1023 bytes (WebAuthn), 1364 characters of base64url. */
  credentialId: 1364,
  publicKey: 1024,
  attributes: 50,
  attributeKey: 64,
  attributeValue: 256,
} as const;

/** An optional text field of at most `max` characters; empty is absent (a CSV cell cannot be null). */
function optionalText(key: string, max: number) {
  return v.pipe(
    v.optional(
      v.nullable(
        v.pipe(v.string(say(`${key} must be text`)), v.maxLength(max, say(`${key} is longer than ${max} characters`))),
      ),
    ),
    v.transform((value) => value || null),
  );
}

const USERNAME_RULE = 'letters, digits, . _ @ + -, up to 64';

const username = v.pipe(
  v.unknown(),
  v.check(
    (value) => typeof value === 'string' && validUsername(value),
    (issue) => say(`invalid or missing username '${shown(issue.input)}' (${USERNAME_RULE})`),
  ),
  v.transform((value) => value as string),
);

const email = v.pipe(
  optionalText('email', RECORD_LIMITS.email),
  v.check(
    (value) => value === null || validEmail(value),
    (issue) => say(`invalid email '${shown(issue.input)}'`),
  ),
);

const emailVerified = v.pipe(
  v.optional(
    v.nullable(v.boolean((issue) => say(`email_verified must be true or false, not '${shown(issue.input)}'`))),
  ),
  v.transform((value) => value === true),
);

const status = v.optional(
  v.pipe(
    v.unknown(),
    v.transform((value) => (value === null || value === '' ? 'active' : value)),
    v.picklist(USER_STATUSES, say(`status must be one of ${USER_STATUSES.join(', ')}`)),
  ),
  'active',
);

const passwordHash = v.pipe(
  optionalText('password_hash', RECORD_LIMITS.passwordHash),
  v.check(
    (value) => value === null || isPasswordHash(value),
    say('password_hash must be an idp scrypt hash (plain passwords are not imported)'),
  ),
);

/** An id as idp assigns them (a UUID): the subject of the user's ID tokens, so a round trip keeps it. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const id = v.pipe(
  optionalText('id', 36),
  v.check(
    (value) => value === null || ID.test(value),
    (issue) => say(`id '${shown(issue.input)}' is not an idp user id (a UUID)`, 'leave the id out and idp assigns one'),
  ),
);

const source = v.pipe(
  optionalText('source', 63),
  v.check(
    (value) => value === null || value === 'local' || validName(value),
    (issue) => say(`source '${shown(issue.input)}' is neither local nor a connection name (${NAME_RULE})`),
  ),
  v.transform((value) => value ?? 'local'),
);

/** A time as idp writes them (ISO 8601, UTC); any date-time Date reads is taken and stored in that form. */
function time(key: string) {
  return v.pipe(
    optionalText(key, 40),
    v.check(
      (value) => value === null || (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))),
      (issue) => say(`${key} '${shown(issue.input)}' is not an ISO 8601 date-time`),
    ),
    v.transform((value) => (value === null ? null : new Date(value).toISOString())),
  );
}

const association = v.pipe(
  v.custom<Record<string, unknown>>(
    isMapping,
    say('each of associations must be an object: {connection, subject, linked_at}'),
  ),
  v.strictObject(
    {
      connection: v.pipe(
        v.unknown(),
        v.check(
          (value) => typeof value === 'string' && validName(value),
          (issue) => say(`association connection '${shown(issue.input)}' is not a connection name (${NAME_RULE})`),
        ),
        v.transform((value) => value as string),
      ),
      subject: v.pipe(
        v.unknown(),
        v.check(
          (value) => typeof value === 'string' && value !== '' && value.length <= RECORD_LIMITS.text,
          say(`an association's subject must be text of 1 to ${RECORD_LIMITS.text} characters`),
        ),
        v.transform((value) => value as string),
      ),
      linked_at: time('linked_at'),
      last_login_at: time('last_login_at'),
    },
    say('an association needs connection and subject, and may have linked_at and last_login_at; nothing else'),
  ),
  v.transform((a) => ({
    connection: a.connection,
    subject: a.subject,
    linkedAt: a.linked_at ?? null,
    lastLoginAt: a.last_login_at ?? null,
  })),
);

const factor = v.pipe(
  v.custom<Record<string, unknown>>(isMapping, say('each of mfa must be an object: {type, created_at, confirmed_at}')),
  v.strictObject(
    {
      type: v.picklist(['totp'], say('an MFA factor type must be totp')),
      created_at: time('created_at'),
      confirmed_at: time('confirmed_at'),
      secret_sealed: v.pipe(
        optionalText('secret_sealed', RECORD_LIMITS.sealedSecret),
        v.check(
          (value) => value === null || value.startsWith('v1.'),
          say('secret_sealed must be a sealed value as an export with secrets writes it (never a plain TOTP secret)'),
        ),
      ),
      last_used_step: v.optional(
        v.nullable(
          v.pipe(
            v.number(say('last_used_step must be a whole number')),
            v.integer(say('last_used_step must be a whole number')),
          ),
        ),
      ),
    },
    say(
      'an MFA factor needs type, and may have created_at, confirmed_at, secret_sealed and last_used_step; nothing else',
    ),
  ),
  v.transform((f) => ({
    type: f.type,
    createdAt: f.created_at ?? null,
    confirmedAt: f.confirmed_at ?? null,
    secretSealed: f.secret_sealed ?? null,
    lastUsedStep: f.last_used_step ?? null,
  })),
);

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function base64url(key: string, max: number) {
  return v.pipe(
    v.unknown(),
    v.check(
      (value) => typeof value === 'string' && value.length <= max && BASE64URL.test(value),
      say(`a passkey's ${key} must be base64url text of 1 to ${max} characters`),
    ),
    v.transform((value) => value as string),
  );
}

/** A passkey as `users export` writes it: its public half, counter and names; nothing in it is secret. */
const passkey = v.pipe(
  v.custom<Record<string, unknown>>(
    isMapping,
    say('each of passkeys must be an object: {credential_id, public_key, ...}'),
  ),
  v.strictObject(
    {
      id: v.pipe(
        optionalText('passkey id', 36),
        v.check((value) => value === null || ID.test(value), say('a passkey id must be a UUID (or left out)')),
      ),
      credential_id: base64url('credential_id', RECORD_LIMITS.credentialId),
      public_key: base64url('public_key', RECORD_LIMITS.publicKey),
      counter: v.optional(
        v.pipe(
          v.number(say('a passkey counter must be a whole number')),
          v.integer(say('a passkey counter must be a whole number')),
          v.minValue(0, say('a passkey counter cannot be negative')),
          v.maxValue(0xffffffff, say('a passkey counter fits in 32 bits')),
        ),
        0,
      ),
      transports: v.optional(
        v.pipe(
          v.array(v.pipe(v.string(), v.maxLength(32)), say('transports must be a list of names, e.g. ["internal"]')),
          v.maxLength(10, say('a passkey has at most 10 transports')),
        ),
        [],
      ),
      aaguid: v.pipe(
        v.string(say('a passkey aaguid must be a UUID')),
        v.regex(ID, say('a passkey aaguid must be a UUID')),
      ),
      name: v.pipe(v.string(say('a passkey name must be text')), v.check(isPasskeyName, say(PASSKEY_NAME_RULE))),
      software: v.optional(v.boolean(say('a passkey software flag must be true or false')), false),
      created_at: time('created_at'),
      last_used_at: time('last_used_at'),
    },
    say(
      'a passkey needs credential_id, public_key, aaguid and name, and may have id, counter, transports, software, created_at and last_used_at; nothing else',
    ),
  ),
  v.transform((p) => ({
    id: p.id ?? null,
    credentialId: p.credential_id,
    publicKey: p.public_key,
    counter: p.counter,
    transports: p.transports,
    aaguid: p.aaguid,
    name: p.name,
    software: p.software,
    createdAt: p.created_at ?? null,
    lastUsedAt: p.last_used_at ?? null,
  })),
);

/** Whether the exporting org had a password for the user: it follows password_hash, so it only tells what was left behind. */
const hasPassword = v.pipe(
  v.optional(
    v.nullable(
      v.union([v.boolean(), v.picklist(['true', 'false', ''])], (issue) =>
        say(`has_password must be true or false, not '${shown(issue.input)}'`),
      ),
    ),
  ),
  v.transform((value) => value === true || value === 'true'),
);

const FIELDS = {
  id,
  has_password: hasPassword,
  source,
  created_at: time('created_at'),
  updated_at: time('updated_at'),
  last_login_at: time('last_login_at'),
  associations: v.optional(
    v.array(association, say('associations must be a list of {connection, subject, linked_at}')),
    [],
  ),
  mfa: v.optional(v.array(factor, say('mfa must be a list of {type, created_at, confirmed_at}')), []),
  passkeys: v.optional(
    v.array(passkey, say('passkeys must be a list of {credential_id, public_key, aaguid, name}')),
    [],
  ),
  username,
  email,
  email_verified: emailVerified,
  name: optionalText('name', RECORD_LIMITS.text),
  given_name: optionalText('given_name', RECORD_LIMITS.text),
  family_name: optionalText('family_name', RECORD_LIMITS.text),
  picture: optionalText('picture', RECORD_LIMITS.picture),
  status,
  password_hash: passwordHash,
};

const KNOWN = new Set([...Object.keys(FIELDS), 'attributes']);

/** Attribute values are text; a number or a boolean is written as text, anything else is refused. */
function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The `attributes` object, then every field idp does not know (an empty one is skipped): each within the limits. */
function attributesOf(raw: Record<string, unknown>): Record<string, string> | string {
  const nested = raw['attributes'];
  if (nested !== undefined && nested !== null && !isMapping(nested)) return 'attributes must be an object';
  const out: Record<string, string> = {};
  const add = (key: string, value: unknown): string | undefined => {
    if (key === '__proto__') return "'__proto__' cannot be an attribute name";
    if (key.length > RECORD_LIMITS.attributeKey)
      return `attribute name '${shown(key)}' is longer than ${RECORD_LIMITS.attributeKey} characters`;
    const text = attributeText(value);
    if (text === undefined) return `attribute ${shown(key)} must be text, a number or true/false`;
    if (text.length > RECORD_LIMITS.attributeValue)
      return `attribute ${shown(key)} is longer than ${RECORD_LIMITS.attributeValue} characters`;
    out[key] = text;
    return undefined;
  };
  // Loops rather than entries().filter(): this runs once per record of files of a hundred thousand.
  for (const key in nested ?? {}) {
    const refusal = add(key, (nested as Record<string, unknown>)[key]);
    if (refusal) return refusal;
  }
  for (const key in raw) {
    const value = raw[key];
    if (KNOWN.has(key) || value === undefined || value === null || value === '') continue;
    const refusal = add(key, value);
    if (refusal) return refusal;
  }
  return Object.keys(out).length > RECORD_LIMITS.attributes ? `more than ${RECORD_LIMITS.attributes} attributes` : out;
}

export const userRecordSchema = v.pipe(
  v.custom<Record<string, unknown>>(isMapping, say('each record must be an object')),
  v.check((raw) => !Object.hasOwn(raw, '__proto__'), say("'__proto__' cannot be a field name")),
  v.check(
    (raw) => !Object.hasOwn(raw, 'password'),
    say(
      'a password field is never imported: plain passwords are not stored',
      'give password_hash instead: an idp scrypt hash, as an export with password hashes writes it',
    ),
  ),
  v.looseObject(FIELDS, say(`invalid or missing username '' (${USERNAME_RULE})`)),
  v.rawTransform(({ dataset: { value: f }, addIssue, NEVER }) => {
    const attributes = attributesOf(f);
    if (typeof attributes === 'string') {
      addIssue({ message: say(attributes) });
      return NEVER;
    }
    return {
      id: f.id ?? null,
      source: f.source ?? 'local',
      createdAt: f.created_at ?? null,
      updatedAt: f.updated_at ?? null,
      lastLoginAt: f.last_login_at ?? null,
      associations: f.associations,
      mfa: f.mfa,
      passkeys: f.passkeys,
      username: f.username,
      // A key left out of the record never ran through its schema: it is absent, as an empty value is.
      email: f.email ?? null,
      emailVerified: f.email_verified ?? false,
      name: f.name ?? null,
      givenName: f.given_name ?? null,
      familyName: f.family_name ?? null,
      picture: f.picture ?? null,
      status: f.status,
      passwordHash: f.password_hash ?? null,
      /** The export had a password for the user but not its hash (exported without hashes): none is set here. */
      passwordLeftBehind: f.has_password === true && !f.password_hash,
      attributes,
    };
  }),
);

export type UserRecordFields = v.InferOutput<typeof userRecordSchema>;
