// The layering rule of src/README.md, read from the source: which of our folders each folder may import (core nothing,
// flow only core and ports, app those and flow, each adapter only core and ports (the two stores also their shared
// rows), the CLI anything), which packages
// each folder may import, that the CLI entry point statically loads no package but the ENTRY_PACKAGES (everything else
// is imported on demand), and that the bundle keeps it so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT, tempDir } from '../helpers/idp.js';

/** package -> the only directories (under src/) whose files may import it */
const OWNERS: Record<string, string | string[]> = {
  commander: 'cli',
  '@inquirer/prompts': 'cli',
  chalk: 'cli',
  ora: 'cli',
  open: 'cli',
  'openid-client': 'federation',
  'better-sqlite3': 'store',
  // The PostgreSQL store: the client, the URL parser it reads sslmode with, and the ~/.pgpass reader.
  pg: 'store-pg',
  'pg-connection-string': 'store-pg',
  pgpass: 'store-pg',
  jose: 'tokens',
  // The Google-like sandbox and `idp serve` are both OpenID providers.
  'oidc-provider': ['sandbox', 'server'],
  'quickjs-emscripten': 'script',
  otplib: 'mfa',
  'qrcode-terminal': 'cli',
  // The web driver draws TOTP enrolment QR codes as inline SVG.
  qrcode: 'server',
  // Policy and scenario files are YAML; reading them is the policy use case's.
  yaml: 'app',
  // Only the file schemas, which only the commands that read files load.
  valibot: 'core/schemas',
  // WebAuthn verification is the webauthn adapter's; src/ports/webauthn.ts re-exports its JSON types (`export type`).
  '@simplewebauthn/server': ['webauthn', 'ports'],
};

/**
 * What `idp --version` may load statically: commander (every start parses argv; bundled into the runtime chunk, see
 * rollup.config.mjs). chalk is not one: src/cli/paint.ts loads it when a stream gets colour.
 */
const ENTRY_PACKAGES = new Set(['commander']);

interface Found {
  specifier: string;
  dynamic: boolean;
  line: number;
}

// `import ... from 'x'`, `import 'x'`, `export ... from 'x'`, including `import type` and braces over several lines.
const STATIC = /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]*?\s*from\s*)?['"]([^'"\n]+)['"]/gm;
// `import('x')` and `require('x')` (also `createRequire(...)('x')`).
const DYNAMIC = /(?:\bimport|\brequire|\))\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function isComment(text: string, index: number): boolean {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  return /^\s*(\/\/|\*|\/\*)/.test(text.slice(lineStart, index));
}

