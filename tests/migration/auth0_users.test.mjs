// `djedge auth0 users` against the local Auth0 tenant's users-export jobs
// (pending, then completed; a download link that has expired is asked for
// again), and `djedge progress --auth0-users` reconciling a snapshot with a
// known mix: lazily migrated (with and without the edge's record), bulk
// imported, both, missing (and missing though the edge recorded it),
// deactivated in Django after the move, and Auth0 users Django no longer
// has. The expected counts are computed here, from the mix itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTenant } from '../auth0/tenant.mjs';
import { loaded, run } from '../edge/snapshots.mjs';

test('progress reconciled with the users Auth0 holds', async (t) => {
  const tenant = await startTenant({
    seed: {
      apps: [{ name: 'reader', audience: '<management>', scopes: ['read:connections', 'read:users'] }],
      connections: [{ name: 'djedge-users' }, { name: 'elsewhere' }],
    },
  });
  t.after(() => tenant.close());
  const dir = mkdtempSync(join(tmpdir(), 'djedge-auth0-users-'));
  const exported = await run(['export', '--database', 'sqlite://tests/fixtures/demo-django-5.2.sqlite3', '--out', join(dir, 'snap')]);
  assert.equal(exported.status, 0, exported.stderr);
  const users = [...loaded(join(dir, 'snap')).state.entries()]
    .filter(([key]) => key.startsWith('user/')).map(([, value]) => JSON.parse(value));

  // The mix, by position: each active user gets one of six fates.
  const fates = ['lazy', 'lazy-unrecorded', 'bulk', 'both', 'missing', 'missing-recorded'];
  const active = users.filter((u) => u.is_active);
  const inactive = users.filter((u) => !u.is_active);
  assert.ok(active.length >= 12 && inactive.length >= 1);
  const fate = new Map(active.map((u, i) => [u.id, fates[i % fates.length]]));
  const inAuth0 = (f) => ['lazy', 'lazy-unrecorded', 'bulk', 'both'].includes(f);
  const bulk = (f) => ['bulk', 'both'].includes(f);
  const recorded = (f) => ['lazy', 'both', 'missing-recorded'].includes(f);
  const auth0User = (u, marked) => ({ user_id: `auth0|django_${u.id}`, email: u.email, connection: 'djedge-users',
    app_metadata: { django: { id: u.id }, ...(marked ? { djedge: { bulk_import: true } } : {}) } });
  const seeded = [
    ...active.filter((u) => inAuth0(fate.get(u.id))).map((u) => auth0User(u, bulk(fate.get(u.id)))),
    ...inactive.map((u) => auth0User(u, false)), // deactivated after they moved
    { user_id: 'auth0|django_999999', email: 'gone@example.com', connection: 'djedge-users' },
    { user_id: 'auth0|5f1c0ffee', email: 'signup@example.com', connection: 'djedge-users' },
    { user_id: 'auth0|django_1', email: 'other@example.com', connection: 'elsewhere' },
  ];
  await fetch(`${tenant.url}/_test/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users: seeded }) });
  const migrations = [...users].filter((u) => recorded(fate.get(u.id)))
    .map((u) => JSON.stringify({ id: u.id, at: '2026-11-30T12:00:00.000Z' })).join('\n');
  writeFileSync(join(dir, 'migrations.jsonl'), `${migrations}\n`);

  // The first download link handed out has already expired.
  await fetch(`${tenant.url}/_test/expire-exports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"next": 1}' });
  const credentials = { AUTH0_CLIENT_ID: tenant.apps.reader.client_id, AUTH0_CLIENT_SECRET: tenant.apps.reader.client_secret };
  const out = join(dir, 'auth0-users.jsonl');
  const exportedUsers = await run(['auth0', 'users', '--domain', tenant.url, '--connection', 'djedge-users', '--out', out, '--poll-seconds', '1'], credentials);
  assert.equal(exportedUsers.status, 0, exportedUsers.stderr);
  assert.match(exportedUsers.stderr, /expired; asking for a fresh one/);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const ofConnection = seeded.filter((u) => u.connection === 'djedge-users');
  assert.deepEqual(lines.map((u) => u.user_id).sort(), ofConnection.map((u) => u.user_id).sort(), 'the connection\'s users, no other');
  assert.ok(lines.every((u) => Object.keys(u).every((k) => ['user_id', 'email', 'created_at', 'app_metadata'].includes(k))), 'only the fields asked for');

  const progress = await run(['progress', '--snapshot', join(dir, 'snap'), '--migrations', join(dir, 'migrations.jsonl'),
    '--auth0-users', out, '--json', '--now', '2026-12-01T00:00:00Z']);
  assert.equal(progress.status, 0, progress.stderr);
  const report = JSON.parse(progress.stdout);
  const count = (f) => active.filter((u) => fate.get(u.id) === f).length;
  assert.deepEqual(
    [report.auth0.lazily, report.auth0.by_bulk_import, report.auth0.both, report.auth0.missing],
    [count('lazy') + count('lazy-unrecorded'), count('bulk'), count('both'), count('missing') + count('missing-recorded')],
  );
  assert.deepEqual(report.auth0.missing_despite_edge_record.map((e) => e.id).sort(),
    active.filter((u) => fate.get(u.id) === 'missing-recorded').map((u) => u.id).sort());
  assert.deepEqual(report.auth0.inactive_in_auth0.map((e) => e.id).sort(), inactive.map((u) => u.id).sort());
  assert.deepEqual(report.auth0.deleted_in_django.sort(), ['auth0|5f1c0ffee', 'auth0|django_999999']);
  // "Migrated" is now "in Auth0", in every figure.
  assert.equal(report.total.active, active.length);
  assert.equal(report.total.migrated, active.filter((u) => inAuth0(fate.get(u.id))).length);
  const byFormat = Object.values(report.by_format).reduce((sum, c) => sum + c.migrated, 0);
  assert.equal(byFormat, report.total.migrated);

  // The text carries the same figures.
  const text = await run(['progress', '--snapshot', join(dir, 'snap'), '--migrations', join(dir, 'migrations.jsonl'),
    '--auth0-users', out, '--now', '2026-12-01T00:00:00Z']);
  assert.equal(text.status, 0, text.stderr);
  const a = report.auth0;
  assert.ok(text.stdout.includes(`in Auth0: ${a.lazily} lazily, ${a.by_bulk_import} by bulk import, ${a.both} both; ${a.missing} active users missing`), text.stdout);
  assert.match(text.stdout, new RegExp(`${inactive.length} in Auth0 but inactive in Django`));

  // The page, rendered in headless Chromium (Debian's package; scripts/test.sh installs it).
  const page = join(dir, 'report.html');
  const html = await run(['progress', '--snapshot', join(dir, 'snap'), '--migrations', join(dir, 'migrations.jsonl'),
    '--auth0-users', out, '--now', '2026-12-01T00:00:00Z', '--html', page]);
  assert.equal(html.status, 0, html.stderr);
  const source = readFileSync(page, 'utf8');
  // Nothing to fetch: no reference out of the page, and a policy forbidding any.
  assert.match(source, /Content-Security-Policy" content="default-src 'none'/);
  assert.doesNotMatch(source, /\b(src|href)=|url\(|@import|<script/i);
  const chromium = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, 'chromium')}`,
    '--host-resolver-rules=MAP * ~NOTFOUND', '--window-size=1100,2400'];
  const shot = join(dir, 'report.png');
  const screenshot = spawnSync('chromium', [...chromium, `--screenshot=${shot}`, `file://${page}`], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(screenshot.status, 0, screenshot.stderr);
  assert.ok(statSync(shot).size > 10_000, 'a screenshot with something in it');
  const dumped = spawnSync('chromium', [...chromium, '--dump-dom', `file://${page}`], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(dumped.status, 0, dumped.stderr);
  const dom = dumped.stdout;
  for (const id of ['over-time', 'by-format', 'by-last-login']) {
    assert.match(dom, new RegExp(`<figure id="${id}"><svg role="img"`), `the ${id} chart`);
  }
  const svgText = (id) => dom.split(`<figure id="${id}">`)[1].split('</svg>')[0];
  for (const [format, c] of Object.entries(report.by_format)) {
    assert.ok(svgText('by-format').includes(`${c.migrated} of ${c.active} (${c.percent}%)`), `${format} in the chart`);
  }
  const last = report.over_time.at(-1);
  assert.equal(last.moved, report.total.migrated);
  assert.ok(svgText('over-time').includes(`${last.moved} (${last.percent}%)`), 'the last share on the curve');
  assert.ok(dom.includes(`${report.total.migrated} of ${report.total.active} active users (${report.total.percent}%) are in Auth0`));
  assert.ok(dom.includes(`<section id="inactive-in-auth0"><p>${inactive.length} users`));
});
