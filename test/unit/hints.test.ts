// Outside src/cli, refusals name their remedies as data (core/fixes.ts), never in CLI syntax: a web page shows the
// same refusal. This reads every thrown IdpError and every hint in src/ (outside src/cli) and fails on `idp <command>`
// or `--flag` in their text. It also checks the CLI words each new kind of remedy as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixCommand, renderHint } from '../../src/cli/hints.js';
import { hint } from '../../src/core/fixes.js';
import { ROOT } from '../helpers/idp.js';

const CLI_SYNTAX =
  /\bidp (?:app|connection|users|org|keys|login|check|doctor|init|outbox|events|flows|sandbox|explain|policy|apply|account|mfa|serve)\b|(?:^|[\s(`'"])--[a-z][a-z-]*/;

/** The literal text of each string and template literal in `code` (template parts without their `${...}`), in order. */
function literals(code: string): string[] {
  const found: string[] = [];
  let i = 0;
  const scan = (stopAtBrace: boolean): void => {
    let depth = 0;
    while (i < code.length) {
      const c = code[i]!;
      if (c === '/' && code[i + 1] === '/') i = code.indexOf('\n', i) === -1 ? code.length : code.indexOf('\n', i);
      else if (c === '/' && code[i + 1] === '*') i = code.indexOf('*/', i) + 2;
      else if (c === "'" || c === '"') {
        const end = closingQuote(code, i, c);
        found.push(code.slice(i + 1, end));
        i = end + 1;
      } else if (c === '`') template();
      else if (c === '{') depth++, i++;
      else if (c === '}') {
        if (stopAtBrace && depth === 0) return;
        depth--;
        i++;
      } else i++;
    }
  };
  const template = (): void => {
    i++;
    let text = '';
    while (i < code.length && code[i] !== '`') {
      if (code[i] === '\\') (text += code.slice(i, i + 2)), (i += 2);
      else if (code[i] === '$' && code[i + 1] === '{') {
        i += 2;
        scan(true);
        i++;
        text += '${}';
      } else text += code[i++];
    }
    i++;
    found.push(text);
  };
  scan(false);
  return found;
}

function closingQuote(code: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < code.length && code[i] !== quote && code[i] !== '\n') i += code[i] === '\\' ? 2 : 1;
  return i;
}

/** The source text of each refusal: the arguments of `new IdpError(...)`, `hint` templates, and `hint:` values. */
function refusals(text: string): { line: number; code: string }[] {
  const sites: { line: number; code: string }[] = [];
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/new IdpError\(/g))
    sites.push({ line: lineOf(m.index!), code: balanced(text, m.index! + m[0].length - 1) });
  for (const m of text.matchAll(/\bhint`/g))
    sites.push({ line: lineOf(m.index!), code: text.slice(m.index! + 4, text.indexOf('\n', m.index!)) });
  for (const m of text.matchAll(/\bhint\s*[:=]\s*(?=['"`])/g))
    sites.push({ line: lineOf(m.index!), code: text.slice(m.index! + m[0].length, text.indexOf('\n', m.index!)) });
  return sites;
}

/** `text` from the opening parenthesis at `open` to its match (strings may hold parentheses; literals() reads them). */
function balanced(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') i = closingQuote(text, i, c);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

function cliSyntaxIn(rel: string, text: string): string[] {
  return refusals(text).flatMap(({ line, code }) =>
    literals(code)
      .filter((s) => CLI_SYNTAX.test(s))
      .map((s) => `src/${rel}:${line}: ${s}`),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('no refusal outside src/cli spells CLI syntax (`idp <command>`, `--flag`): remedies are Fix data', () => {
  const src = join(ROOT, 'src');
  const found = filesUnder(src)
    .filter((file) => /\.c?ts$/.test(file) && !relative(src, file).startsWith('cli/'))
    .flatMap((file) => cliSyntaxIn(relative(src, file), readFileSync(file, 'utf8')));
  assert.deepEqual(found, []);
});

test('the scan finds CLI syntax in error arguments, hint templates and hint values, and passes remedies given as data', () => {
  const source = [
    "throw new IdpError('X', `no ${name}`, `run idp connection set ${name} --jit=true`);",
    "throw new IdpError('X', 'bad', 'pass a longer --timeout');",
    'const h = hint`either idp app check ${app}, or not`;',
    "return { code: 'INTERNAL', hint: 'rerun with --debug' };",
    "throw new IdpError('X', 'bad', hint`either ${{ kind: 'set', on: 'connection', name, setting: 'jit', value: 'true' }}, or sign in`);",
    "const page = '<p>idp sandbox</p>'; // a page, not a refusal",
  ].join('\n');
  assert.deepEqual(
    cliSyntaxIn('x.ts', source).map((v) => v.split(': ')[0]),
    ['src/x.ts:1', 'src/x.ts:2', 'src/x.ts:3', 'src/x.ts:4'],
  );
});

test('the CLI words an option remedy as its flag, so hints read as they did', () => {
  assert.equal(fixCommand({ kind: 'option', option: 'timeout' }), '--timeout');
  assert.equal(fixCommand({ kind: 'option', option: 'step', value: '2=totp' }), '--step 2=totp');
  assert.equal(
    renderHint(hint`put it in step 2, e.g. ${{ kind: 'option', option: 'step', value: '2=totp' }}`),
    'put it in step 2, e.g. --step 2=totp',
  );
});

test('the CLI words a list-factors remedy as the listing that shows factor and passkey ids', () => {
  assert.equal(fixCommand({ kind: 'list-factors', user: 'alice' }), 'idp users mfa list alice');
});
