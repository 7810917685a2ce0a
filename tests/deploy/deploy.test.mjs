// `djedge deploy` from the wheel's binary, with nothing else on its PATH
// (no cargo, rustc, node or wrangler), against the local Cloudflare API
// (tests/cloudflare/api.mjs, which runs what is uploaded to it in local
// workerd) and the local Auth0 tenant (tests/auth0/tenant.mjs): both
// written from the vendors' documentation, the real ones being out of
// reach here. The Worker running from the uploaded bytes answers the demo's
// logins through the login script setup left on the connection; a dry run
// writes nothing; a run that fails after the upload is taken up by the next
// without uploading again; a run with nothing to do writes nothing.
//
//   DJEDGE_BIN=…/djedge node --test tests/deploy/   (a djedge built with
//   DJEDGE_WORKER_DIR, as the wheel is; after scripts/edge-up.sh and
//   `source target/edge/env`, for the tenant)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startCloudflare } from '../cloudflare/api.mjs';
import { auth0Script, setUpConnection, tenant } from '../edge/support.mjs';

const djedge = process.env.DJEDGE_BIN;
assert.ok(djedge, 'set DJEDGE_BIN to a djedge built with DJEDGE_WORKER_DIR (the wheel\'s)');
const cloudflareToken = 'cf-deploy-test-token-not-a-real-one';
const accountId = 'abcdef0123456789abcdef0123456789';
const connection = 'djedge-deploy';
const database = `sqlite://${process.cwd()}/tests/fixtures/demo-django-5.2.sqlite3`;
const passwords = JSON.parse(readFileSync('tests/fixtures/demo-django-5.2.passwords.json', 'utf8')).passwords;
const stateDir = join(mkdtempSync(join(tmpdir(), 'djedge-deploy-')), 'state');

const cloudflare = await startCloudflare({ token: cloudflareToken, accountId });
after(() => cloudflare.close());
// Where the stand-in serves the Worker's workers.dev route.
const workerUrl = await cloudflare.workersDevUrl('djedge');

function deploy(...more) {
  const args = ['deploy', '--state-dir', stateDir, '--account-id', accountId, '--api-url', cloudflare.url,
    '--domain', tenant.url, '--connection', connection, '--edge-url', workerUrl, '--database', database,
    '--attempts', '2', '--edge-timeout', '60', ...more];
  const env = {
    PATH: dirname(djedge), HOME: process.env.HOME, CLOUDFLARE_API_TOKEN: cloudflareToken,
    AUTH0_CLIENT_ID: tenant.apps.management.client_id, AUTH0_CLIENT_SECRET: tenant.apps.management.client_secret,
  };
  return run(args, env);
}