function importsOf(text: string): Found[] {
  const found: Found[] = [];
  for (const m of text.matchAll(STATIC)) found.push({ specifier: m[1]!, dynamic: false, line: lineOf(text, m.index!) });
  for (const m of text.matchAll(DYNAMIC)) {
    if (!isComment(text, m.index!)) found.push({ specifier: m[1]!, dynamic: true, line: lineOf(text, m.index!) });
  }
  return found;
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for relative and builtin ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('the import scanner sees static, multi-line, type, re-export, side-effect, dynamic and require imports, not comments', () => {
  const source = [
    "import chalk from 'chalk';",
    'import {',
    '  Command,',
    '  type Option,',
    "} from 'commander';",
    "import type { Issuer } from 'openid-client/types';",
    "import 'ora';",
    "export { SignJWT } from 'jose';",
    "export * from '@inquirer/prompts';",
    'async function later() {',
    "  const { default: open } = await import('open');",
    "  const Database = require('better-sqlite3');",
    "  return createRequire(import.meta.url)('quickjs-emscripten');",
    '}',
    "// await import('oidc-provider') only in src/sandbox",
    'const s = \'import x from "not-a-package" inside a string\';',
    "import { local } from './local.js';",
  ].join('\n');
  assert.deepEqual(
    importsOf(source).map((f) => `${packageOf(f.specifier) ?? f.specifier}:${f.line}${f.dynamic ? ':dynamic' : ''}`),
    [
      'chalk:1',
      'commander:2',
      'openid-client:6',
      'ora:7',
      'jose:8',
      '@inquirer/prompts:9',
      './local.js:17',
      'open:11:dynamic',
      'better-sqlite3:12:dynamic',
      'quickjs-emscripten:13:dynamic',
    ],
  );
});

/** src/ folders (a top-level file such as ports.ts counts as its own folder) -> the other folders they may import. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  ports: ['core'],
  flow: ['core', 'ports'],
  app: ['core', 'ports', 'flow'],
  // The two stores share their row types, row mappers and sealed-value format (store-rows), not each other's code.
  store: ['core', 'ports', 'store-rows'],
  'store-pg': ['core', 'ports', 'store-rows'],
  // A library below both stores: pure, so it needs only the domain's and the ports' types.
  'store-rows': ['core', 'ports'],
  federation: ['core', 'ports'],
  mfa: ['core', 'ports'],
  tokens: ['core', 'ports'],
  script: ['core', 'ports'],
  // The terminal login's passkey page serves the same scripts as `idp serve` (net/passkey-assets.ts).
  loopback: ['core', 'ports', 'net'],
  webauthn: ['core', 'ports'],
  sandbox: ['core', 'ports', 'net'],
  // node:http helpers for idp's own servers: a library below the adapters that use it.
  net: ['core'],
  // Ambient declarations of packages that ship no typings.
  types: [],
  // The web driver: like the CLI it drives use cases and the engine, but adapters reach it only through ports,
  // wired by the composition root (src/cli/context.ts), and it words nothing the CLI's way.
  server: ['core', 'ports', 'flow', 'app', 'net'],
};

/** The src/ folder of a path relative to src/: `flow/steps/kit.ts` -> flow, `ports.ts` and `ports/store.ts` -> ports. */
function folderOf(rel: string): string {
  return rel.split('/')[0]!.replace(/\.c?[jt]s$/, '');
}

/** Every import of one src/ folder by another that MAY_IMPORT does not allow; src/cli (the composition root) may import any. */
function layerViolations(files: { rel: string; text: string }[]): string[] {
  const violations: string[] = [];
  for (const { rel, text } of files) {
    const from = folderOf(rel);
    if (from === 'cli') continue;
    const allowed = MAY_IMPORT[from];
    if (!allowed) {
      violations.push(`src/${rel}: src/${from} has no place in the layer rule; add it to MAY_IMPORT`);
      continue;
    }
    for (const found of importsOf(text)) {
      if (!found.specifier.startsWith('.')) continue;
      const target = relative('src', join('src', dirname(rel), found.specifier));
      if (target.startsWith('..')) continue;
      const to = folderOf(target);
      if (to !== from && !allowed.includes(to))
        violations.push(
          `src/${rel}:${found.line} imports src/${target}; src/${from} may import only ${[from, ...allowed].join(', ')}`,
        );
    }
  }
  return violations;
}

function sourceFiles(): { rel: string; text: string }[] {
  const src = join(ROOT, 'src');
  // Code only: src/README.md (the map of these folders) imports nothing.
  const code = filesUnder(src).filter((file) => /\.c?ts$/.test(file));
  return code.map((file) => ({ rel: relative(src, file), text: readFileSync(file, 'utf8') }));
}

test('each src/ folder imports only the folders below it: core nothing, flow core and ports, app those and flow, adapters core and ports', () => {
  assert.deepEqual(layerViolations(sourceFiles()), []);
});

test("the layer rule refuses an adapter importing another adapter, flow or app importing an adapter, core importing ports, the web driver importing the CLI, and the stores' shared rows importing a store", () => {
  const file = (rel: string, specifier: string) => ({ rel, text: `import { x } from '${specifier}';\n` });
  assert.deepEqual(
    layerViolations([
      file('store/codes.ts', '../mfa/email-otp.js'),
      file('federation/upstreams.ts', '../sandbox/server.js'),
      file('flow/steps/mfa.ts', '../../mfa/totp.js'),
      file('app/login.ts', '../store/store.js'),
      file('core/jit.ts', '../ports.js'),
      file('flow/engine.ts', './steps/kit.js'),
      file('flow/steps/kit.ts', '../../ports/store.js'),
      file('sandbox/github.ts', '../ports.js'),
      file('cli/context.ts', '../store/store.js'),
      file('server/pages/flow.ts', '../../cli/hints.js'),
      file('server/provider.ts', '../app/account.js'),
      file('store-pg/users.ts', '../store/users.js'),
      file('store-pg/store.ts', '../store/seal.js'),
      file('store-pg/users.ts', '../store-rows/users.js'),
      file('store/users.ts', '../store-rows/users.js'),
      file('store-rows/users.ts', '../store/db.js'),
      file('store-rows/seal.ts', '../core/errors.js'),
    ]).map((v) => v.split(' imports ')[0]),
    [
      'src/store/codes.ts:1',
      'src/federation/upstreams.ts:1',
      'src/flow/steps/mfa.ts:1',
      'src/app/login.ts:1',
      'src/core/jit.ts:1',
      'src/server/pages/flow.ts:1',
      'src/store-pg/users.ts:1',
      'src/store-pg/store.ts:1',
      'src/store-rows/users.ts:1',
    ],
  );
});

test('each restricted package is imported only inside its own layer', () => {
  const src = join(ROOT, 'src');
  const violations: string[] = [];
  for (const file of filesUnder(src)) {
    const rel = relative(src, file);
    for (const found of importsOf(readFileSync(file, 'utf8'))) {
      const pkg = packageOf(found.specifier);
      const owners = pkg === undefined ? undefined : [OWNERS[pkg] ?? []].flat();
      if (owners?.length && !owners.some((owner) => rel.startsWith(`${owner}/`))) {
        violations.push(
          `src/${rel}:${found.line} imports ${pkg}${found.dynamic ? ' (dynamic)' : ''}; only ${owners.map((o) => `src/${o}/`).join(' or ')} may`,
        );
      }
    }
  }
  assert.deepEqual(violations, []);
});

/** Walks the static imports from a compiled entry point (type-only imports are gone there, as at run time). */
function staticPackages(entry: string, base: string): Map<string, string> {
  const packages = new Map<string, string>(); // package -> the import chain that loads it
  const seen = new Set<string>();
  const visit = (file: string, chain: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const found of importsOf(readFileSync(file, 'utf8'))) {
      if (found.dynamic) continue;
      const pkg = packageOf(found.specifier);
      if (pkg !== undefined) {
        if (!packages.has(pkg)) packages.set(pkg, chain);
      } else if (found.specifier.startsWith('.')) {
        const next = resolve(dirname(file), found.specifier);
        visit(next, `${chain} -> ${relative(base, next)}`);
      }
    }
  };
  visit(entry, relative(base, entry));
  return packages;
}

