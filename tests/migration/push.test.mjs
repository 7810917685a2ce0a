// `djedge push` against a local server that follows Cloudflare's documented
// Workers KV API (tests/cloudflare/kv.mjs): bulk writes and deletes in the
// manifest's order with the stamp last, 429s with Retry-After and a 500
// part way retried, keys reported unsuccessful sent again, the pacing held
// under the API's limit, an interrupted push resumed without writing any
// key twice, and the namespace's base checked before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKv } from '../cloudflare/kv.mjs';
import { bigDatabase, loaded, run, sql } from '../edge/snapshots.mjs';

const token = 'cf-test-token-not-a-real-one';

function push(kv, snapshot, namespace, extra = []) {
  return run(['push', '--snapshot', snapshot, '--account-id', 'acc', '--namespace-id', namespace, '--api-url', kv.url,
    '--requests-per-minute', '6000', ...extra], { CLOUDFLARE_API_TOKEN: token });
}

const sorted = (map) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

test('push: full then delta, in order, retried, paced, resumed, on the right base', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'djedge-push-'));
  const db = bigDatabase(dir, 25_000);
  const exported = await run(['export', '--database', `sqlite://${db}`, '--out', join(dir, 'full')]);
  assert.equal(exported.status, 0, exported.stderr);
  const full = loaded(join(dir, 'full'));
  assert.ok(full.manifest.files.length >= 9, 'several put files, so several requests');

  const kv = await startKv({ token, limit: 1000, windowMs: 300_000 });
  t.after(() => kv.close());
  const ns = (name) => kv.state.namespaces.get(`acc/${name}`) ?? new Map();

  await t.test('429s with Retry-After, a 500 and unsuccessful keys are retried; the stamp lands last', async () => {
    kv.state.inject.push({ status: 429, retryAfter: 1 }, { status: 429, retryAfter: 1 }, { unsuccessful: 3 }, { status: 500 });
    const pushed = await push(kv, join(dir, 'full'), 'one');
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.deepEqual(sorted(ns('one')), sorted(full.state), 'the namespace holds exactly the snapshot');
    const writes = kv.state.writes.filter((w) => w.namespace === 'acc/one');
    assert.equal(writes.at(-1).key, 'meta/snapshot', 'the stamp is written last');
    assert.equal(writes.length, full.state.size, 'every key written once, the unsuccessful ones again');
    assert.equal(kv.state.inject.length, 0, 'every injected failure was met');
    assert.match(pushed.stderr, /pushed snapshot [0-9a-f]{12} \(full\)/);
    // Pushed again: the stamp says it is there, nothing is sent.
    const before = kv.state.writes.length;
    const again = await push(kv, join(dir, 'full'), 'one');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already/);
    assert.equal(kv.state.writes.length, before);
  });

  await t.test('the pacing keeps under the API limit', async () => {
    const paced = await startKv({ token, limit: 4, windowMs: 1000 });
    try {
      // 3 requests a second against a limit of 4 a second: never a 429.
      const pushed = await run(['push', '--snapshot', join(dir, 'full'), '--account-id', 'acc', '--namespace-id', 'paced',
        '--api-url', paced.url, '--requests-per-minute', '180', '--state', join(dir, 'paced-state.json')],
      { CLOUDFLARE_API_TOKEN: token });
      assert.equal(pushed.status, 0, pushed.stderr);
      assert.equal(paced.state.rateLimited, 0, 'no request was over the limit');
      assert.deepEqual(sorted(paced.state.namespaces.get('acc/paced')), sorted(full.state));
    } finally {
      await paced.close();
    }
  });

  await t.test('an interrupted push resumes without writing a key twice', async () => {
    const state = join(dir, 'two-state.json');
    kv.state.brokenFrom = kv.state.requests.length + 4; // the stamp read, two files, then a broken API
    const broken = await push(kv, join(dir, 'full'), 'two', ['--attempts', '2', '--state', state]);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /gave up after 2 attempts/);
    assert.ok(!broken.stderr.includes(token), 'no token in the message');
    assert.ok(!ns('two').has('meta/snapshot'), 'no stamp: the edge still names the old snapshot');
    const landed = ns('two').size;
    assert.ok(landed > 0 && landed < full.state.size);
    kv.state.brokenFrom = null;
    const resumed = await push(kv, join(dir, 'full'), 'two', ['--state', state]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`${landed} landed before \\(resumed\\)`));
    const counts = new Map();
    for (const w of kv.state.writes.filter((w) => w.namespace === 'acc/two')) counts.set(w.key, (counts.get(w.key) ?? 0) + 1);
    assert.deepEqual([...counts.values()].filter((n) => n > 1), [], 'no key written twice');
    assert.deepEqual(sorted(ns('two')), sorted(full.state));
  });

  await t.test('a delta goes onto its base only; a full snapshot only into an empty namespace', async () => {
    sql(db, `UPDATE auth_user SET is_active = 0 WHERE username = 'alice';
      DELETE FROM auth_user_groups WHERE user_id IN (SELECT id FROM auth_user WHERE username IN ('bob', 'bulk7'));
      DELETE FROM auth_user WHERE username IN ('bob', 'bulk7');
      UPDATE auth_user SET password = 'md5$other$0123456789abcdef0123456789abcdef' WHERE username = 'bulk9';
      INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
        VALUES ('md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'newcomer', '', '', 'new@example.com', 0, 1, '2025-01-02 03:04:05');`);
    const delta = await run(['export', '--database', `sqlite://${db}`, '--out', join(dir, 'delta'), '--previous', join(dir, 'full')]);
    assert.equal(delta.status, 0, delta.stderr);
    const expected = loaded(join(dir, 'delta'), new Map(full.state)).state;

    // Into an empty namespace a delta would be a fraction of the users.
    const wrong = await push(kv, join(dir, 'delta'), 'empty');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /holds no snapshot but this delta goes onto snapshot/);
    assert.equal(ns('empty').size, 0, 'nothing sent');
    // A full snapshot onto one that holds another would keep stale keys.
    const stale = await run(['export', '--database', `sqlite://${db}`, '--out', join(dir, 'full2')]);
    assert.equal(stale.status, 0, stale.stderr);
    const refused = await push(kv, join(dir, 'full2'), 'one');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /a full snapshot on top would keep the keys it no longer has/);

    const pushed = await push(kv, join(dir, 'delta'), 'one');
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.deepEqual(sorted(ns('one')), sorted(expected));
    assert.ok(!ns('one').has('user/bob') && ns('one').has('user/newcomer'));
    assert.equal(JSON.parse(ns('one').get('user/alice')).is_active, false);
    const writes = kv.state.writes.filter((w) => w.namespace === 'acc/one');
    assert.equal(writes.at(-1).key, 'meta/snapshot', 'the stamp last, after the deletes');
  });

  await t.test('a wrong token is refused with Cloudflare\'s message, and the token is never printed', async () => {
    const refused = await run(['push', '--snapshot', join(dir, 'full'), '--account-id', 'acc', '--namespace-id', 'x',
      '--api-url', kv.url], { CLOUDFLARE_API_TOKEN: 'wrong-token-1234567890' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /Cloudflare refused the request \(403\): Authentication error/);
    assert.ok(!refused.stderr.includes('wrong-token-1234567890'));
    assert.ok(!existsSync(join(dir, 'full', 'x')));
  });
});
