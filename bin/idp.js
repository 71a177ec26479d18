#!/usr/bin/env node
// Launcher: runs the compiled CLI, bundled by esbuild into a few chunks (never tsx at runtime). Node 20's ESM loader
// pays per module, and the bundle loads the code a command needs in a handful of files instead of forty; the
// chunks sit at the same depth as dist/src/cli so paths relative to the package root resolve as in the sources.
import '../dist/bundle/cli/main.js';
