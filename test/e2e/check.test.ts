// `idp check` through the real CLI: the shipped scenario files pass and leave the org's database byte for byte as it
// was; a wrong expectation exits 9 naming expected vs got; invalid files exit 2 naming the path; --json and --junit
// (checked with a small, strict XML parser) carry the same results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { junitXml } from '../../src/app/junit.js';
import { childEnv, expectCode, IDP_BIN, idpOk, ROOT, runIdp, seededHome, snapshot, tempDir } from '../helpers/idp.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A strict parser for the XML subset JUnit reports use (prolog, elements, attributes, text, entities): throws on anything malformed. */
function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (why: string): never =>
    assert.fail(`malformed XML at ${i}: ${why}\n${src.slice(Math.max(0, i - 60), i + 60)}`);
  const isNameChar = (ch: string | undefined): boolean =>
    ch !== undefined &&
    (ch === '-' ||
      ch === '_' ||
      ch === ':' ||
      ch === '.' ||
      (ch >= 'a' && ch <= 'z') ||
      (ch >= 'A' && ch <= 'Z') ||
      (ch >= '0' && ch <= '9'));
  const skipSpace = (): void => {
    while (src[i] === ' ' || src[i] === '\n' || src[i] === '\t' || src[i] === '\r') i++;
  };
  const name = (): string => {
    const start = i;
    while (isNameChar(src[i])) i++;
    return i > start ? src.slice(start, i) : fail('expected a name');
  };
  const chars = (end: string): string => {
    let out = '';
    while (i < src.length && !end.includes(src[i]!)) {
      const ch = src[i]!;
      const code = ch.charCodeAt(0);
      if (code < 0x20 && ch !== '\n' && ch !== '\t' && ch !== '\r') fail(`control character ${code}`);
      if (ch === '<') fail('raw < in text or attribute');
      if (ch === '&') {
        const semi = src.indexOf(';', i);
        const ref = semi > i ? src.slice(i + 1, semi) : fail('unterminated entity');
        if (ref.startsWith('#x')) out += String.fromCodePoint(parseInt(ref.slice(2), 16));
        else if (ref.startsWith('#')) out += String.fromCodePoint(Number(ref.slice(1)));
        else out += ENTITIES[ref] ?? fail(`unknown entity &${ref};`);
        i = semi + 1;
        continue;
      }
      out += ch;
      i++;
    }
    return out;
  };
  if (src.startsWith('<?xml')) i = src.indexOf('?>') + 2;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < src.length) {
    if (src[i] !== '<') {
      const text = chars('<');
      if (stack.length) stack[stack.length - 1]!.text += text;
      else if (text.trim()) fail('text outside the root element');
      continue;
    }
    i++;
    if (src[i] === '/') {
      i++;
      const closing = name();
      skipSpace();
      if (src[i++] !== '>') fail('expected >');
      const open = stack.pop() ?? fail(`</${closing}> closes nothing`);
      if (open.name !== closing) fail(`</${closing}> closes <${open.name}>`);
      continue;
    }
    const element: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    if (stack.length) stack[stack.length - 1]!.children.push(element);
    else if (root) fail('a second root element');
    else root = element;
    for (;;) {
      skipSpace();
      if (src.startsWith('/>', i)) {
        i += 2;
        break;
      }
      if (src[i] === '>') {
        i++;
        stack.push(element);
        break;
      }
      const attr = name();
      if (attr in element.attrs) fail(`duplicate attribute ${attr}`);
      if (src[i++] !== '=') fail('expected =');
      const quote = src[i++];
      if (quote !== '"' && quote !== "'") fail('expected a quoted value');
      element.attrs[attr] = chars(quote!);
      i++;
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  return root ?? fail('no root element');
}

const all = (el: XmlElement, name: string): XmlElement[] => [
  ...(el.name === name ? [el] : []),
  ...el.children.flatMap((c) => all(c, name)),
];

test('the XML checker accepts well-formed documents and refuses malformed ones', () => {
  const doc = parseXml(
    '<?xml version="1.0"?>\n<a x="1 &amp; &quot;2&quot;"><b/><c y=\'&lt;\'>t &gt; &#233;&#x41;</c></a>\n',
  );
  assert.deepEqual(doc.attrs, { x: '1 & "2"' });
  assert.deepEqual(
    doc.children.map((c) => c.name),
    ['b', 'c'],
  );
  assert.equal(doc.children[1]!.text, 't > éA');
  for (const bad of [
    '<a><b></a></b>',
    '<a>',
    '<a x="1" x="2"/>',
    '<a>x & y</a>',
    '<a>x < y</a>',
    '<a/><b/>',
    '<a x=1/>',
    '<a>\u0001</a>',
    '</a>',
    'text<a/>',
  ]) {
    assert.throws(() => parseXml(bad), /malformed XML/, bad);
  }
});

test('the JUnit writer escapes names, messages and text, and drops characters XML cannot hold', () => {
  const nasty = `a <b> & "c" 'd'\u0001\uD800 \n next`;
  const xml = junitXml(
    [
      { name: 'f<1>.yaml', cases: [{ classname: nasty, name: nasty, ms: 1234 }] },
      {
        name: 'f2.yaml',
        cases: [{ classname: 'c', name: 'n', ms: 10, failure: { message: nasty, text: `${nasty}\n]]> <failure/>` } }],
      },
    ],
    'idp check',
  );
  const doc = parseXml(xml);
  assert.deepEqual(doc.attrs, { name: 'idp check', tests: '2', failures: '1', time: '1.244' });
  const [first, second] = all(doc, 'testsuite');
  assert.deepEqual(first!.attrs, {
    name: 'f<1>.yaml',
    tests: '1',
    failures: '0',
    time: '1.234',
    errors: '0',
    skipped: '0',
  });
  const clean = `a <b> & "c" 'd'\uFFFD\uFFFD \n next`;
  assert.deepEqual(all(first!, 'testcase')[0]!.attrs, { classname: clean, name: clean, time: '1.234' });
  assert.equal(second!.attrs.failures, '1');
  const failure = all(second!, 'failure')[0]!;
  assert.equal(failure.attrs.message, clean, 'newlines in attributes survive as &#10;');
  assert.equal(failure.text, `${clean}\n]]> <failure/>`);
  assert.equal(failure.children.length, 0);
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const SHIPPED = readdirSync(join(ROOT, 'fixtures', 'scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join('fixtures', 'scenarios', f));

test('the shipped scenario files pass against the demo org, and the org database stays byte for byte the same', async () => {
  assert.ok(SHIPPED.length >= 5, 'the seed story ships as scenario files');
  const home = await seededHome();
  const db = join(home, 'idp.db');
  const [hash, users, everything] = [
    sha256(db),
    (await idpOk(['users', 'list', '--json'], { home })).stdout,
    await snapshot(home),
  ];
  const junit = join(tempDir('junit'), 'out.xml');
  const r = expectCode(
    await runIdp(['check', ...SHIPPED.map((f) => join(ROOT, f)), '--junit', junit], { home }),
    0,
    'idp check (shipped)',
  );
  const lines = r.stdout.trimEnd().split('\n');
  const report = parseXml(readFileSync(junit, 'utf8'));
  const cases = all(report, 'testcase');
  assert.ok(cases.length >= 20, `${cases.length} scenarios`);
  assert.equal(lines[lines.length - 1], `${cases.length} passed, 0 failed`);
  assert.equal(lines.filter((l) => l.startsWith('  ✓ ')).length, cases.length);
  assert.deepEqual([report.attrs.tests, report.attrs.failures], [String(cases.length), '0']);
  assert.equal(all(report, 'testsuite').length, SHIPPED.length);
  assert.equal(all(report, 'failure').length, 0);

  assert.equal(sha256(db), hash, 'idp.db is unchanged');
  assert.equal((await idpOk(['users', 'list', '--json'], { home })).stdout, users);
  assert.equal(await snapshot(home), everything, 'apps, connections, users and events are unchanged');
});

test('the shipped scenario files pin the settings they assert: the same verdict after JIT, linking and steps were changed', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'set', 'github', '--jit=false', '--linking', 'verified-email'], { home });
  await idpOk(['connection', 'set', 'google', '--jit=false', '--jit-scheme', 'prompt-consent'], { home });
  await idpOk(['app', 'set', 'thrift', '--step', '2=totp'], { home });
  const r = expectCode(
    await runIdp(['check', ...SHIPPED.map((f) => join(ROOT, f))], { home }),
    0,
    'idp check (shipped, changed org)',
  );
  assert.match(r.stdout, /^\d+ passed, 0 failed$/m);
});

const FAILING = `name: deliberately wrong
config: { connections: { github: { jit: { enabled: false } } } }
scenarios:
  - name: passes <with> "markup" & quotes
    login: { app: thrift, connection: github, as: octocat }
    expect: { outcome: success, jit: pass-through, users: "+0" }
  - name: expects provisioning where JIT is off
    login: { app: thrift, connection: github, as: hubber }
    expect: { outcome: success, jit: provision, users: "+1" }
`;

test('a wrong expectation exits 9: the line names expected vs got and the stages, and the JUnit report has the failure', async () => {
  const home = await seededHome();
  const dir = tempDir('check');
  const file = join(dir, 'wrong.yaml');
  writeFileSync(file, FAILING);
  const junit = join(dir, 'report.xml');
  const r = expectCode(await runIdp(['check', file, '--junit', junit], { home }), 9);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], `${file}: deliberately wrong`);
  assert.equal(lines[1]!.replace(/\(\d+ ms\)/, '(N ms)'), '  ✓ passes <with> "markup" & quotes (N ms)');
  assert.equal(
    lines[2],
    '  ✗ expects provisioning where JIT is off: expected jit provision, got pass-through; expected users +1, got +0',
  );
  assert.equal(
    lines[3],
    '      stages: app ✓ options ✓ redirect ✓ consent ✓ callback ✓ token ✓ userinfo ✓ jit ✓ session ✓',
  );
  assert.equal(lines[lines.length - 1], '1 passed, 1 failed');
  assert.match(r.stderr, /^error: 1 of 2 scenario\(s\) failed$/m);
  assert.match(r.stderr, /^hint: .*report\.xml/m);

  const report = parseXml(readFileSync(junit, 'utf8'));
  assert.deepEqual([report.attrs.tests, report.attrs.failures], ['2', '1']);
  const [suite] = all(report, 'testsuite');
  assert.equal(suite!.attrs.name, file);
  const [ok, wrong] = all(suite!, 'testcase');
  assert.deepEqual(
    [ok!.attrs.classname, ok!.attrs.name, ok!.children.length],
    ['deliberately wrong', 'passes <with> "markup" & quotes', 0],
  );
  const failure = all(wrong!, 'failure')[0]!;
  assert.equal(failure.attrs.message, 'expected jit provision, got pass-through; expected users +1, got +0');
  assert.match(
    failure.text,
    /^expected jit provision, got pass-through\nexpected users \+1, got \+0\nstages: app ✓ .* jit ✓ session ✓$/,
  );
});

