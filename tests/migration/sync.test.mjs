// `djedge sync` from a changing Django database to the real Worker in local
// workerd, through wrangler's local KV (`--local`), with `--edge` waiting
// for /v1/health: after each run the Worker answers per the database's new
// state (a deactivation, a deletion, a password change, a new user), and a
// run killed part way through its push is completed by the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { djedge, run, sql } from '../edge/snapshots.mjs';

const token = 'sync-test-token-0123456789';
const port = Number(process.env.DJEDGE_SYNC_TEST_PORT ?? 8790);
const edge = `http://127.0.0.1:${port}`;

async function login(username, password) {
  const response = await fetch(`${edge}/v1/login`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return response.status;
}

async function startWorker(persist) {
  const env = join(persist, '..', 'worker.env');
  writeFileSync(env, `DJEDGE_API_TOKEN=${token}\n`, { mode: 0o600 });
  const worker = spawn('node', ['scripts/workerd.mjs', '--persist-to', persist, '--port', String(port), '--env-file', env], { stdio: 'ignore' });
  for (let i = 0; i < 120; i += 1) {
    try {
      if ((await fetch(`${edge}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).ok) return worker;
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  worker.kill();
  throw new Error('the Worker did not come up');
}

test('sync keeps the Worker in step with Django, and a killed run is completed by the next', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'djedge-sync-'));
  const db = join(dir, 'db.sqlite3');
  copyFileSync('tests/fixtures/demo-django-5.2.sqlite3', db);
  const persist = join(dir, 'wrangler');
  const worker = await startWorker(persist);
  t.after(() => worker.kill());
  const stateDir = join(dir, 'sync');
  const sync = (extra = []) => run(['sync', '--database', `sqlite://${db}`, '--state-dir', stateDir, '--local',
    '--persist-to', persist, '--edge', edge, '--edge-timeout', '60', ...extra], { DJEDGE_API_TOKEN: token });
  const state = () => JSON.parse(readFileSync(join(stateDir, 'sync-state.json'), 'utf8'));

  const first = await sync();
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /answers from snapshot/);
  assert.equal(await login('alice', 'wonderland'), 200);
  assert.equal(await login('user_md5', 'pw-md5'), 200);
  assert.equal(await login('newcomer', 'pw-pbkdf2_sha256'), 401);

  sql(db, `UPDATE auth_user SET is_active = 0 WHERE username = 'alice';
    DELETE FROM auth_user_groups WHERE user_id = (SELECT id FROM auth_user WHERE username = 'user_md5');
    DELETE FROM auth_user WHERE username = 'user_md5';
    UPDATE auth_user SET password = (SELECT password FROM auth_user WHERE username = 'user_pbkdf2_sha1') WHERE username = 'legacy_sha1';
    INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
      SELECT password, NULL, 0, 'newcomer', '', '', 'newcomer@example.com', 0, 1, '2025-01-02 03:04:05' FROM auth_user WHERE username = 'user_pbkdf2_sha256';`);
  const second = await sync();
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /\(delta\)/);
  assert.equal(await login('alice', 'wonderland'), 403, 'deactivated');
  assert.equal(await login('user_md5', 'pw-md5'), 401, 'deleted');
  assert.equal(await login('legacy_sha1', 'pw-sha1'), 401, 'the old password no longer');
  assert.equal(await login('legacy_sha1', 'pw-pbkdf2_sha1'), 200, 'the new one');
  assert.equal(await login('newcomer', 'pw-pbkdf2_sha256'), 200, 'a new user');

  // Nothing changed: no new snapshot, the edge still checked.
  const idle = await sync();
  assert.equal(idle.status, 0, idle.stderr);
  assert.match(idle.stderr, /nothing changed/);

  // Killed while its push is under way, then run again.
  sql(db, `UPDATE auth_user SET is_active = 1 WHERE username = 'alice';
    UPDATE auth_user SET is_active = 0 WHERE username = 'newcomer';`);
  const child = spawn(djedge, ['sync', '--database', `sqlite://${db}`, '--state-dir', stateDir, '--local',
    '--persist-to', persist], { stdio: 'ignore', detached: true, env: { ...process.env, DJEDGE_API_TOKEN: token } });
  const pushedBefore = state().pushed;
  for (let i = 0; i < 600 && !state().pending; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(state().pending, 'the run got as far as its push');
  process.kill(-child.pid, 'SIGKILL'); // it and its wrangler
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(state().pushed, pushedBefore, 'the killed push is not taken for done');
  const rerun = await sync();
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /finishing the push of snapshot-/);
  assert.equal(await login('alice', 'wonderland'), 200, 'active again');
  assert.equal(await login('newcomer', 'pw-pbkdf2_sha256'), 403, 'deactivated');
  assert.equal(state().pending, null);
  const kept = readdirSync(join(stateDir, 'snapshots'));
  assert.ok(kept.length <= 4 && kept.includes(state().pushed), `${kept}`);
  assert.ok(kept.every((name) => !name.includes('partial')), 'no staging directory left');
  assert.ok(existsSync(join(stateDir, 'snapshots', state().pushed, 'push-state.json')));
});
