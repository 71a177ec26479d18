#!/usr/bin/env node
// Launcher: runs the compiled CLI (never tsx at runtime).
import '../dist/src/cli/main.js';
