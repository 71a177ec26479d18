// Runs every compiled test file under dist/test with node's test runner, then, when a PostgreSQL server is given
// (IDP_TEST_PG_URL, which .ci/with-pg.sh sets), the suites listed in POSTGRES_SUITES a second time with their orgs on
// it (IDP_TEST_STORE=postgres). Arguments keep only the files whose path contains one of them, in both passes.
// IDP_TEST_STORE set by the caller runs one pass, on that engine. Node 20 does not expand globs in `node --test`, so
// the files are listed here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * The suites that run on PostgreSQL too: the flow engine and every JIT decision, linking, MFA and lockout, apply,
 * the serve-mode relying party, the browser and My Account, and the CLI on an org in a database. Of the others, most
 * look at the SQLite file itself (bytes unchanged, WAL, file modes) or exercise no store; the passkey ceremonies,
 * connector settings and script templates pass on PostgreSQL too (`IDP_TEST_STORE=postgres bash .ci/with-pg.sh node
 * test/run.js NAME`) but are left out to keep the suite under ten minutes: what they store is in the store contract,
 * which runs on both engines in the first pass, as do the PostgreSQL adapter's own tests and two instances of idp
 * serve on one database.
 */
const POSTGRES_SUITES = [
  // the flow engine in process: JIT decisions, linking, MFA, lockout, scripts, apply, the admin use cases (each
  // file's stores come from test/helpers/login.ts, which puts them on PostgreSQL)
  'integration/admin-use-cases',
  'integration/apply',
  'integration/identity-takeover',
  'integration/jit-prompt-race',
  'integration/login-jit',
  'integration/loopback-mfa',
  'integration/options-timing',
  'integration/passkey-cases',
  'integration/script-flow',
  'integration/script-flow-hostile',
  'integration/terminal-injection',
  // the CLI on an org in a database
  'e2e/apps',
  'e2e/audit',
  'e2e/connections',
  'e2e/mfa',
  'e2e/mfa-choice',
  // idp serve: the relying party, the browser, My Account, passkeys
  'e2e/account',
  'e2e/serve-browser',
  'e2e/serve-headers',
  'e2e/serve-myaccount',
  'e2e/serve-myaccount-factors',
  'e2e/serve-public-url',
  'e2e/serve-rp',
  'e2e/serve-switch',
];

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.js') && (only.length === 0 || only.some((o) => path.includes(o))))
      files.push(path);
  }
})(root);
files.sort();

function pass(list, env) {
  if (list.length === 0) return 0;
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...list], { stdio: 'inherit', env });
  return result.status ?? 1;
}

const sqlite = pass(files, process.env);
const onPostgres = files.filter((f) => POSTGRES_SUITES.some((s) => f.endsWith(`/${s}.test.js`)));
const postgres =
  process.env.IDP_TEST_STORE || !process.env.IDP_TEST_PG_URL
    ? 0
    : pass(onPostgres, { ...process.env, IDP_TEST_STORE: 'postgres' });
process.exit(sqlite || postgres);
