// js/login.js, js/get_user.js and js/post_login_action.js, run the way
// Auth0 runs them, against the real Worker in local workerd and `djedge
// serve`, with the static token and with machine tokens from the local
// Auth0 tenant (tests/auth0/tenant.mjs); and against an edge that is down,
// slow or failing: those must be plain Errors, never "wrong password".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { tenantState } from './support.mjs';
import { auth0Action, auth0Script, call, keptForScripts, scriptGlobal, setUpConnection, targets, tenant, token } from './support.mjs';

const worker = { DJEDGE_URL: `${targets.worker}/`, DJEDGE_TOKEN: token };
// The connection as `djedge auth0 setup` left it: its scripts, and the
// configuration they get (machine tokens of the app setup made).
const connection = await setUpConnection();
/** That configuration, pointed at `base` (it names the Worker). */
const withAuth0 = (base, app) => ({
  ...connection.options.configuration,
  DJEDGE_URL: base,
  ...(app ? { DJEDGE_CLIENT_ID: tenant.apps[app].client_id, DJEDGE_CLIENT_SECRET: tenant.apps[app].client_secret } : {}),
});
/** Whether the edge lists a migration record for `id` (the Worker writes it
 * after answering: wait a little). */
async function recorded(base, id) {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (attempt) await new Promise((r) => setTimeout(r, 100));
    let cursor = null;
    do {
      const { json } = await call(base, 'POST', '/v1/migrations', { cursor });
      if (json.migrations.some((m) => m.id === id)) return true;
      cursor = json.cursor;
    } while (cursor);
  }
  return false;
}
const tokenRequests = async () => (await (await fetch(`${tenant.url}/_test/stats`)).json()).tokenRequests;

test('setup deployed the repository\'s scripts, configured for the Worker', async () => {
  const js = (name) => readFileSync(new URL(`../../js/${name}`, import.meta.url), 'utf8');
  assert.equal(connection.options.customScripts.login, js('login.js'));
  assert.equal(connection.options.customScripts.get_user, js('get_user.js'));
  assert.equal(connection.options.configuration.DJEDGE_URL, targets.worker);
  assert.deepEqual([connection.options.import_mode, connection.options.enabledDatabaseCustomization], [true, true]);
});
const loginWith = (configuration) => auth0Script('login.js', 'login', configuration, connection.options.customScripts.login);
const getUserWith = (configuration) => auth0Script('get_user.js', 'getUser', configuration, connection.options.customScripts.get_user);

