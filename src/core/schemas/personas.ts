// A sandbox personas file (fixtures/sandbox/personas.json, or a user's file of the same shape): the accounts the
// bundled GitHub-like and Google-like providers sign in as. The persona types come from here.
import * as v from 'valibot';
import { bool, fields, list, say, text } from './base.js';

export const PERSONAS_HINT =
  'a personas file is JSON like fixtures/sandbox/personas.json: {"github": [{login, id, name, publicEmail, emails, avatarUrl}], "google": [{username, sub, email, emailVerified, name, givenName, familyName, picture}]}';

const str = text(PERSONAS_HINT);
const object = <E extends v.ObjectEntries>(entries: E) => fields(entries, 'must be an object');

const githubEmail = object({
  email: str,
  primary: bool,
  verified: bool,
  visibility: v.optional(
    v.nullable(v.picklist(['public', 'private'], say("must be 'public', 'private' or null"))),
    null,
  ),
});

const githubPersona = v.pipe(
  object({
    login: str,
    id: v.pipe(
      v.number(say('must be a positive integer')),
      v.check((id) => Number.isSafeInteger(id) && id > 0, say('must be a positive integer')),
    ),
    name: str,
    publicEmail: v.optional(v.nullable(str), null),
    emails: v.pipe(
      list(githubEmail),
      v.check((emails) => emails.filter((e) => e.primary).length === 1, say('must have exactly one primary email')),
    ),
    avatarUrl: str,
    /** Signing in as this persona meets a suspended OAuth app: the authorize step redirects with application_suspended. */
    appSuspended: v.optional(bool, false),
    /** This persona's API calls meet an exhausted rate limit: 403 with x-ratelimit-remaining 0. */
    rateLimited: v.optional(bool, false),
  }),
  v.forward(
    v.check(
      (p) => p.publicEmail === null || p.emails.some((e) => e.email === p.publicEmail && e.verified),
      say('must be null or one of the verified emails (GitHub only shows verified emails)'),
    ),
    ['publicEmail'],
  ),
);

const googlePersona = object({
  username: str,
  sub: str,
  email: str,
  emailVerified: bool,
  name: str,
  givenName: str,
  familyName: str,
  picture: str,
});

/** Either list may be left out of a user's file. */
export const personasSchema = object({
  github: v.optional(list(githubPersona), []),
  google: v.optional(list(googlePersona), []),
});

export type Personas = v.InferOutput<typeof personasSchema>;
export type GithubPersona = v.InferOutput<typeof githubPersona>;
export type GooglePersona = v.InferOutput<typeof googlePersona>;
