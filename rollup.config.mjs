// Bundles the compiled CLI (dist/src) into dist/bundle/cli for bin/idp.js. Node 20's ESM loader costs about a
// millisecond per module on a small machine, so the shared runtime every command needs goes into one chunk, each
// command into its own, and dependencies stay in node_modules, loaded only by the code that uses them.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = 'dist/bundle/cli';

// The chunks sit at the depth of dist/src/cli, so paths relative to the package root (fixtures/, package.json) and
// the script worker beside its loader resolve as they do in the compiled sources.
rmSync(fileURLToPath(new URL(OUT, import.meta.url)), { recursive: true, force: true });

// Builtins Node has loaded before any of our code runs; a module importing nothing else costs only itself.
const FREE_BUILTINS = new Set(['node:fs', 'node:path', 'node:os', 'node:module']);
const RUNTIME_DIRS = /\/dist\/src\/(core|store|cli)\/[^/]+\.js$/;

/**
 * The runtime chunk: modules of src/core, src/store and src/cli (not commands or drivers) whose static imports are all
 * runtime modules or free builtins, so loading the chunk never drags in a heavy dependency. main.js stays out of it:
 * `idp --version` loads main.js alone.
 */
function runtimeMember(getModuleInfo) {
  const verdicts = new Map();
  const member = (id) => {
    if (FREE_BUILTINS.has(id)) return true;
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

export default {
  input: ['dist/src/cli/main.js', 'dist/src/script/worker.js'],
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  output: {
    dir: OUT,
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    manualChunks(id, { getModuleInfo }) {
      isRuntime ??= runtimeMember(getModuleInfo);
      return isRuntime(id) ? 'runtime' : undefined;
    },
  },
  onwarn(warning, warn) {
    if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
  },
};
