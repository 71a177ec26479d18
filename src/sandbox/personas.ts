// The sandbox accounts (personas) the bundled GitHub-like and Google-like providers sign in as: the bundled
// fixtures/sandbox/personas.json, optionally merged with a user file of the same shape (core/schemas/personas.ts).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IdpError } from '../core/errors.js';
import { checkFileSize, decodeText } from '../core/file-text.js';
import type { Hint } from '../core/fixes.js';
import { parseWith } from '../core/schemas/base.js';
import {
  PERSONAS_HINT,
  personasSchema,
  type GithubPersona,
  type GooglePersona,
  type Personas,
} from '../core/schemas/personas.js';

export type { GithubPersona, GooglePersona, Personas };

// src/sandbox (run through tsx) and dist/src/sandbox (compiled) sit at different depths below the package root.
const BUNDLED_CANDIDATES = ['../../fixtures/sandbox/personas.json', '../../../fixtures/sandbox/personas.json'];

function bundledPersonasFile(): string {
  for (const relative of BUNDLED_CANDIDATES) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new IdpError(
    'INTERNAL',
    'the bundled sandbox personas (fixtures/sandbox/personas.json) are missing',
    'reinstall idp',
  );
}

/**
 * The bundled personas, plus those of `extraFile` when given. A user persona with the login (GitHub) or
 * username (Google) of a bundled one replaces it; either list may be left out of the user file.
 */
export function loadPersonas(extraFile?: string): Personas {
  const bundled = readPersonasFile(bundledPersonasFile());
  if (!extraFile) return bundled;
  const extra = readPersonasFile(extraFile);
  const merged: Personas = {
    github: mergeBy(bundled.github, extra.github, (p) => p.login),
    google: mergeBy(bundled.google, extra.google, (p) => p.username),
  };
  assertUnique(
    extraFile,
    merged.github.map((p) => String(p.id)),
    'github id',
  );
  assertUnique(
    extraFile,
    merged.google.map((p) => p.sub),
    'google sub',
  );
  return merged;
}

function mergeBy<T>(base: T[], extra: T[], key: (item: T) => string): T[] {
  const replaced = new Set(extra.map(key));
  return [...base.filter((item) => !replaced.has(key(item))), ...extra];
}

function readPersonasFile(file: string): Personas {
  let parsed: unknown;
  try {
    checkFileSize(file, statSync(file).size, 'personas');
    parsed = JSON.parse(decodeText(readFileSync(file), file, 'personas'));
  } catch (err) {
    if (err instanceof IdpError) throw err;
    throw new IdpError('FILE_INVALID', `cannot read personas file ${file}: ${(err as Error).message}`, PERSONAS_HINT, {
      cause: err,
    });
  }
  const personas = parseWith(personasSchema, parsed, '(top level)', (path, message, hint) =>
    invalid(file, `${path} ${message}`, hint),
  );
  assertUnique(
    file,
    personas.github.map((p) => p.login),
    'github login',
  );
  assertUnique(
    file,
    personas.google.map((p) => p.username),
    'google username',
  );
  return personas;
}

function invalid(file: string, what: string, hint: Hint = PERSONAS_HINT): never {
  throw new IdpError('FILE_INVALID', `personas file ${file} is invalid: ${what}`, hint);
}

function assertUnique(file: string, values: string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) invalid(file, `${what} '${value}' appears twice`);
    seen.add(value);
  }
}
