// Option value parsers (src/cli/parse.ts): what each accepts, and that each refusal is a usage error naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError } from '../../src/core/errors.js';
import {
  collect,
  collectPair,
  collectStep,
  parseBool,
  parseEnum,
  parseList,
  parsePositiveInt,
} from '../../src/cli/parse.js';

/** The parser refuses with exit 2 and a message naming the flag (and the hint showing an example). */
function refuses(fn: () => unknown, flag: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IdpError, 'an IdpError');
    assert.equal(err.exitCode, 2);
    assert.ok(err.message.includes(flag), `message names ${flag}: ${err.message}`);
    assert.ok(err.hint?.includes(flag), `hint shows ${flag}: ${err.hint}`);
    return true;
  });
}

test('parseBool takes true/false and their usual spellings, case-insensitively', () => {
  const jit = parseBool('--jit');
  for (const v of ['true', 'TRUE', 'on', 'yes', '1']) assert.equal(jit(v), true, v);
  for (const v of ['false', 'False', 'off', 'no', '0']) assert.equal(jit(v), false, v);
  for (const v of ['', 'maybe', 'tru', '2']) refuses(() => jit(v), '--jit');
});

test('parseEnum accepts exactly the listed values and lists them when refusing', () => {
  const sync = parseEnum('--sync', ['override-all', 'preserve-local', 'none'] as const);
  assert.equal(sync('preserve-local'), 'preserve-local');
  refuses(() => sync('Preserve-Local'), '--sync');
  assert.throws(() => sync('all'), /override-all, preserve-local, none/);
});

test('parsePositiveInt takes whole numbers from 1 to the maximum', () => {
  const limit = parsePositiveInt('--limit', 1000);
  assert.equal(limit('1'), 1);
  assert.equal(limit('1000'), 1000);
  for (const v of ['0', '-3', '1.5', 'ten', '', '1001', '1e9']) refuses(() => limit(v), '--limit');
});

test('collectPair collects KEY=VALUE in order, keeps "=" inside values, and an empty value means remove', () => {
  const attr = collectPair('--attr');
  let pairs = attr('dept=finance');
  pairs = attr('note=a=b', pairs);
  pairs = attr(' dept = ', pairs);
  assert.deepEqual(pairs, [
    ['dept', 'finance'],
    ['note', 'a=b'],
    ['dept', ''],
  ]);
  for (const v of ['novalue', '=x', '']) refuses(() => attr(v), '--attr');
});

test('collect and parseList', () => {
  assert.deepEqual(collect('b', collect('a')), ['a', 'b']);
  assert.deepEqual(parseList(' openid, email ,,profile '), ['openid', 'email', 'profile']);
  assert.deepEqual(parseList(''), []);
});

test('collectStep parses N=OPTIONS, repeatable; N= means remove step N', () => {
  let steps = collectStep('1=password,google,github');
  steps = collectStep('2=totp', steps);
  steps = collectStep('2=', steps);
  assert.deepEqual(steps, [
    [1, ['password', 'google', 'github']],
    [2, ['totp']],
    [2, []],
  ]);
  for (const v of ['totp', '0=password', '11=totp', 'x=totp', '=totp', '1.5=totp'])
    refuses(() => collectStep(v), '--step');
});
