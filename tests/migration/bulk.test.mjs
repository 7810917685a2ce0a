// The bulk path against the real edge: migration records downloaded from the
// Worker (`djedge migrations`) keep the users who logged in out of the
// Auth0 import files, and `djedge progress` counts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getUser, login, targets } from '../edge/support.mjs';

const djedge = fileURLToPath(new URL('../../target/release/djedge', import.meta.url));
const snapshot = process.env.DJEDGE_SNAPSHOT;

test('users who logged in through the Worker are left out of the import files', async (t) => {
  const { json: sam } = await login(targets.worker, 'staff_sam', 'pw-staff');
  const id = sam.app_metadata.django.id;
  let lines = [];
  for (let attempt = 0; attempt < 50 && !lines.some((r) => r.id === id); attempt += 1) {
    if (attempt) await new Promise((r) => setTimeout(r, 100)); // written after the answer
    lines = execFileSync(djedge, ['migrations', '--edge', targets.worker], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
  const record = lines.find((r) => r.id === id);
  assert.ok(record, `no record for ${id}`);

  const dir = mkdtempSync(join(tmpdir(), 'djedge-bulk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const migrations = join(dir, 'migrations.jsonl');
  writeFileSync(migrations, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  execFileSync(djedge, ['import-files', '--snapshot', snapshot, '--out', join(dir, 'import'), '--migrations', migrations]);
  const users = JSON.parse(readFileSync(join(dir, 'import', 'users-00000.json'), 'utf8'));
  assert.ok(!users.some((u) => u.user_id === sam.user_id), 'sam migrated lazily: not imported again');
  const report = JSON.parse(readFileSync(join(dir, 'import', 'import-report.json'), 'utf8'));
  assert.ok(report.not_imported.some((e) => e.id === id && e.reason.startsWith('migrated')));
  // An imported user carries the profile the Worker gives: the same Auth0 id
  // whichever path moves them.
  for (const imported of users) {
    const { status, json: profile } = await getUser(targets.worker, imported.email);
    if (imported.blocked) {
      assert.equal(status, 403, 'inactive in Django: blocked in the file, refused at the edge');
      continue;
    }
    for (const key of ['user_id', 'email', 'name', 'given_name', 'family_name', 'email_verified']) {
      assert.deepEqual(imported[key], profile[key], `${imported.user_id} ${key}`);
    }
    // The same Django metadata; the file's users are also marked as the
    // bulk import's (what `djedge progress --auth0-users` tells them by).
    assert.deepEqual(imported.app_metadata, { ...profile.app_metadata, djedge: { bulk_import: true } }, imported.user_id);
  }

  const progress = JSON.parse(execFileSync(djedge, ['progress', '--snapshot', snapshot, '--migrations', migrations, '--json'], { encoding: 'utf8' }));
  const activeMigrated = lines.filter((r) => r.id !== 13).length; // 13: inactive_ian never logs in
  assert.equal(progress.total.migrated, activeMigrated);
});
