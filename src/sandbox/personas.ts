// The sandbox accounts (personas) the bundled GitHub-like and Google-like providers sign in as:
// the bundled fixtures/sandbox/personas.json, optionally merged with a user file of the same shape.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IdpError } from '../core/errors.js';

export interface GithubPersona {
  login: string;
  id: number;
  name: string;
  publicEmail: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: 'public' | 'private' | null }[];
  avatarUrl: string;
  /** Signing in as this persona meets a suspended OAuth app: the authorize step redirects with application_suspended. */
  appSuspended?: boolean;
  /** This persona's API calls meet an exhausted rate limit: 403 with x-ratelimit-remaining 0. */
  rateLimited?: boolean;
}

export interface GooglePersona {
  username: string;
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
  givenName: string;
  familyName: string;
  picture: string;
}

export interface Personas {
  github: GithubPersona[];
  google: GooglePersona[];
}

// src/sandbox (run through tsx) and dist/src/sandbox (compiled) sit at different depths below the package root.
const BUNDLED_CANDIDATES = ['../../fixtures/sandbox/personas.json', '../../../fixtures/sandbox/personas.json'];

export function bundledPersonasFile(): string {
  for (const relative of BUNDLED_CANDIDATES) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new IdpError('INTERNAL', 'the bundled sandbox personas (fixtures/sandbox/personas.json) are missing', 'reinstall idp');
}

/**
 * The bundled personas, plus those of `extraFile` when given. A user persona with the login (GitHub) or
 * username (Google) of a bundled one replaces it; either list may be left out of the user file.
 */
export function loadPersonas(extraFile?: string): Personas {
  const bundled = readPersonasFile(bundledPersonasFile(), true);
  if (!extraFile) return bundled;
  const extra = readPersonasFile(extraFile, false);
  const merged: Personas = {
    github: mergeBy(bundled.github, extra.github, (p) => p.login),
    google: mergeBy(bundled.google, extra.google, (p) => p.username),
  };
  assertUnique(extraFile, merged.github.map((p) => String(p.id)), 'github id');
  assertUnique(extraFile, merged.google.map((p) => p.sub), 'google sub');
  return merged;
}

function mergeBy<T>(base: T[], extra: T[], key: (item: T) => string): T[] {
  const replaced = new Set(extra.map(key));
  return [...base.filter((item) => !replaced.has(key(item))), ...extra];
}

function readPersonasFile(file: string, listsRequired: boolean): Personas {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new IdpError('FILE_INVALID', `cannot read personas file ${file}: ${(err as Error).message}`, PERSONAS_HINT, { cause: err });
  }
  const v = new Validator(file);
  const root = v.object(parsed, 'the file');
  const personas: Personas = {
    github: v.list(root, 'github', 'github', listsRequired, (item, where) => githubPersona(v, item, where)),
    google: v.list(root, 'google', 'google', listsRequired, (item, where) => googlePersona(v, item, where)),
  };
  assertUnique(file, personas.github.map((p) => p.login), 'github login');
  assertUnique(file, personas.google.map((p) => p.username), 'google username');
  return personas;
}

function githubPersona(v: Validator, item: unknown, where: string): GithubPersona {
  const o = v.object(item, where);
  const emails = v.list(o, 'emails', `${where}.emails`, true, (e, at) => {
    const email = v.object(e, at);
    const visibility = email['visibility'] ?? null;
    if (visibility !== null && visibility !== 'public' && visibility !== 'private') {
      v.fail(`${at}.visibility`, "must be 'public', 'private' or null");
    }
    return {
      email: v.string(email, 'email', at),
      primary: v.boolean(email, 'primary', at),
      verified: v.boolean(email, 'verified', at),
      visibility: visibility as 'public' | 'private' | null,
    };
  });
  if (emails.filter((e) => e.primary).length !== 1) v.fail(`${where}.emails`, 'must have exactly one primary email');
  const publicEmail = o['publicEmail'] ?? null;
  if (publicEmail !== null && !emails.some((e) => e.email === publicEmail && e.verified)) {
    v.fail(`${where}.publicEmail`, 'must be null or one of the verified emails (GitHub only shows verified emails)');
  }
  const id = o['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) v.fail(`${where}.id`, 'must be a positive integer');
  return {
    login: v.string(o, 'login', where),
    id,
    name: v.string(o, 'name', where),
    publicEmail: publicEmail as string | null,
    emails,
    avatarUrl: v.string(o, 'avatarUrl', where),
    appSuspended: v.optionalBoolean(o, 'appSuspended', where),
    rateLimited: v.optionalBoolean(o, 'rateLimited', where),
  };
}

function googlePersona(v: Validator, item: unknown, where: string): GooglePersona {
  const o = v.object(item, where);
  return {
    username: v.string(o, 'username', where),
    sub: v.string(o, 'sub', where),
    email: v.string(o, 'email', where),
    emailVerified: v.boolean(o, 'emailVerified', where),
    name: v.string(o, 'name', where),
    givenName: v.string(o, 'givenName', where),
    familyName: v.string(o, 'familyName', where),
    picture: v.string(o, 'picture', where),
  };
}

const PERSONAS_HINT =
  'a personas file is JSON like fixtures/sandbox/personas.json: {"github": [{login, id, name, publicEmail, emails, avatarUrl, appSuspended?, rateLimited?}], "google": [{username, sub, email, emailVerified, name, givenName, familyName, picture}]}';

class Validator {
  constructor(private readonly file: string) {}

  fail(where: string, what: string): never {
    throw new IdpError('FILE_INVALID', `personas file ${this.file} is invalid: ${where} ${what}`, PERSONAS_HINT);
  }

  object(value: unknown, where: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(where, 'must be an object');
    return value as Record<string, unknown>;
  }

  string(o: Record<string, unknown>, key: string, where: string): string {
    const value = o[key];
    if (typeof value !== 'string' || value.trim() === '') this.fail(`${where}.${key}`, 'must be a non-empty string');
    return value;
  }

  optionalBoolean(o: Record<string, unknown>, key: string, where: string): boolean {
    return o[key] === undefined ? false : this.boolean(o, key, where);
  }

  boolean(o: Record<string, unknown>, key: string, where: string): boolean {
    const value = o[key];
    if (typeof value !== 'boolean') this.fail(`${where}.${key}`, 'must be true or false');
    return value;
  }

  list<T>(o: Record<string, unknown>, key: string, where: string, required: boolean, item: (value: unknown, where: string) => T): T[] {
    const value = o[key];
    if (value === undefined && !required) return [];
    if (!Array.isArray(value)) this.fail(where, 'must be a list');
    return value.map((entry, i) => item(entry, `${where}[${i}]`));
  }
}

function assertUnique(file: string, values: string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) new Validator(file).fail(what, `'${value}' appears twice`);
    seen.add(value);
  }
}
