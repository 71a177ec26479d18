// Parsers for option values (booleans, enums, repeatable key=value pairs, --step N=OPTIONS);
// each failure is a usage error naming the flag and the values it accepts.
import { IdpError } from '../core/errors.js';

export function parseBool(flag: string) {
  return (value: string): boolean => {
    const v = value.toLowerCase();
    if (['true', 'on', 'yes', '1'].includes(v)) return true;
    if (['false', 'off', 'no', '0'].includes(v)) return false;
    throw new IdpError('INVALID_VALUE', `${flag} takes true or false, not '${value}'`, `e.g. ${flag}=false`);
  };
}

export function parseEnum<T extends string>(flag: string, allowed: readonly T[]) {
  return (value: string): T => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new IdpError(
      'INVALID_VALUE',
      `${flag} must be one of ${allowed.join(', ')}, not '${value}'`,
      `e.g. ${flag} ${allowed[0]}`,
    );
  };
}

export function parsePositiveInt(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (Number.isInteger(n) && n > 0 && n <= max) return n;
    throw new IdpError(
      'INVALID_VALUE',
      `${flag} takes a whole number from 1 to ${max}, not '${value}'`,
      `e.g. ${flag} 50`,
    );
  };
}

/** A TCP port, where 0 asks the system for a free one. */
export function parsePort(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (/^\d+$/.test(value) && n <= 65535) return n;
    throw new IdpError(
      'INVALID_VALUE',
      `${flag} takes a port from 0 to 65535, not '${value}'`,
      `e.g. ${flag} 8788, or ${flag} 0 for any free port`,
    );
  };
}

/** Collects a repeatable `key=value` option into an ordered list of pairs (an empty value means "remove"). */
export function collectPair(flag: string) {
  return (value: string, previous: [string, string][] = []): [string, string][] => {
    const eq = value.indexOf('=');
    if (eq <= 0)
      throw new IdpError('INVALID_VALUE', `${flag} takes KEY=VALUE, not '${value}'`, `e.g. ${flag} department=finance`);
    return [...previous, [value.slice(0, eq).trim(), value.slice(eq + 1).trim()]];
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--step 2=totp` -> [2, ['totp']]; `--step 2=` -> [2, []] (remove step 2). */
export function collectStep(value: string, previous: [number, string[]][] = []): [number, string[]][] {
  const match = /^(\d+)=(.*)$/.exec(value.trim());
  const n = match ? Number(match[1]) : NaN;
  if (!match || !Number.isInteger(n) || n < 1 || n > 10) {
    throw new IdpError(
      'INVALID_VALUE',
      `--step takes N=OPTIONS with N from 1 to 10, not '${value}'`,
      'e.g. --step 1=password,google,github --step 2=totp',
    );
  }
  return [...previous, [n, parseList(match[2]!)]];
}
