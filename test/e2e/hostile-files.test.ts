// Hostile and oversized files through the real CLI: policy (apply), scenario (check), personas and import files are
// refused with exit 2 and a one-line reason in bounded time and memory (an alias bomb, a file over its size limit,
// deep nesting, a mapping with a hundred thousand keys), and the org's files are left byte for byte as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCode, orgBytes, runIdp, seededHome, tempDir } from '../helpers/idp.js';

const MiB = 1024 * 1024;

function file(name: string, content: string): string {
  const path = join(tempDir('hostile'), name);
  writeFileSync(path, content);
  return path;
}

/** A file of `bytes` bytes that takes no room on disk: a size check must refuse it before reading it. */
function sparseFile(name: string, bytes: number): string {
  const path = join(tempDir('hostile'), name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

async function refused(home: string, args: string[], reason: RegExp): Promise<void> {
  const before = orgBytes(home);
  const r = expectCode(await runIdp(args, { home }), 2, args.join(' '));
  assert.match(r.stderr, reason);
  assert.ok(!r.stderr.includes('report it'), r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 2, `one error line and one hint line:\n${r.stderr}`);
  assert.equal(orgBytes(home), before, 'the org is unchanged');
}

/** Nine levels of nine aliases each: a billion strings once expanded. */
function billionLaughs(under: string): string {
  const names = 'abcdefghi';
  const lines = [`x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `x-${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n${under}: *i\n`;
}

test('a billion-laughs policy or scenario file is refused with exit 2, not expanded', async () => {
  const home = await seededHome();
  await refused(
    home,
    ['apply', '-f', file('bomb.yaml', billionLaughs('connections'))],
    /bomb\.yaml: its YAML anchors and aliases expand to too many values/,
  );
  await refused(
    home,
    ['check', file('bomb-check.yaml', billionLaughs('scenarios'))],
    /bomb-check\.yaml: its YAML anchors and aliases expand to too many values/,
  );
});

test('files over their size limit are refused before they are read', async () => {
  const home = await seededHome();
  // A valid policy, only too large: one long comment.
  await refused(
    home,
    ['apply', '-f', file('big.yaml', `# ${'x'.repeat(MiB)}\napps: {}\n`)],
    /big\.yaml: \d+ bytes is more than a policy or scenario file may hold \(1 MiB\)/,
  );
  await refused(
    home,
    ['check', file('big-check.yaml', `# ${'x'.repeat(MiB)}\nname: t\n`)],
    /big-check\.yaml: \d+ bytes is more than/,
  );
  await refused(
    home,
    ['sandbox', 'accounts', '--personas', sparseFile('personas.json', MiB + 1)],
    /personas\.json: 1048577 bytes is more than a personas file may hold/,
  );
  await refused(
    home,
    ['users', 'import', sparseFile('people.csv', 64 * MiB + 1)],
    /people\.csv: 67108865 bytes is more than an import file may hold \(64 MiB\)/,
  );
});

test('nesting past 64 levels is refused, however deep it goes', async () => {
  const home = await seededHome();
  const nested = (depth: number) =>
    `name: t\nscenarios:\n  - name: s\n    login: { app: thrift }\n    expect: { claims: { a: ${'['.repeat(depth)}${']'.repeat(depth)} } }\n`;
  await refused(home, ['check', file('deep.yaml', nested(100))], /deep\.yaml:5: nested more than 64 levels deep/);
  await refused(home, ['check', file('deeper.yaml', nested(200_000))], /deeper\.yaml:\d+: /);
});

test('a mapping with a hundred thousand keys is checked in linear time: a duplicate at its end is named by line', {
  timeout: 120_000,
}, async () => {
  const home = await seededHome();
  const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: v`);
  const text = `${keys.join('\n')}\nk7: again\n`;
  assert.ok(text.length < MiB);
  await refused(home, ['apply', '-f', file('keys.yaml', text)], /keys\.yaml:100001: Map keys must be unique/);
});
