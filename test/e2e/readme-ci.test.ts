// The README's "Use in CI" example, taken out of README.md itself and run as written: each fenced block whose first
// line names a file (`# policy/idp.yaml: ...`) is written there, and the workflow's `run:` steps from `idp init` on
// run in bash, with `idp` on PATH, from a fresh workspace. Every one must exit 0, so the docs cannot drift again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { childEnv, IDP_BIN, ROOT, tempDir } from '../helpers/idp.js';

/** The README's "## Use in CI" section: its files by the path each block's first comment line names. */
function ciExample(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Use in CI\n');
  assert.ok(start >= 0, 'the README has a "## Use in CI" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const files = new Map<string, string>();
  for (const [, body] of section.matchAll(/^```[\w-]*\n([\s\S]*?)^```$/gm)) {
    const path = /^# ([\w./-]+\.ya?ml)\b/.exec(body!)?.[1];
    if (path) files.set(path, body!);
  }
  return files;
}

/** The workflow's shell steps, from the first that runs `idp init` (installing idp is the test's own build). */
function runSteps(workflow: string): string[] {
  const jobs = Object.values((parse(workflow) as { jobs: Record<string, { steps: { run?: string }[] }> }).jobs);
  const runs = jobs.flatMap((job) => job.steps.flatMap((step) => (step.run === undefined ? [] : [step.run])));
  const first = runs.findIndex((run) => /^idp init\b/.test(run));
  assert.ok(first >= 0, `the workflow runs idp init: ${runs.join(' | ')}`);
  return runs.slice(first);
}

test("the README's CI example (policy, scenarios, workflow) runs as written from an empty org, and every step exits 0", () => {
  const files = ciExample();
  const workflowPath = [...files.keys()].find((p) => p.startsWith('.github/workflows/'));
  assert.ok(workflowPath, `a workflow block; found: ${[...files.keys()].join(', ')}`);
  assert.ok(files.has('policy/idp.yaml'), 'the policy the workflow applies is in the README');
  const scenarios = [...files.keys()].filter((p) => p.startsWith('policy/scenarios/'));
  assert.ok(scenarios.length > 0, 'and its scenario files');

  // Meaningful, not just green: JIT on and off, and MFA asserted, in what CI checks.
  const scenarioText = scenarios.map((p) => files.get(p)!).join('\n');
  for (const must of ['jit: provision', 'jit: pass-through', 'urn:idp:acr:mfa', 'MFA_NEEDS_LOCAL_USER'])
    assert.ok(scenarioText.includes(must), `the scenarios check ${must}`);

  const workspace = tempDir('ci-workspace');
  for (const [path, text] of files) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  const bin = tempDir('ci-bin');
  writeFileSync(join(bin, 'idp'), `#!/bin/sh\nexec '${process.execPath}' '${IDP_BIN}' "$@"\n`);
  chmodSync(join(bin, 'idp'), 0o755);
  const env = childEnv({ env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: tempDir('runner-temp') } });

  const steps = runSteps(files.get(workflowPath)!);
  let last = '';
  for (const step of steps) {
    const r = spawnSync('bash', ['-eo', 'pipefail', '-c', step], { cwd: workspace, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `${step}\nexit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    last = r.stdout;
  }
  assert.match(last, /(\d+) passed, 0 failed/);
  assert.ok(Number(/(\d+) passed/.exec(last)![1]) >= 4, last);
  const report = join(workspace, 'report.xml');
  assert.ok(existsSync(report), 'the JUnit report the workflow uploads');
  assert.match(readFileSync(report, 'utf8'), /failures="0"/);
});
