// The two filters on text from outside: upstreamText (what idp sent is redacted, then the text is capped) and the
// renderer's inert (control characters shown escaped, on one line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inert } from '../../src/cli/render.js';
import { MAX_UPSTREAM_TEXT, upstreamText } from '../../src/core/upstream-text.js';

test('upstreamText redacts what idp sent, raw, URL-encoded and form-encoded', () => {
  const secret = 'se cret/+=7f3a';
  const text = `raw ${secret}; url ${encodeURIComponent(secret)}; form ${new URLSearchParams({ s: secret }).toString().slice(2)}`;
  const out = upstreamText(text, [secret]);
  assert.equal(out, 'raw [redacted]; url [redacted]; form [redacted]');
});

test('upstreamText redacts secret parameters and credentials it was not told about', () => {
  const out = upstreamText(
    'client_secret=abc&code=xyz&error_code=E1 {"refresh_token":"rt-1"} Authorization: Basic dXNlcjpwYXNz, Bearer at.1',
  );
  assert.equal(
    out,
    'client_secret=[redacted]&code=[redacted]&error_code=E1 {"refresh_token":"[redacted]"} Authorization: Basic [redacted], Bearer [redacted]',
  );
  assert.equal(
    upstreamText('The code expired; try again'),
    'The code expired; try again',
    'prose about a code is kept',
  );
});

test('upstreamText caps after redacting, so a cut never leaves part of a secret', () => {
  const secret = 'verifier-0123456789';
  const out = upstreamText(`${'x'.repeat(MAX_UPSTREAM_TEXT - 5)}${secret}${'y'.repeat(1000)}`, [secret]);
  assert.ok(
    out.startsWith(`${'x'.repeat(MAX_UPSTREAM_TEXT - 5)}[reda…`),
    out.slice(MAX_UPSTREAM_TEXT - 10, MAX_UPSTREAM_TEXT + 10),
  );
  assert.equal(out.includes('verif'), false);
  assert.match(out, /… \(\d+ more characters\)$/);
  assert.equal(upstreamText('short', []), 'short');
});

test('inert shows every control character escaped and keeps the rest', () => {
  assert.equal(inert('a\u001b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(inert('t\u001b]0;title\u0007'), 't\\x1b]0;title\\x07');
  assert.equal(inert('one\ntwo\r\tthree'), 'one\\ntwo\\r\\tthree');
  assert.equal(inert('c1 \u009b31m del \u007f'), 'c1 \\x9b31m del \\x7f');
  assert.equal(inert('bidi \u202eevil\u2066 ls \u2028'), 'bidi \\u202eevil\\u2066 ls \\u2028');
  assert.equal(inert('Zoë 🙂 名前'), 'Zoë 🙂 名前');
});
