// What the push and sync tests share: databases to export, djedge run
// without blocking (the local APIs answer from the test's own process),
// and a snapshot loaded the way its manifest says.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

export const djedge = process.env.DJEDGE_BIN ?? 'target/release/djedge';

/** A copy of the demo database with `extra` more users: several KV files. */
export function bigDatabase(dir, extra) {
  const db = join(dir, 'db.sqlite3');
  copyFileSync('tests/fixtures/demo-django-5.2.sqlite3', db);
  sql(db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${extra})
    INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
    SELECT 'md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'bulk' || i, '', '', 'bulk' || i || '@example.com', 0, 1, '2025-01-02 03:04:05' FROM n`);
  return db;
}

export function sql(db, statements) {
  const run = spawnSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()', db, statements], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
}

/** Runs djedge without blocking this process (the local API answers from it). */
export function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(djedge, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** What loading the snapshot in `dir` onto `state` leaves, per its manifest. */
export function loaded(dir, state = new Map()) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  for (const file of manifest.files) {
    const items = JSON.parse(readFileSync(join(dir, file.path), 'utf8'));
    if (file.path.endsWith('delete.json')) items.forEach((key) => state.delete(key));
    else items.forEach(({ key, value }) => state.set(key, value));
  }
  return { state, manifest };
}

