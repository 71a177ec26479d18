// The policy file (`export`, `apply`, a scenario's `config:`): apps and connections by name, every key optional, so a
// partial file names only what it changes. The types of the plan (core/policy.ts) come from here.
import * as v from 'valibot';
import { validName, NAME_RULE } from '../names.js';
import {
  APP_TYPES,
  CONNECTION_TYPES,
  ID_TOKEN_ALGS,
  JIT_SCHEMES,
  LINKING_POLICIES,
  SYNC_POLICIES,
  TOKEN_AUTH_METHODS,
} from '../types.js';
import { validateBaseUrl, validateIssuer, validateRedirectUri } from '../urls.js';
import { bool, fields, list, mapOf, oneOf, rule, say, shown, text } from './base.js';

const name = v.pipe(
  v.string(),
  v.check(validName, (issue) => say(`'${shown(issue.input)}' is not a valid name (${NAME_RULE})`)),
);

const jit = fields({
  enabled: v.optional(bool),
  scheme: v.optional(oneOf(JIT_SCHEMES)),
  sync: v.optional(oneOf(SYNC_POLICIES)),
  // YAML 1.1 reads an unquoted `off` as false.
  linking: v.optional(
    v.pipe(
      v.unknown(),
      v.transform((value) => (value === false ? 'off' : value)),
      oneOf(LINKING_POLICIES),
    ),
  ),
});

const CONNECTION = {
  type: v.optional(oneOf(CONNECTION_TYPES)),
  sandbox: v.optional(bool),
  issuer: v.optional(v.nullable(v.pipe(text(), rule(validateIssuer)))),
  /** github only: a GitHub Enterprise Server address. */
  base_url: v.optional(v.pipe(text(), rule(validateBaseUrl))),
  client_id: v.optional(text()),
  client_secret_env: v.optional(
    v.pipe(text(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, say('must be an environment variable name'))),
  ),
  /** 'stored': the secret lives encrypted in the org and is never exported. */
  client_secret: v.optional(
    v.literal(
      'stored',
      say(
        "secrets never go in the file: use client_secret_env: VAR (or 'stored' for a secret kept in the org)",
        'e.g. client_secret_env: GITHUB_CLIENT_SECRET',
      ),
    ),
  ),
  /** Absent (or `auto`): chosen from the provider's discovery document. */
  token_auth: v.optional(oneOf(['auto', ...TOKEN_AUTH_METHODS] as const)),
  scopes: v.optional(list(text())),
  jit: v.optional(jit),
  attribute_map: v.optional(mapOf(v.string(), text())),
};

const connectionFields = fields(CONNECTION);

const connection = v.pipe(
  connectionFields,
  v.check((c) => !(c.client_secret && c.client_secret_env), say('give client_secret_env or client_secret, not both')),
);

const appFields = fields({
  client_id: v.optional(text()),
  /** Fixed at creation: a change is refused as `app set` refuses it (app/policy.ts). */
  type: v.optional(oneOf(APP_TYPES)),
  redirect_uris: v.optional(list(v.pipe(text(), rule(validateRedirectUri)))),
  /** Checked by the commands' rule in app/policy.ts, so a bad origin is refused alike both ways. */
  origins: v.optional(list(text())),
  id_token_alg: v.optional(oneOf(ID_TOKEN_ALGS)),
  steps: v.optional(
    list(list(text()), 'must be a list of steps, each a list of options', 'e.g. steps: [[password, github], [totp]]'),
  ),
  attributes: v.optional(list(text())),
  script: v.optional(v.nullable(text())),
});

/** An empty entry (`github:` with nothing under it) names the entity and changes nothing. */
const orEmpty = <S extends v.GenericSchema>(schema: S) =>
  v.pipe(
    v.unknown(),
    v.transform((value) => value ?? {}),
    schema,
  );

export const policySchema = v.pipe(
  v.unknown(),
  v.transform((value) => value ?? {}),
  fields({
    /** The name is checked by the commands' rule in app/policy.ts. */
    org: v.optional(orEmpty(fields({ name: v.optional(text()) }))),
    apps: v.optional(mapOf(name, orEmpty(appFields)), {}),
    connections: v.optional(mapOf(name, orEmpty(connection)), {}),
  }),
);

export type PolicyDoc = v.InferOutput<typeof policySchema>;
export type PolicyApp = v.InferOutput<typeof appFields>;
export type PolicyOrg = NonNullable<PolicyDoc['org']>;
export type PolicyConnection = v.InferOutput<typeof connectionFields>;

/** The keys of a connection in the order an export writes them. */
export const CONNECTION_KEYS = Object.keys(CONNECTION) as (keyof PolicyConnection)[];
