// What the benchmark scripts share: their command-line numbers, a scratch directory removed at exit, percentiles,
// running jobs a few at a time with each one's latency, and printing figures against their targets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function numberArg(flag, fallback) {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A fresh directory under the system's temporary one, removed when the process exits. */
export function scratchDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `idp-bench-${label}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const median = (values) => percentile(values, 50);

/**
 * Runs `count` jobs, `concurrency` at a time; returns each job's latency in ms (its own figure when it returns a number,
 * for jobs that time only part of their work) and the wall time of the whole batch. Given `failures` (an array), a job
 * that throws goes there, without a latency, instead of ending the batch.
 */
export async function batch(count, concurrency, job, failures) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      let own;
      try {
        own = await job(i);
      } catch (err) {
        if (!failures) throw err;
        failures.push(err);
        continue;
      }
      latencies.push(typeof own === 'number' ? own : performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, wallMs: performance.now() - started };
}

/** A batch's figures: p50, p95 and throughput. */
export function summary(label, { latencies, wallMs }) {
  return {
    label,
    p50: median(latencies),
    p95: percentile(latencies, 95),
    perSecond: (latencies.length / wallMs) * 1000,
    n: latencies.length,
  };
}

export function verdict(ok) {
  return ok ? 'PASS' : 'MISS';
}

/** A table of strings, columns padded to their widest cell. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}
