// `idp store copy` throughput (a script that prints figures, not a test): the demo org plus N imported users copied
// from one data directory into a new one, verify included, as rows per second; the median of a few runs. Run after
// `npm run build`: `node bench/store-copy.js [--users N] [--runs N]`.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, printTable, scratchDir } from './stats.js';

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'idp.js');
const USERS = numberArg('--users', 100_000);
const RUNS = numberArg('--runs', 3);
const scratch = scratchDir('store-copy');

function idp(...args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`idp ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: r.stdout };
}

const source = join(scratch, 'source');
idp('--home', source, 'init', '--quiet');
const csv = join(scratch, 'people.csv');
const lines = ['username,email'];
for (let i = 0; i < USERS; i++) lines.push(`user${i},user${i}@example.com`);
writeFileSync(csv, `${lines.join('\n')}\n`);
idp('--home', source, 'users', 'import', csv, '--quiet');

const runs = [];
for (let run = 0; run < RUNS; run++) {
  const { ms, stdout } = idp('store', 'copy', '--from', source, '--to', join(scratch, `copy-${run}`), '--json');
  runs.push({ ms, rows: JSON.parse(stdout).rows });
}
runs.sort((a, b) => a.ms - b.ms);
const median = runs[runs.length >> 1];
printTable(
  ['what', 'rows', 'wall (median)', 'rows/s'],
  [
    [
      `store copy + verify, ${USERS} users`,
      String(median.rows),
      `${(median.ms / 1000).toFixed(2)} s`,
      String(Math.round(median.rows / (median.ms / 1000))),
    ],
  ],
);
