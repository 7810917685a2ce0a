// The product's one promise, end to end: every user of a Django site whose
// identities Auth0 handles badly (tests/fixtures/identities-django-5.2.sqlite3:
// accented, `|`, email- and phone-shaped and 140-character usernames, Bob and
// bob, no email, an email two accounts share, an email Auth0 refuses,
// 300-character names, 200 groups, django-allauth's verified and unverified
// addresses) either lands in the stand-in Auth0 tenant, which enforces
// Auth0's documented rules for creating users (tests/auth0/tenant.mjs), or is
// named in advance by `djedge audit` with its reason; the audit names nobody
// who lands. By both paths (js/login.js through `djedge serve`, and the bulk
// import), in both identifier modes, with the connection `djedge auth0
// setup` configured for that mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SETUP_SCOPES, startTenant } from '../auth0/tenant.mjs';
import { djedge, run } from './snapshots.mjs';
import { auth0Script } from './support.mjs';

const site = 'tests/fixtures/identities-django-5.2';
const { passwords } = JSON.parse(readFileSync(`${site}.passwords.json`, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'djedge-identities-'));
const snapshot = join(dir, 'snapshot');
/** The snapshot's user records, by username. */
let users;

before(async () => {
  const exported = await run(['export', '--database', `sqlite://${process.cwd()}/${site}.sqlite3`, '--out', snapshot]);
  assert.equal(exported.status, 0, exported.stderr);
  const manifest = JSON.parse(readFileSync(join(snapshot, 'manifest.json'), 'utf8'));
  users = new Map(manifest.files.flatMap((f) => JSON.parse(readFileSync(join(snapshot, f.path), 'utf8')))
    .filter((pair) => pair.key.startsWith('user/')).map((pair) => JSON.parse(pair.value)).map((u) => [u.username, u]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const freePort = () => new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** A tenant with the apps setup and the bulk import use, and the connection set up for `mode`. */
async function tenantFor(mode, edgeUrl) {
  const tenant = await startTenant({
    seed: {
      apps: [
        { name: 'management', audience: '<management>', scopes: SETUP_SCOPES },
        { name: 'importer', audience: '<management>', scopes: ['read:connections', 'create:users', 'read:users'] },
      ],
    },
  });
  const app = (name) => ({ AUTH0_CLIENT_ID: tenant.apps[name].client_id, AUTH0_CLIENT_SECRET: tenant.apps[name].client_secret });
  const setup = await run(['auth0', 'setup', '--domain', tenant.url, '--connection', 'django', '--edge-url', edgeUrl,
    '--snapshot', snapshot, ...(mode === 'username' ? ['--usernames'] : [])], app('management'));
  assert.equal(setup.status, 0, setup.stderr);
  const state = await (await fetch(`${tenant.url}/_test/state`)).json();
  const connection = state.connections.find((c) => c.name === 'django');
  return { tenant, setup, connection, app };
}

async function audit(mode) {
  const result = await run(['audit', '--snapshot', snapshot, '--json', ...(mode === 'username' ? ['--usernames'] : [])]);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

for (const mode of ['email', 'username']) {
  test(`${mode} mode: every user who can log in to Django lands through the edge, or the audit named them first`, async (t) => {
    const token = randomBytes(24).toString('hex');
    const port = await freePort();
    const edgeUrl = `http://127.0.0.1:${port}`;
    const serve = spawn(djedge, ['serve', '--snapshot', snapshot, '--listen', `127.0.0.1:${port}`],
      { env: { ...process.env, DJEDGE_API_TOKEN: token, DJEDGE_IDENTIFIERS: mode }, stdio: 'ignore' });
    t.after(() => serve.kill());
    for (let i = 0; i < 100; i += 1) {
      try {
        if ((await fetch(`${edgeUrl}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).ok) break;
      } catch { /* not up yet */ }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { tenant, setup, connection } = await tenantFor(mode, edgeUrl);
    t.after(() => tenant.close());

    // Setup said what it does about identifiers, and the audit's summary.
    assert.match(setup.stdout, new RegExp(`^DJEDGE_IDENTIFIERS=${mode}$`, 'm'));
    assert.match(setup.stderr, /identifiers: email/);
    assert.match(setup.stderr, /audit of .*: 21 users; in \w+ mode 16 land in Auth0 as they are/);
    if (mode === 'username') {
      assert.equal(connection.options.requires_username, undefined, 'Flexible Identifiers replace requires_username');
      assert.deepEqual(connection.options.attributes.username.validation,
        { min_length: 1, max_length: 128, allowed_types: { email: false, phone_number: false } });
      assert.equal(connection.options.attributes.username.profile_required, false);
      assert.equal(connection.options.attributes.email.profile_required, true);
    } else {
      assert.equal(connection.options.requires_username, false);
      assert.equal(connection.options.attributes, undefined);
    }

    const found = await audit(mode);
    const blocked = new Map(found.blocked.map((b) => [b.username, b]));
    assert.deepEqual(found.by_reason, { invalid_email: 2, no_email: 1, shared_email: 2 });
    assert.deepEqual([...blocked.keys()].sort(), ['bad_email', 'long_local', 'no_email', 'share_a', 'share_b']);
    assert.equal(found.users, 21);
    assert.equal(found.land, 16);

    const login = auth0Script('login.js', 'login', { DJEDGE_URL: edgeUrl, DJEDGE_TOKEN: token }, connection.options.customScripts.login);
    const landed = new Map();
    for (const [username, password] of Object.entries(passwords)) {
      const user = users.get(username);
      const { error, profile } = await login(username, password);
      if (profile) {
        assert.ok(!blocked.has(username), `${username} landed, yet the audit names them`);
        const created = await fetch(`${tenant.url}/_test/script-profile`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ connection: 'django', profile }),
        });
        const text = await created.text();
        assert.equal(created.status, 201, `${username}: the tenant refused the profile: ${text}`);
        landed.set(username, JSON.parse(text));
      } else if (!user.is_active) {
        assert.equal(error?.name, 'UnauthorizedError', username);
      } else {
        assert.ok(blocked.has(username), `${username} cannot log in (${error?.name}: ${error?.message}) and the audit does not say so`);
        assert.equal(error?.name, 'UnauthorizedError', `${username}: a sentence, never "wrong password"`);
      }
    }
    // Everyone active with a password and not named by the audit landed.
    const loginable = Object.keys(passwords).filter((u) => users.get(u).is_active);
    assert.equal(landed.size, loginable.filter((u) => !blocked.has(u)).length);
    assert.equal(landed.size, 14);

    // What landed is what the site knows, within Auth0's rules.
    const stored = (u) => landed.get(u);
    assert.equal(stored('long_names').name.length, 150);
    assert.equal(stored('many_groups').app_metadata.django.groups.length + stored('many_groups').app_metadata.django.groups_left_out, 200);
    assert.ok(found.groups_cut.some((n) => n.username === 'many_groups'));
    for (const [username, verified] of [['plain_pat', true], ['élodie', true], ['verified_v', true], ['pipe|one', false],
      ['unverified_u', false], ['other_verified', false], ['long_names', false]]) {
      assert.equal(stored(username).email_verified, verified, `${username}: email_verified as allauth recorded it`);
    }
    const expectedUsernames = mode === 'email' ? {} : {
      plain_pat: 'plain_pat', 'dot.dash-ok': 'dot.dash-ok', verified_v: 'verified_v', many_groups: 'many_groups',
      long_names: 'long_names', unverified_u: 'unverified_u', other_verified: 'other_verified',
    };
    for (const [username, user] of landed) {
      assert.equal(user.username, expectedUsernames[username], `${username}: the username Auth0 holds`);
    }
    if (mode === 'username') {
      const without = Object.fromEntries(found.without_username.map((n) => [n.username, n.reason]));
      assert.deepEqual(without, {
        élodie: 'username_characters', 'pipe|one': 'username_characters', 'bob@example.org': 'username_email_shaped',
        Bob: 'username_shared_in_lowercase', bob: 'username_shared_in_lowercase', '+15551234567': 'username_phone_shaped',
        ['long_username_'.repeat(10)]: 'username_too_long',
      });
    } else {
      assert.deepEqual(found.without_username, []);
    }
  });

  test(`${mode} mode: the bulk import takes everyone the audit does not name, and Auth0 accepts every one`, async (t) => {
    const { tenant, connection, app } = await tenantFor(mode, 'http://127.0.0.1:9');
    t.after(() => tenant.close());
    const files = join(dir, `import-${mode}`);
    const made = await run(['import-files', '--snapshot', snapshot, '--out', files, ...(mode === 'username' ? ['--usernames'] : [])]);
    assert.equal(made.status, 0, made.stderr);
    const report = JSON.parse(readFileSync(join(files, 'import-report.json'), 'utf8'));
    const found = await audit(mode);
    const leftOut = report.not_imported.map((e) => [e.username, e.reason.split(':')[0]]).sort();
    assert.deepEqual(leftOut, found.blocked.map((b) => [b.username, b.reason]).sort(), 'the import leaves out whom the audit names');
    assert.equal(report.imported, found.land);

    const sent = await run(['auth0-import', '--files', files, '--domain', tenant.url, '--connection-id', connection.id, '--poll-seconds', '1'], app('importer'));
    assert.equal(sent.status, 0, sent.stderr);
    assert.deepEqual(readdirSync(files).filter((f) => f.startsWith('errors-')), [], 'no job reported a failed user');
    const inTenant = (await (await fetch(`${tenant.url}/_test/users?connection=django`)).json()).users;
    assert.equal(inTenant.length, found.land);
    const byId = new Map(inTenant.map((u) => [u.user_id, u]));
    for (const [username, user] of users) {
      const imported = byId.get(`auth0|django_${user.id}`);
      assert.equal(Boolean(imported), !found.blocked.some((b) => b.username === username), username);
      if (imported && mode === 'email') assert.equal(imported.username, undefined, `${username}: no username in email mode`);
    }
  });
}