test('--json gives one summary document with every scenario, its mismatches, flow, stages and error', async () => {
  const home = await seededHome();
  const file = join(tempDir('check'), 'wrong.yaml');
  writeFileSync(file, FAILING);
  const r = expectCode(await runIdp(['check', file, '--json'], { home }), 9);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['files', 'passed', 'failed']);
  assert.deepEqual([doc.passed, doc.failed], [1, 1]);
  assert.equal(doc.files.length, 1);
  assert.equal(doc.files[0].file, file);
  assert.equal(doc.files[0].name, 'deliberately wrong');
  const [ok, wrong] = doc.files[0].scenarios;
  for (const s of [ok, wrong]) {
    for (const key of ['name', 'passed', 'ms', 'mismatches', 'flow', 'stages', 'error'])
      assert.ok(key in s, `${key} in ${JSON.stringify(s)}`);
    assert.match(s.flow, /^f_/);
    assert.equal(typeof s.ms, 'number');
  }
  assert.deepEqual([ok.passed, ok.mismatches], [true, []]);
  assert.equal(wrong.passed, false);
  assert.deepEqual(wrong.mismatches, [
    { field: 'jit', expected: 'provision', got: 'pass-through' },
    { field: 'users', expected: 1, got: 0 },
  ]);
  assert.deepEqual(Object.keys(wrong.stages[0]), ['stage', 'status', 'ms', 'detail']);
  assert.equal(wrong.error, null);
  assert.match(r.stderr, /^error: 1 of 2 scenario\(s\) failed$/m);
});

