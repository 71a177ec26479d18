// Validation of parsed YAML/JSON files (policy and scenario files): every failure names the file, the path inside it
// and what is allowed, as one FILE_INVALID error (exit 2).
import type { Hint } from './fixes.js';
import { didYouMean, IdpError } from './errors.js';

export class FileChecker {
  constructor(
    private readonly file: string,
    private readonly defaultHint: string,
  ) {}

  fail(path: string, message: string, hint: Hint | undefined = this.defaultHint): never {
    throw new IdpError('FILE_INVALID', `${this.file}: ${path}: ${message}`, hint);
  }

  /** A mapping; with `keys`, only those keys. */
  mapping(value: unknown, path: string, keys?: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping', keys && `allowed keys: ${keys.join(', ')}`);
    for (const key of Object.keys(value)) {
      if (keys && !keys.includes(key)) {
        const close = didYouMean(key, keys);
        this.fail(`${path}.${key}`, 'unknown key', `${close ? `did you mean '${close}'? ` : ''}allowed keys: ${keys.join(', ')}`);
      }
    }
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') this.fail(path, 'must be a non-empty string', 'quote values YAML would read as numbers or booleans');
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false');
    return value;
  }

  strings(value: unknown, path: string): string[] {
    if (!Array.isArray(value)) this.fail(path, 'must be a list');
    return value.map((v, i) => this.string(v, `${path}[${i}]`));
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const close = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
    this.fail(path, `'${String(value)}' is not one of the allowed values`, `${close ? `did you mean '${close}'? ` : ''}allowed values: ${allowed.join(', ')}`);
  }

  /** Runs a rule that throws IdpError and reports its message at `path`. */
  check<T>(rule: () => T, path: string): T {
    try {
      return rule();
    } catch (err) {
      if (err instanceof IdpError && err.code !== 'FILE_INVALID') this.fail(path, err.message, err.hint);
      throw err;
    }
  }
}