/** Runs djedge without blocking this process, which serves the Cloudflare API it calls. */
function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(djedge, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
const writesTo = (requests) => requests.filter((r) => r.method !== 'GET');
const apiRequests = async () => (await (await fetch(`${cloudflare.origin}/_test/requests`)).json());
const tenantWrites = async () => (await (await fetch(`${tenant.url}/_test/stats`)).json()).managementWrites;
const uploads = (requests) => requests.filter((r) => r.method === 'PUT' && /\/workers\/scripts\/djedge$/.test(r.path));

test('the binary finds nothing else on its PATH', () => {
  for (const tool of ['cargo', 'rustc', 'node', 'wrangler']) {
    assert.ok(!existsSync(join(dirname(djedge), tool)), `${tool} beside djedge`);
  }
});

test('--dry-run says what it would do and writes nothing, anywhere', async () => {
  const tenantBefore = await tenantWrites();
  const dry = await deploy('--dry-run');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stderr, /would create the KV namespace djedge-snapshot/);
  assert.match(dry.stderr, /would upload the Worker djedge/);
  assert.match(dry.stderr, /would set the Worker's secret DJEDGE_AUTH0_DOMAIN/);
  assert.deepEqual(writesTo(await apiRequests()), [], 'no write to Cloudflare');
  assert.equal(await tenantWrites(), tenantBefore, 'no write to Auth0');
  assert.ok(!existsSync(stateDir), 'not even the state directory');
});

test('a run that stops after the upload is taken up by the next, which does not upload again', async () => {
  // Cloudflare fails every secret write of this run (two attempts each).
  await fetch(`${cloudflare.origin}/_test/fail`, {
    method: 'POST', body: JSON.stringify({ method: 'PUT', path: '/secrets$', status: 500, times: 2 }),
  });
  const stopped = await deploy();
  assert.notEqual(stopped.status, 0);
  assert.match(stopped.stderr, /deploy stopped at the Worker's secrets: .*500.*run deploy again/s);
  assert.doesNotMatch(stopped.stderr, new RegExp(tenant.apps.management.client_secret), 'no secret in the message');
  assert.equal(uploads(await apiRequests()).length, 1);
  const state = JSON.parse(readFileSync(join(stateDir, 'deploy-state.json'), 'utf8'));
  assert.ok(state.worker_digest && state.namespace_id, 'the upload and the namespace are recorded');
  assert.deepEqual(state.secrets, {}, 'no secret recorded as set');

  const resumed = await deploy();
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(resumed.stdout.endsWith(`\n${workerUrl}\n`), 'the Worker\'s URL, last on stdout');
  assert.match(resumed.stderr, /the Worker djedge is as uploaded last/);
  assert.match(resumed.stderr, /answers from snapshot [0-9a-f]+/);
  assert.equal(uploads(await apiRequests()).length, 1, 'uploaded once');
  const script = await (await fetch(`${cloudflare.origin}/_test/scripts/djedge`)).json();
  assert.deepEqual(script.secrets.sort(), ['DJEDGE_AUTH0_AUDIENCE', 'DJEDGE_AUTH0_CLIENT_IDS', 'DJEDGE_AUTH0_DOMAIN']);
  assert.deepEqual(script.ignored_metadata, [], 'every metadata field is one Cloudflare takes');
  const { options } = await setUpConnection(connection);
  assert.ok(!(resumed.stderr + resumed.stdout).includes(options.configuration.DJEDGE_CLIENT_SECRET), 'the app\'s secret is never printed');
});

test('the Worker running from the uploaded bytes answers the demo\'s logins through the script setup left', async () => {
  const { options } = await setUpConnection(connection);
  assert.equal(options.configuration.DJEDGE_URL, workerUrl);
  const login = auth0Script('login.js', 'login', options.configuration, options.customScripts.login);
  const alice = await login('alice', passwords.alice);
  assert.equal(alice.error, null);
  assert.equal(alice.profile.user_id, 'django_12');
  for (const user of ['user_pbkdf2_sha256', 'user_argon2', 'user_scrypt', 'user_bcrypt_sha256']) {
    const { error, profile } = await login(user, passwords[user]);
    assert.equal(error, null, user);
    assert.equal(profile.username, undefined, 'email mode');
  }
  const wrong = await login('alice', `${passwords.alice}x`);
  assert.equal(wrong.error?.name, 'WrongUsernameOrPasswordError');
});

test('a run with nothing to do writes nothing; sync carries on from the same state directory', async () => {
  const before = writesTo(await apiRequests()).length;
  const tenantBefore = await tenantWrites();
  const again = await deploy();
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /nothing changed since/);
  assert.equal(writesTo(await apiRequests()).length, before, 'no write to Cloudflare');
  assert.equal(await tenantWrites(), tenantBefore, 'no write to Auth0');

  // No --namespace-id: sync takes the one deploy made for this directory.
  const sync = await run(['sync', '--state-dir', stateDir, '--account-id', accountId, '--api-url', cloudflare.url,
    '--database', database], { PATH: dirname(djedge), CLOUDFLARE_API_TOKEN: cloudflareToken });
  assert.equal(sync.status, 0, sync.stderr);
  assert.match(sync.stderr, /nothing changed since/);
});

test('a secret lost on Cloudflare is set again; a state directory of another Worker is refused', async () => {
  const before = uploads(await apiRequests()).length;
  const deleted = await fetch(`${cloudflare.url}/accounts/${accountId}/workers/scripts/djedge/secrets/DJEDGE_AUTH0_DOMAIN`, {
    method: 'DELETE', headers: { authorization: `Bearer ${cloudflareToken}` },
  });
  assert.equal(deleted.status, 200);
  const again = await deploy();
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(again.stderr.match(/set the Worker's secret \w+/g), ['set the Worker\'s secret DJEDGE_AUTH0_DOMAIN']);
  assert.equal(uploads(await apiRequests()).length, before, 'no upload');

  const other = await deploy('--name', 'another');
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /deploy-state\.json is the state of the Worker djedge in account \w+: give this one its own --state-dir/);
});