// A stand-in for a broken Worker: answers by path.
let broken;
let brokenUrl;
let closedUrl;
before(async () => {
  broken = http.createServer((request, response) => {
    if (request.url.startsWith('/slow')) return; // never answers
    if (request.url.startsWith('/html')) {
      response.writeHead(502, { 'content-type': 'text/html' });
      return response.end('<html>Bad gateway</html>');
    }
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end('{"error":"store_unavailable"}');
  });
  await new Promise((resolve) => broken.listen(0, '127.0.0.1', resolve));
  brokenUrl = `http://127.0.0.1:${broken.address().port}`;
  // A port nobody listens on.
  const probe = http.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${probe.address().port}`;
  await new Promise((resolve) => probe.close(resolve));
});
after(() => broken.closeAllConnections() || broken.close());

test('login.js: the right password gives Auth0 the profile', async () => {
  const { error, profile } = await loginWith(worker)('alice', 'wonderland');
  assert.equal(error, null);
  assert.equal(profile.user_id, 'django_12');
  assert.equal(profile.email, 'alice@example.com');
  const byEmail = await loginWith(worker)('Alice@Example.com', 'wonderland');
  // The sandbox's objects have its own prototypes: compare as JSON.
  assert.equal(JSON.stringify(byEmail.profile), JSON.stringify(profile));
});

test('login.js: wrong password, unknown user and unusable password are WrongUsernameOrPasswordError', async () => {
  for (const [login, password] of [['alice', 'wrong'], ['nobody', 'wonderland'], ['unusable_ulla', '']]) {
    const { error, profile } = await loginWith(worker)(login, password);
    assert.equal(error?.name, 'WrongUsernameOrPasswordError', login);
    assert.equal(error.email, login);
    assert.equal(profile, undefined);
  }
});

test('login.js: an inactive user, or one Auth0 could not create, is UnauthorizedError with a sentence saying why', async () => {
  const inactive = await loginWith(worker)('inactive_ian', 'pw-inactive');
  assert.equal(inactive.error?.name, 'UnauthorizedError');
  // A shared email names no one, by the email or by either username.
  for (const [login, password] of [['shared@example.com', 'pw-shared-1'], ['shared_two', 'pw-shared-2']]) {
    const shared = await loginWith(worker)(login, password);
    assert.equal(shared.error?.name, 'UnauthorizedError', login);
    assert.match(shared.error.message, /its own/);
    assert.equal(shared.profile, undefined);
  }
  const noEmail = await loginWith(worker)('no_email', 'pw-no-email');
  assert.equal(noEmail.error?.name, 'UnauthorizedError');
  assert.match(noEmail.error.message, /email address/);
  // A wrong password learns nothing of it.
  assert.equal((await loginWith(worker)('no_email', 'wrong')).error?.name, 'WrongUsernameOrPasswordError');
});

test('get_user.js: a profile, callback(null) when unknown or migrated, errors for inactive and shared', async () => {
  const found = await getUserWith(worker)('RITA@example.com');
  assert.equal(found.error, null);
  const { profile } = await loginWith(worker)(keptForScripts, 'pw-super');
  assert.equal(JSON.stringify(found.profile), JSON.stringify(profile), 'get_user and login give Auth0 the same profile');
  assert.equal(JSON.stringify(profile.metadata.django.groups), '["admins","editors"]', 'app_metadata, as `metadata`');
  assert.equal(profile.app_metadata, undefined);
  const migrated = await getUserWith(worker)('rita@example.com');
  assert.deepEqual([migrated.error, migrated.profile], [null, undefined], 'logged in, so in Auth0: no such user');
  const missing = await getUserWith(worker)('nobody@example.com');
  assert.deepEqual([missing.error, missing.profile], [null, undefined]);
  assert.equal((await getUserWith(worker)('ian@example.com')).error?.name, 'UnauthorizedError');
  const shared = await getUserWith(worker)('shared@example.com');
  assert.equal(shared.error?.name, 'Error');
});

test('a Worker that is down, slow, failing or refusing the token is a plain Error, never a wrong password', async () => {
  const cases = {
    down: { DJEDGE_URL: closedUrl, DJEDGE_TOKEN: token },
    slow: { DJEDGE_URL: `${brokenUrl}/slow`, DJEDGE_TOKEN: token, DJEDGE_TIMEOUT_MS: '300' },
    '503': { DJEDGE_URL: `${brokenUrl}/json`, DJEDGE_TOKEN: token },
    '502 html': { DJEDGE_URL: `${brokenUrl}/html`, DJEDGE_TOKEN: token },
    'wrong token': { DJEDGE_URL: targets.worker, DJEDGE_TOKEN: 'not-the-token' },
    'wrong client secret': { ...withAuth0(targets.worker), DJEDGE_CLIENT_SECRET: 'wrong' },
    'an app without a grant for the edge': withAuth0(targets.worker, 'other'),
    'the tenant down': { ...withAuth0(targets.worker), DJEDGE_AUTH0_DOMAIN: closedUrl },
  };
  for (const [name, configuration] of Object.entries(cases)) {
    for (const run of [() => loginWith(configuration)('alice', 'wonderland'), () => getUserWith(configuration)('alice@example.com')]) {
      const { error, profile } = await run();
      assert.equal(error?.name, 'Error', `${name}: ${error?.name} ${error?.message}`);
      assert.match(error.message, /^djedge: /, name);
      assert.equal(profile, undefined);
    }
  }
});

test('with machine tokens: every kind of login at both adapters, on a couple of token requests in all', async () => {
  for (const key of Object.keys(scriptGlobal)) delete scriptGlobal[key];
  const before = await tokenRequests();
  for (const base of Object.values(targets)) {
    const configuration = withAuth0(base);
    const ok = await loginWith(configuration)('alice', 'wonderland');
    assert.equal(ok.error, null, `${base}: ${ok.error?.message}`);
    assert.equal(ok.profile.metadata.django.id, 12);
    for (const [login, password] of [['alice', 'wrong'], ['nobody', 'x'], ['unusable_ulla', '']]) {
      assert.equal((await loginWith(configuration)(login, password)).error?.name, 'WrongUsernameOrPasswordError', `${base} ${login}`);
    }
    assert.equal((await loginWith(configuration)('inactive_ian', 'pw-inactive')).error?.name, 'UnauthorizedError');
    assert.match((await loginWith(configuration)('shared@example.com', 'pw-shared-2')).error?.message, /its own/);
    assert.equal((await getUserWith(configuration)('ian@example.com')).error?.name, 'UnauthorizedError');
    assert.deepEqual(Object.values(await getUserWith(configuration)('nobody@example.com')), [null, undefined]);
  }
  // Twenty runs in parallel on a cold cache: they share one request.
  for (const key of Object.keys(scriptGlobal)) delete scriptGlobal[key];
  const burst = await Promise.all(Array.from({ length: 20 }, () => loginWith(withAuth0(targets.serve))('alice', 'wonderland')));
  assert.ok(burst.every((r) => r.error === null));
  assert.ok((await tokenRequests()) - before <= 2, `${(await tokenRequests()) - before} token requests`);
});

test('with machine tokens: get_user.js gives login.js\'s profile, then nothing once migrated', async () => {
  const configuration = withAuth0(targets.serve);
  const found = await getUserWith(configuration)('rita@example.com');
  const { profile } = await loginWith(configuration)(keptForScripts, 'pw-super');
  assert.equal(JSON.stringify(found.profile), JSON.stringify(profile));
  assert.deepEqual(Object.values(await getUserWith(configuration)('rita@example.com')), [null, undefined]);
});

test('a cached token the edge refuses is replaced once, and the login goes through', async () => {
  const configuration = withAuth0(targets.worker);
  await loginWith(configuration)('alice', 'wonderland'); // a token is cached
  for (const held of Object.values(scriptGlobal.djedgeTokens)) held.token = `${held.token.slice(0, -8)}AAAAAAAA`;
  const before = await tokenRequests();
  const { error, profile } = await loginWith(configuration)('alice', 'wonderland');
  assert.equal(error, null);
  assert.equal(profile.user_id, 'django_12');
  assert.equal((await tokenRequests()) - before, 1, 'one fresh token');
});

test('the post-login Action restores missing metadata, records the migration, and leaves the rest alone', async () => {
  const connectionName = connection.name;
  // The Action as setup deployed it, with its secrets.
  const state = await tenantState();
  const deployed = state.actions.find((a) => a.name === `djedge-${connectionName}`);
  assert.equal(deployed.deployed.code, readFileSync(new URL('../../js/post_login_action.js', import.meta.url), 'utf8'));
  assert.deepEqual(state.bindings.map((b) => b.display_name), ['add-roles', deployed.name], 'bound after the site\'s own Action');
  for (const base of Object.values(targets)) {
    const secrets = { ...Object.fromEntries(deployed.secrets.map((s) => [s.name, s.value])), DJEDGE_URL: base };
    const action = auth0Action(secrets, deployed.deployed.code);
    // ulla's password is unusable: she came in through get_user and a reset.
    const before = await getUserWith(withAuth0(base))('ulla@example.com');
    assert.equal(before.error, null);
    // (The sandbox's objects have its own prototypes: compare their JSON.)
    const django = JSON.parse(JSON.stringify(before.profile.metadata.django));
    assert.deepEqual(await action(connectionName, { user_id: `auth0|${before.profile.user_id}`, app_metadata: {} }),
      [['setAppMetadata', 'django', django]]);
    assert.ok(await recorded(base, django.id), `${base}: the migration is recorded`);
    assert.deepEqual(Object.values(await getUserWith(withAuth0(base))('ulla@example.com')), [null, undefined], 'now migrated');
    // Metadata present, another connection: nothing is asked or changed.
    assert.deepEqual(await action(connectionName, { user_id: 'auth0|django_12', app_metadata: { django: { id: 12 } } }), []);
    assert.deepEqual(await action('google-oauth2', { user_id: 'google-oauth2|123', app_metadata: {} }), []);
    // Deactivated in Django: denied. Not a Django user: left alone.
    assert.deepEqual(await action(connectionName, { user_id: 'auth0|django_13', app_metadata: {} }), [['deny', 'This account is inactive.']]);
    assert.deepEqual(await action(connectionName, { user_id: 'auth0|65f0c0ffee', app_metadata: {} }), []);
    // The edge down: the login goes on.
    const down = auth0Action({ ...secrets, DJEDGE_URL: closedUrl }, deployed.deployed.code);
    assert.deepEqual(await down(connectionName, { user_id: 'auth0|django_12', app_metadata: {} }), []);
  }
});
