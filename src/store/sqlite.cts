// The one place better-sqlite3 is loaded, on the first open of a database: CommonJS, so that bundled or not the
// package runs only when a command opens the store, not when `idp --help` or a command's options are read.
import type Database from 'better-sqlite3';

export function loadSqlite(): typeof Database {
  return require('better-sqlite3') as typeof Database;
}