test('the static import walk follows local files, names the chain, and skips dynamic imports', () => {
  const dir = tempDir('layers');
  writeFileSync(
    join(dir, 'main.js'),
    "import { Command } from 'commander';\nimport { a } from './a.js';\nexport const m = () => import('jose');\n",
  );
  writeFileSync(join(dir, 'a.js'), "import './b.js';\nexport const a = 1;\n");
  writeFileSync(join(dir, 'b.js'), "import Database from 'better-sqlite3';\nimport './a.js';\n");
  assert.deepEqual(
    [...staticPackages(join(dir, 'main.js'), dir)],
    [
      ['commander', 'main.js'],
      ['better-sqlite3', 'main.js -> a.js -> b.js'],
    ],
  );
});

test('src/cli/main.ts statically loads no third-party package but the ENTRY_PACKAGES', () => {
  const entry = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  assert.ok(existsSync(entry), 'build first: npx tsc -p tsconfig.json');
  const packages = staticPackages(entry, join(ROOT, 'dist'));
  const extra = [...packages].filter(([pkg]) => !ENTRY_PACKAGES.has(pkg)).map(([pkg, chain]) => `${pkg} via ${chain}`);
  assert.deepEqual(extra, [], 'import these inside the action that needs them');
});

test('the bundle: main.js statically loads none of our chunks, the shared runtime chunk no package it does not carry, and no chunk chalk', () => {
  const dir = join(ROOT, 'dist', 'bundle', 'cli');
  const mainImports = importsOf(readFileSync(join(dir, 'main.js'), 'utf8')).filter(
    (f) => !f.dynamic && !f.specifier.startsWith('node:'),
  );
  assert.deepEqual(
    mainImports.map((f) => f.specifier),
    [],
    'a static import in src/cli/main.ts is loaded by `idp --version` too',
  );
  const runtime = readdirSync(dir).filter((name) => /^runtime-.*\.js$/.test(name));
  assert.equal(runtime.length, 1, `one runtime chunk, found: ${runtime.join(', ')}`);
  const packages = staticPackages(join(dir, runtime[0]!), dir);
  assert.deepEqual(
    [...packages.keys()],
    [],
    'rollup.config.mjs admits to the runtime chunk only modules that import no other package statically',
  );
  const chalk = readdirSync(dir).filter((name) => /^chalk-.*\.js$/.test(name));
  assert.equal(chalk.length, 1, `chalk bundled into one chunk of its own, found: ${chalk.join(', ')}`);
  const loadsChalk = readdirSync(dir).filter((name) =>
    importsOf(readFileSync(join(dir, name), 'utf8')).some((f) => !f.dynamic && f.specifier === `./${chalk[0]}`),
  );
  assert.deepEqual(loadsChalk, [], 'chalk loads only when a stream gets colour (src/cli/paint.ts)');
  const worker = staticPackages(join(dir, 'worker.js'), dir);
  assert.ok(
    !importsOf(readFileSync(join(dir, 'worker.js'), 'utf8')).some((f) => f.specifier.startsWith('./')),
    'the script worker is one file: it loads no CLI chunk',
  );
  assert.deepEqual([...worker.keys()], [], 'the script worker loads quickjs-emscripten on demand');
});

test('better-sqlite3 runs only when a database is opened: src/store/sqlite.cts requires it, other files import only its types', () => {
  const src = join(ROOT, 'src');
  const loaders: string[] = [];
  for (const file of filesUnder(src)) {
    const text = readFileSync(file, 'utf8');
    const typeOnly = /^\s*import\s+type\b[^;]*from\s*['"]better-sqlite3['"]/gm;
    const loads = importsOf(text.replace(typeOnly, '')).filter((f) => packageOf(f.specifier) === 'better-sqlite3');
    if (loads.length) loaders.push(relative(src, file));
  }
  assert.deepEqual(
    loaders,
    ['store/sqlite.cts'],
    'a value import of better-sqlite3 elsewhere runs it with the runtime chunk, for --help too',
  );
});
