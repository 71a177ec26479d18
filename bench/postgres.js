// The PostgreSQL server bench/serve's --postgres mode runs against: its URL from the environment .ci/with-pg.sh sets, a
// fresh database per measured mode (dropped after), the whole cluster's CPU time from /proc, and a database's transactions.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** The server's URL (no password in it: pg reads PGPASSWORD); without one, a line saying how to run and exit 2. */
export function serverUrl(script) {
  const url = process.env.IDP_TEST_PG_URL;
  if (url) return url;
  console.error(
    `${script} --postgres needs a PostgreSQL server whose role may create databases: run \`bash .ci/with-pg.sh node ${script} --postgres\` (or set IDP_TEST_PG_URL, and PGPASSWORD)`,
  );
  process.exit(2);
}

/** /proc/<pid>/stat's fields after the command name (which may hold spaces): [1] ppid, [11..14] utime stime cutime cstime. */
function statFields(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks a process has used, with those of its children that have ended and been reaped (cutime, cstime): a backend
 * or autovacuum worker that exits between two readings has its time added to the postmaster's.
 */
function ticksWithReaped(fields) {
  return fields ? Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) : 0;
}

/** The pids whose parent is `parent`: the kernel's list when it keeps one, else a walk over /proc. */
function childrenOf(parent) {
  try {
    return readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && statFields(p)?.[1] === String(parent));
  }
}

/**
 * The cluster behind `url`, through one connection of the bench's own: databases made for a mode, their transaction
 * counts, and the CPU time of every process of the cluster (the postmaster, its backends and background workers).
 */
export async function openCluster(url, tickMs) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const { rows } = await admin.query('SELECT pg_backend_pid() AS pid, version() AS version');
  // The role needs no superuser's rights for this: the bench's own backend is a child of the postmaster.
  const postmaster = Number(statFields(rows[0].pid)?.[1]);
  if (!(postmaster > 1)) throw new Error('cannot find the PostgreSQL server process in /proc: is it on this machine?');
  const made = new Set();

  async function drop(name) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    made.delete(name);
  }

  return {
    version: String(rows[0].version).split(' on ')[0],
    /** A new, empty database owned by the role, and its URL (the server's URL with the database's name). */
    async createDatabase() {
      const name = `idp_bench_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE "${name}"`);
      made.add(name);
      const target = new URL(url);
      target.pathname = `/${name}`;
      return { name, url: target.href };
    },
    drop,
    /**
     * Committed and rolled-back transactions in `name` so far, once its connections have all ended: a backend hands its
     * counts to the statistics only now and then (at most once a second, or 10 s later when idle), and always as it exits.
     */
    async transactions(name) {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const { rows: stats } = await admin.query(
          'SELECT numbackends, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1',
          [name],
        );
        const [row] = stats;
        if (row && Number(row.numbackends) === 0)
          return { committed: Number(row.xact_commit), rolledBack: Number(row.xact_rollback) };
        await sleep(50);
      }
      throw new Error(`connections to ${name} still open 10 s after its servers stopped`);
    },
    /** CPU time (ms) of the whole cluster so far; only differences between two readings mean anything. */
    cpuMs() {
      let ticks = ticksWithReaped(statFields(postmaster));
      for (const child of childrenOf(postmaster)) ticks += ticksWithReaped(statFields(child));
      return ticks * tickMs;
    },
    async close() {
      try {
        for (const name of [...made]) await drop(name);
      } finally {
        await admin.end();
      }
    },
  };
}
