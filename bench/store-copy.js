// `idp store copy` throughput (a script that prints figures, not a test): the demo org plus N imported users copied
// from one data directory into a new one, verify included, as rows per second; the median of a few runs. With
// --postgres (the server in IDP_TEST_PG_URL) or --to postgres://USER@HOST:PORT/DB, each run copies SQLite -> a new
// PostgreSQL database -> a new data directory instead, one figure per direction; the URL's role must be allowed to
// create databases (each run gets one, dropped afterwards), its password in PGPASSWORD or ~/.pgpass.
// Run after `npm run build`: `node bench/store-copy.js [--users N] [--runs N] [--postgres | --to URL]`; with a
// throwaway server: `bash .ci/with-pg.sh node bench/store-copy.js --postgres`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, printTable, scratchDir } from './stats.js';

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'idp.js');
const USERS = numberArg('--users', 100_000);
const RUNS = numberArg('--runs', 3);
const scratch = scratchDir('store-copy');

function stringArg(flag) {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const server = stringArg('--to') ?? (process.argv.includes('--postgres') ? process.env.IDP_TEST_PG_URL : undefined);
if (process.argv.includes('--postgres') && !server) {
  console.error('--postgres needs IDP_TEST_PG_URL: run it as bash .ci/with-pg.sh node bench/store-copy.js --postgres');
  process.exit(2);
}
// The org's sealing key on the PostgreSQL side: one for the whole bench, never written anywhere.
const env = { ...process.env, NO_COLOR: '1', IDP_SEAL_KEY: randomBytes(32).toString('base64url') };
delete env.IDP_SEAL_KEY_FILE;
delete env.IDP_STORE;

function idp(...args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`idp ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: r.stdout };
}

/** One copy with its wall time (process start included) and the command's own time (copy and verify). */
function copy(from, to) {
  const { ms, stdout } = idp('store', 'copy', '--from', from, '--to', to, '--json');
  const doc = JSON.parse(stdout);
  return { ms, rows: doc.rows, ownMs: doc.seconds * 1000 };
}

const source = join(scratch, 'source');
idp('--home', source, 'init', '--quiet');
const csv = join(scratch, 'people.csv');
const lines = ['username,email'];
for (let i = 0; i < USERS; i++) lines.push(`user${i},user${i}@example.com`);
writeFileSync(csv, `${lines.join('\n')}\n`);
idp('--home', source, 'users', 'import', csv, '--quiet');

const directions = server ? { 'SQLite -> PostgreSQL': [], 'PostgreSQL -> SQLite': [] } : { 'SQLite -> SQLite': [] };

if (server) {
  const { default: pg } = await import('pg');
  /** Runs SQL on the server's own database (the URL's), for making and dropping the runs' databases. */
  const onServer = async (sql) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  for (let run = 0; run < RUNS; run++) {
    const name = `idp_bench_${randomBytes(5).toString('hex')}`;
    await onServer(`CREATE DATABASE "${name}"`);
    try {
      const url = new URL(server);
      url.pathname = `/${name}`;
      directions['SQLite -> PostgreSQL'].push(copy(source, url.href));
      directions['PostgreSQL -> SQLite'].push(copy(url.href, join(scratch, `back-${run}`)));
    } finally {
      await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  }
} else {
  for (let run = 0; run < RUNS; run++) directions['SQLite -> SQLite'].push(copy(source, join(scratch, `copy-${run}`)));
}

printTable(
  ['store copy + verify', 'users', 'rows', 'wall (median)', 'rows/s', 'in the command', 'rows/s'],
  Object.entries(directions).map(([what, runs]) => {
    const wall = [...runs].sort((a, b) => a.ms - b.ms)[runs.length >> 1];
    const own = [...runs].sort((a, b) => a.ownMs - b.ownMs)[runs.length >> 1];
    return [
      what,
      String(USERS),
      String(wall.rows),
      `${(wall.ms / 1000).toFixed(2)} s`,
      String(Math.round(wall.rows / (wall.ms / 1000))),
      `${(own.ownMs / 1000).toFixed(2)} s`,
      String(Math.round(own.rows / (own.ownMs / 1000))),
    ];
  }),
);