test('invalid files exit 2 naming the file and the path, before any scenario runs', async () => {
  const home = await seededHome();
  const dir = tempDir('check');
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const good = write('good.yaml', FAILING);
  const cases: [string, RegExp, RegExp][] = [
    [write('yaml.yaml', 'name: t\nscenarios:\n  - name: s\n    login: { app: thrift\n'), /yaml\.yaml(:\d+)?: /, /YAML/],
    [
      write('key.yaml', FAILING.replace('as: hubber', 'as: hubber, conection: github')),
      /key\.yaml: scenarios\[1\]\.login\.conection: unknown key/,
      /allowed keys: app, connection/,
    ],
    [
      write('enum.yaml', FAILING.replace('jit: provision', 'jit: provisioned')),
      /enum\.yaml: scenarios\[1\]\.expect\.jit: 'provisioned' is not one of the allowed values/,
      /provision, returning, link, pass-through, deny/,
    ],
    [
      write('config.yaml', FAILING.replace('enabled: false', 'enabled: nope')),
      /config\.yaml: config\.connections\.github\.jit\.enabled: must be true or false/,
      /./,
    ],
    [
      write(
        'steps.yaml',
        FAILING.replace(
          '{ connections: { github: { jit: { enabled: false } } } }',
          '{ apps: { thrift: { steps: [[gitlab]] } } }',
        ),
      ),
      /steps\.yaml: config\.apps\.thrift\.steps: unknown sign-in option 'gitlab'/,
      /valid options/,
    ],
  ];
  for (const [file, message, hint] of cases) {
    const r = expectCode(await runIdp(['check', good, file], { home }), 2, file);
    assert.match(r.stderr, new RegExp(`^error: .*${message.source}`, 'm'));
    assert.match(r.stderr.split('\n')[1] ?? '', new RegExp(`^hint: .*${hint.source}`));
    assert.equal(r.stdout, '', 'nothing ran');
  }
  expectCode(await runIdp(['check'], { home }), 2, 'no file');
  const json = expectCode(await runIdp(['check', join(dir, 'enum.yaml'), '--json'], { home }), 2);
  assert.equal(JSON.parse(json.stdout).error.code, 'FILE_INVALID');
});

test('Ctrl-C stops after the running scenario, still removes the copy of the org, and exits 130', async () => {
  const home = await seededHome();
  const dir = tempDir('check');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const file = join(dir, 'long.yaml');
  const login = '{ app: thrift, option: password, username: alice, password: thrift-demo }';
  writeFileSync(
    file,
    `name: long\nscenarios:\n${Array.from({ length: 200 }, (_, i) => `  - name: password ${i}\n    login: ${login}\n    expect: { outcome: success }\n`).join('')}`,
  );
  const child = spawn(process.execPath, [IDP_BIN, 'check', file], {
    env: childEnv({ home, env: { TMPDIR: tmp } }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => resolve(void (exit = { code, signal }))),
  );
  // The copy exists once its directory does: interrupt then, while the scenarios run on it.
  while (!exit && readdirSync(tmp).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(exit, undefined, `idp check ended before it made its copy: ${stderr}`);
  child.kill('SIGINT');
  await closed;
  assert.deepEqual(exit, { code: 130, signal: null }, stderr);
  assert.match(stderr, /^error: interrupted$/m);
  assert.deepEqual(readdirSync(tmp), [], 'the copy of the org is removed');
});
