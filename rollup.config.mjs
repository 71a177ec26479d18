// Bundles the compiled CLI (dist/src) into dist/bundle/cli for bin/idp.js. Node 20 pays about a millisecond per module
// it loads on a small machine, so what every command needs (idp's shared runtime, commander, better-sqlite3's
// JavaScript) goes into one chunk, chalk into one loaded only when a stream gets colour (src/cli/paint.ts), each command
// into its own. The pure-ESM packages a login or a file check loads are bundled too, tree-shaken into the chunks that
// use them; other dependencies stay in node_modules, loaded only by the code that uses them.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const OUT = 'dist/bundle/cli';

// The chunks sit at the depth of dist/src/cli, so paths relative to the package root (fixtures/, package.json) and
// the script worker beside its loader resolve as they do in the compiled sources.
rmSync(fileURLToPath(new URL(OUT, import.meta.url)), { recursive: true, force: true });

// Packages every command loads: bundled, they are one ESM file instead of a dozen CommonJS files resolved and
// wrapped at each start. better-sqlite3's JavaScript still runs only on the first open (src/store/sqlite.cts), and its
// native addon is loaded from node_modules (src/store/db.ts).
const SHARED = ['commander', 'better-sqlite3'];
const SHARED_FILES = new RegExp(`/node_modules/(${SHARED.join('|')})/`);
// Bundled into a chunk of its own, so its modules load as one file when a command paints.
const CHALK_FILES = /\/node_modules\/chalk\//;
// openid-client (with oauth4webapi and the parts of jose it imports: a dozen files from node_modules) and valibot (a
// 200 KB file of which the schemas use a sixth) are loaded by every login and every file a command reads: bundled, they
// cost one chunk each instead. oidc-provider stays outside, with its own copy of jose.
const LOGIN_PACKAGES = ['openid-client', 'oauth4webapi', 'jose', 'valibot'];
const BUNDLED = new Set([...SHARED, 'chalk', ...LOGIN_PACKAGES]);
// Builtins Node has loaded before any of our code runs; a module importing nothing else costs only itself.
const FREE_BUILTINS = new Set(['node:fs', 'node:path', 'node:os', 'node:module']);
const RUNTIME_DIRS = /\/dist\/src\/(core|store|store-rows|cli)\/[^/]+\.c?js$/;

/**
 * The runtime chunk: the bundled packages (with the CommonJS plugin's helpers, ids starting with \0), and the modules
 * of src/core, src/store, src/store-rows (what src/store shares with src/store-pg) and src/cli (not commands or
 * drivers) whose static imports all qualify too or are free builtins, so loading the chunk never drags in another
 * dependency. main.js stays out: `idp --version` loads it alone.
 */
function runtimeMember(getModuleInfo) {
  const verdicts = new Map();
  const member = (id) => {
    if (FREE_BUILTINS.has(id) || SHARED.includes(id) || SHARED_FILES.test(id) || id.startsWith('\0')) return true;
    if (!RUNTIME_DIRS.test(id) || id.endsWith('/cli/main.js')) return false;
    if (verdicts.has(id)) return verdicts.get(id);
    verdicts.set(id, true); // an import cycle among runtime modules does not disqualify them
    const ok = getModuleInfo(id).importedIds.every(member);
    verdicts.set(id, ok);
    return ok;
  };
  return member;
}

let isRuntime;

// '#name' is a package's own subpath import (chalk's vendored helpers): resolved inside the bundled package. A bundled
// package is bundled whichever of its entry points is imported (openid-client imports 'jose/errors').
const packageOf = (id) =>
  id
    .split('/')
    .slice(0, id.startsWith('@') ? 2 : 1)
    .join('/');
const external = (id, importer) => importer !== undefined && /^[^./\0#]/.test(id) && !BUNDLED.has(packageOf(id));
// The build runs with --silent (no progress lines in install and CI logs); warnings are still printed, here.
const onwarn = (warning) => {
  if (warning.code !== 'CIRCULAR_DEPENDENCY') console.error(`rollup: ${warning.message}`);
};

export default [
  {
    input: 'dist/src/cli/main.js',
    external,
    plugins: [
      nodeResolve({ preferBuiltins: true, exportConditions: ['node'] }),
      // better-sqlite3 requires `bindings` only when it is not handed its addon, which idp always does.
      commonjs({ extensions: ['.js', '.cjs'], ignore: ['bindings'] }),
    ],
    output: {
      dir: OUT,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      manualChunks(id, { getModuleInfo }) {
        isRuntime ??= runtimeMember(getModuleInfo);
        if (CHALK_FILES.test(id)) return 'chalk';
        return isRuntime(id) ? 'runtime' : undefined;
      },
    },
    onwarn,
  },
  {
    // The script worker thread (src/script/isolated.ts) is one file of its own, so starting it loads neither commander
    // nor the store.
    input: 'dist/src/script/worker.js',
    external: (id, importer) => importer !== undefined && /^[^./]/.test(id),
    output: { dir: OUT, format: 'es', entryFileNames: '[name].js', inlineDynamicImports: true },
    onwarn,
  },
];
