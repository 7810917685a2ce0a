// `djedge auth0 setup` and `finish` against the local Auth0 tenant
// (tests/auth0/tenant.mjs, which follows Auth0's documented Management API;
// the real one is out of reach here). scripts/edge-up.sh ran setup once for
// the connection the other tests use; here: a dry run writes nothing, a
// second run creates nothing, every option the site had survives, and
// finish ends a migration on a connection of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { auth0Script, setUpConnection, targets, tenant, tenantState } from '../edge/support.mjs';
import { EXISTING_CONNECTION } from '../auth0/tenant.mjs';

const djedge = fileURLToPath(new URL('../../target/release/djedge', import.meta.url));
const management = { AUTH0_CLIENT_ID: tenant.apps.management.client_id, AUTH0_CLIENT_SECRET: tenant.apps.management.client_secret };

function run(...args) {
  const result = spawnSync(djedge, ['auth0', ...args, '--domain', tenant.url], { encoding: 'utf8', env: { ...process.env, ...management } });
  assert.equal(result.status, 0, result.stderr);
  return result;
}
const setup = (connection, ...more) => run('setup', '--connection', connection, '--edge-url', targets.worker, ...more);
const writes = async () => (await (await fetch(`${tenant.url}/_test/stats`)).json()).managementWrites;
const counts = (state) => Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.length]));

test('the site\'s own connection options survive setup, and its configuration is written in the clear', async () => {
  const { options } = await setUpConnection();
  for (const [key, value] of Object.entries(EXISTING_CONNECTION.options)) {
    if (key === 'customScripts' || key === 'configuration') continue;
    assert.deepEqual(options[key], value, key);
  }
  assert.equal(options.customScripts.change_password, EXISTING_CONNECTION.options.customScripts.change_password);
  assert.deepEqual(Object.keys(options.configuration).sort(),
    ['DJEDGE_AUDIENCE', 'DJEDGE_AUTH0_DOMAIN', 'DJEDGE_CLIENT_ID', 'DJEDGE_CLIENT_SECRET', 'DJEDGE_URL']);
  for (const value of Object.values(options.configuration)) assert.doesNotMatch(value, /^2\.0\$/, 'never ciphertext read back');
});

test('a dry run writes nothing; a second run creates nothing and prints the same settings', async () => {
  const before = await tenantState();
  const writesBefore = await writes();
  const dry = setup('djedge-users', '--dry-run');
  assert.equal(await writes(), writesBefore, 'dry: no write');
  assert.match(dry.stderr, /would update the connection djedge-users/);
  const again = setup('djedge-users');
  const after = await tenantState();
  assert.deepEqual(counts(after), counts(before), 'nothing new');
  assert.deepEqual(after.bindings.map((b) => b.action.id), before.bindings.map((b) => b.action.id));
  assert.equal(again.stdout, dry.stdout, 'the same settings');
  assert.match(again.stdout, /^DJEDGE_AUTH0_DOMAIN=http:\/\/127\.0\.0\.1:\d+\nDJEDGE_AUTH0_AUDIENCE=.+\nDJEDGE_AUTH0_CLIENT_IDS=.+\nDJEDGE_IDENTIFIERS=email\n$/);
  // The scripts still reach the Worker with the app's tokens.
  const { options } = await setUpConnection();
  const { error, profile } = await auth0Script('login.js', 'login', options.configuration, options.customScripts.login)('alice', 'wonderland');
  assert.equal(error, null);
  assert.equal(profile.user_id, 'django_12');
});

test('setup makes a new connection from nothing, and finish ends its migration keeping its options', async () => {
  const name = 'djedge-finish-test';
  const before = counts(await tenantState());
  const created = setup(name);
  assert.match(created.stderr, /create the database connection djedge-finish-test/);
  const state = await tenantState();
  assert.deepEqual(counts(state), { ...before, connections: before.connections + 1, clients: before.clients + 1, grants: before.grants + 1, actions: before.actions + 1, bindings: before.bindings + 1 });
  const writesBefore = await writes();
  run('finish', '--connection', name, '--dry-run');
  assert.equal(await writes(), writesBefore, 'dry: no write');
  run('finish', '--connection', name);
  const { options } = await setUpConnection(name);
  assert.equal(options.import_mode, true, 'import mode stays on');
  assert.equal(options.configuration, undefined, 'nothing left for the scripts to read');
  // The finished scripts answer "no such user" without calling anything.
  const noFetch = { DJEDGE_URL: 'http://127.0.0.1:1' };
  assert.deepEqual(Object.values(await auth0Script('login.js', 'login', noFetch, options.customScripts.login)('alice', 'wonderland')), [null, undefined]);
  assert.deepEqual(Object.values(await auth0Script('get_user.js', 'getUser', noFetch, options.customScripts.get_user)('alice@example.com')), [null, undefined]);
  // The other connection is untouched.
  assert.ok((await setUpConnection()).options.customScripts.login.includes('/v1/login'));
});

test('a Management API app without the scopes gets one clear sentence, not a stack', () => {
  const result = spawnSync(djedge, ['auth0', 'setup', '--connection', 'x', '--edge-url', targets.worker, '--domain', tenant.url],
    { encoding: 'utf8', env: { ...process.env, AUTH0_CLIENT_ID: tenant.apps.other.client_id, AUTH0_CLIENT_SECRET: tenant.apps.other.client_secret } });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^djedge: Auth0 refused the client credentials: 403 /);
  assert.doesNotMatch(result.stderr, new RegExp(tenant.apps.other.client_secret));
});
