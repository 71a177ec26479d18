// The data directory is closed to group and others: an existing --home left at 0755 is tightened to 0700 when it is
// idp's (empty, or holding only idp's files); a directory shared with other files is left alone and doctor says how.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

test('an existing empty --home at 0755 becomes 0700 when idp creates its org there', async () => {
  const home = join(tempDir('home-mode'), 'org');
  mkdirSync(home, { mode: 0o755 });
  chmodSync(home, 0o755);
  await idpOk(['init', '--quiet', '--home', home]);
  assert.equal(mode(home), 0o700);
});

test("an org's directory opened up to 0755 is closed again by the next command", async () => {
  const home = await seededHome();
  chmodSync(home, 0o755);
  await idpOk(['users', 'list'], { home });
  assert.equal(mode(home), 0o700);
});

test('a 0755 directory that also holds other files is left as it is, and doctor says how to close it', async () => {
  const home = await seededHome();
  writeFileSync(join(home, 'notes.txt'), "mine, not idp's");
  chmodSync(home, 0o755);
  await idpOk(['users', 'list'], { home });
  assert.equal(mode(home), 0o755, 'idp does not change a directory it does not own alone');
  const report = JSON.parse((await runIdp(['doctor', '--json'], { home })).stdout) as {
    checks: { name: string; status: string; fix?: string | null }[];
  };
  const directory = report.checks.find((c) => c.name === 'data directory');
  assert.equal(directory?.status, 'warning');
  assert.equal(directory?.fix, `chmod 700 ${home}`);
});
