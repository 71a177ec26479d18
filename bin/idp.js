#!/usr/bin/env node
// Launcher: runs the compiled CLI, bundled by rollup (rollup.config.mjs) into a handful of chunks, never tsx at
// runtime. Node 20's ESM loader pays about a millisecond per module, and a command loads main.js, the shared runtime
// chunk and its own chunk instead of forty modules.
import '../dist/bundle/cli/main.js';
