// The local Auth0 tenant's rules for creating database users (checkNewUser),
// each both ways; the users an import-mode connection's scripts hand over
// (POST /_test/script-profile); users-import jobs end to end, as djedge's
// `auth0-import` drives them: multipart upload, polling, errors; and the
// Management API's request bodies held to Auth0's request schemas
// (auth0_management.schema.json): each kind of refusal, and every body
// djedge sends accepted.
//
//   node --test tests/auth0/tenant_rules.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { startTenant, checkNewUser, requestProblem, RESERVED_APP_METADATA, MAX_IMPORT_FILE_BYTES, SETUP_SCOPES,
  EXISTING_CONNECTION } from './tenant.mjs';

const db = (options = {}) => ({ name: 'db', options });
const code = (result) => result.error?.code ?? 'ok';
const repeat = (text, n) => text.repeat(n);

// --- checkNewUser ----------------------------------------------------------

test('username: ASCII letters, digits and Auth0\'s specials only, stored lowercased, even where usernames are unused', () => {
  const specials = "Ab9@^$.!`-#+'~_";
  const { user } = checkNewUser(db(), { email: 'a@example.com', username: specials });
  assert.equal(user.username, specials.toLowerCase());
  for (const bad of ['has space', 'émile', 'a/b', 'a|b', 'a,b', 'a"b', '', 42]) {
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', username: bad })), 'invalid_username', String(bad));
  }
  // Not in use: only the 128 ceiling.
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', username: repeat('a', 128) })), 'ok');
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', username: repeat('a', 129) })), 'invalid_username');
});

test('username: requires_username makes it required, 1..15 by default, validation.username when set, never over 128', () => {
  const legacy = db({ requires_username: true });
  assert.equal(code(checkNewUser(legacy, { email: 'a@example.com' })), 'username_required');
  assert.equal(code(checkNewUser(legacy, { email: 'a@example.com', username: repeat('a', 15) })), 'ok');
  assert.equal(code(checkNewUser(legacy, { email: 'a@example.com', username: repeat('a', 16) })), 'invalid_username');
  const ranged = db({ requires_username: true, validation: { username: { min: 3, max: 20 } } });
  assert.equal(code(checkNewUser(ranged, { email: 'a@example.com', username: 'ab' })), 'invalid_username');
  assert.equal(code(checkNewUser(ranged, { email: 'a@example.com', username: 'abc' })), 'ok');
  assert.equal(code(checkNewUser(ranged, { email: 'a@example.com', username: repeat('a', 20) })), 'ok');
  assert.equal(code(checkNewUser(ranged, { email: 'a@example.com', username: repeat('a', 21) })), 'invalid_username');
  const wide = db({ requires_username: true, validation: { username: { min: 1, max: 500 } } });
  assert.equal(code(checkNewUser(wide, { email: 'a@example.com', username: repeat('a', 128) })), 'ok');
  assert.equal(code(checkNewUser(wide, { email: 'a@example.com', username: repeat('a', 129) })), 'invalid_username');
});

test('username: Flexible Identifiers decide length, required-ness and the email or phone shapes', () => {
  const flexible = (username) => db({ attributes: { username } });
  const strict = flexible({ identifier: { active: true }, profile_required: true,
    validation: { min_length: 2, max_length: 30, allowed_types: { email: false, phone_number: false } } });
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com' })), 'username_required');
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com', username: 'b' })), 'invalid_username');
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com', username: 'bob' })), 'ok');
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com', username: 'bob@example.com' })), 'invalid_username');
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com', username: '+14155550123' })), 'invalid_username');
  assert.equal(code(checkNewUser(strict, { email: 'a@example.com', username: repeat('a', 31) })), 'invalid_username');
  const lenient = flexible({ identifier: { active: true }, validation: { allowed_types: { email: true, phone_number: true } } });
  assert.equal(code(checkNewUser(lenient, { email: 'a@example.com' })), 'ok', 'not required without profile_required');
  assert.equal(code(checkNewUser(lenient, { email: 'a@example.com', username: 'bob@example.com' })), 'ok');
  assert.equal(code(checkNewUser(lenient, { email: 'a@example.com', username: '+14155550123' })), 'ok');
  assert.equal(code(checkNewUser(lenient, { email: 'a@example.com', username: repeat('a', 15) })), 'ok', '15 by default');
  assert.equal(code(checkNewUser(lenient, { email: 'a@example.com', username: repeat('a', 16) })), 'invalid_username');
  // An inactive username attribute leaves only the general rules.
  const inactive = flexible({ identifier: { active: false }, profile_required: true });
  assert.equal(code(checkNewUser(inactive, { email: 'a@example.com' })), 'ok');
  assert.equal(code(checkNewUser(inactive, { email: 'a@example.com', username: repeat('a', 100) })), 'ok');
});

test('a connection with both requires_username and attributes is misconfigured', () => {
  const both = db({ requires_username: true, attributes: { email: { identifier: { active: true } } } });
  const result = checkNewUser(both, { email: 'a@example.com', username: 'bob' });
  assert.equal(code(result), 'misconfigured_connection');
  assert.match(result.error.message, /requires_username and attributes/);
  assert.equal(code(checkNewUser(db({ requires_username: false, attributes: {} }), { email: 'a@example.com' })), 'ok');
});

test('username: unique in the connection, whatever the case', () => {
  const existing = [{ user_id: 'auth0|1', connection: 'db', email: 'x@example.com', username: 'Bob' },
    { user_id: 'auth0|2', connection: 'other', email: 'y@example.com', username: 'carol' }];
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', username: 'BOB' }, existing)), 'username_exists');
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', username: 'Carol' }, existing)), 'ok', 'another connection');
});

test('email: required unless the connection says not; one @, a dotted domain, 64 before it, 254 in all; lowercased; unique', () => {
  assert.equal(code(checkNewUser(db(), {})), 'email_required');
  assert.equal(code(checkNewUser(db(), { email: '' })), 'email_required');
  const optional = db({ attributes: { email: { profile_required: false }, username: { identifier: { active: true } } } });
  assert.equal(code(checkNewUser(optional, { username: 'bob' })), 'ok');
  assert.equal(code(checkNewUser(optional, {})), 'email_required', 'a user needs some identifier');
  for (const bad of ['no-at.example.com', 'a@@example.com', 'a@b@example.com', 'a@example', 'a@', '@example.com',
    'a b@example.com', 'a@exa mple.com', `${repeat('a', 65)}@example.com`, `a@${repeat('b', 250)}.com`, 12]) {
    assert.equal(code(checkNewUser(db(), { email: bad })), 'invalid_email', String(bad));
  }
  assert.equal(code(checkNewUser(db(), { email: `${repeat('a', 64)}@example.com` })), 'ok');
  const longest = `a@${repeat('b', 248)}.com`;
  assert.equal(longest.length, 254);
  assert.equal(code(checkNewUser(db(), { email: longest })), 'ok');
  assert.equal(checkNewUser(db(), { email: 'Alice@Example.COM' }).user.email, 'alice@example.com');
  const existing = [{ user_id: 'auth0|1', connection: 'db', email: 'Alice@example.com' }];
  assert.equal(code(checkNewUser(db(), { email: 'alice@EXAMPLE.com' }, existing)), 'user_exists');
  assert.equal(code(checkNewUser({ name: 'other', options: {} }, { email: 'alice@example.com' }, existing)), 'ok');
});

test('names: given_name and family_name 1..150, name and nickname 1..300', () => {
  for (const [field, max] of [['given_name', 150], ['family_name', 150], ['name', 300], ['nickname', 300]]) {
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', [field]: repeat('é', max) })), 'ok', field);
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', [field]: repeat('é', max + 1) })), 'invalid_name', field);
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', [field]: '' })), 'invalid_name', field);
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', [field]: 7 })), 'invalid_name', field);
  }
});

test('user_id: no whitespace, at most 255, unique in the connection, stored as auth0|…; made up when absent', () => {
  assert.equal(checkNewUser(db(), { email: 'a@example.com', user_id: 'django_12' }).user.user_id, 'auth0|django_12');
  assert.match(checkNewUser(db(), { email: 'a@example.com' }).user.user_id, /^auth0\|[0-9a-f]{24}$/);
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', user_id: repeat('a', 255) })), 'ok');
  for (const bad of [repeat('a', 256), 'has space', 'tab\there', '', 12]) {
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', user_id: bad })), 'invalid_user_id', String(bad));
  }
  const existing = [{ user_id: 'auth0|django_12', connection: 'db', email: 'x@example.com' }];
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', user_id: 'django_12' }, existing)), 'user_id_exists');
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', user_id: 'django_13' }, existing)), 'ok');
});

test('app_metadata: no . or $ in any field name, none of Auth0\'s own names on top', () => {
  const ok = { django: { id: 12, groups: [{ name: 'staff' }] }, email_hint: 'x', djedge: { email: 'kept below the top' } };
  assert.deepEqual(checkNewUser(db(), { email: 'a@example.com', app_metadata: ok }).user.app_metadata, ok);
  for (const bad of [{ 'a.b': 1 }, { a: { $b: 1 } }, { a: [{ 'c.d': 1 }] }, { a: { b: { 'x$': 1 } } }, [], 'text']) {
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', app_metadata: bad })), 'invalid_metadata', JSON.stringify(bad));
  }
  for (const name of RESERVED_APP_METADATA) {
    assert.equal(code(checkNewUser(db(), { email: 'a@example.com', app_metadata: { [name]: 1 } })), 'invalid_metadata', name);
  }
  for (const name of ['blocked', 'clientID', 'created_at', 'email', 'email_verified', 'globalClientID', 'global_client_id',
    'identities', 'lastIP', 'lastLogin', 'loginsCount', 'metadata', 'multifactor', 'multifactor_last_modified', 'updated_at',
    'user_id', '__tenant', '_id']) {
    assert.ok(RESERVED_APP_METADATA.includes(name), name);
  }
  assert.equal(code(checkNewUser(db(), { email: 'a@example.com', user_metadata: { 'a.b': 1 } })), 'invalid_metadata');
});

test('the stored profile is at most 10 KB', () => {
  const big = (n) => checkNewUser(db(), { email: 'a@example.com', user_id: 'u1', app_metadata: { blob: repeat('x', n) } });
  const { user } = big(9000);
  const room = 10240 - Buffer.byteLength(JSON.stringify(user)) + 9000;
  assert.equal(code(big(room)), 'ok');
  assert.equal(code(big(room + 1)), 'profile_too_large');
});

test('the user as stored: lowercased identifiers, auth0| id, names, metadata, connection, created_at', () => {
  const { user } = checkNewUser(db(), { user_id: 'django_1', email: 'Ann@Example.com', username: 'Ann', email_verified: true,
    given_name: 'Ann', family_name: 'Lee', name: 'Ann Lee', app_metadata: { django: { id: 1 } } });
  assert.deepEqual({ ...user, created_at: undefined }, { user_id: 'auth0|django_1', connection: 'db', email: 'ann@example.com',
    email_verified: true, username: 'ann', given_name: 'Ann', family_name: 'Lee', name: 'Ann Lee',
    app_metadata: { django: { id: 1 } }, created_at: undefined });
  assert.ok(!Number.isNaN(Date.parse(user.created_at)));
});

// --- the tenant ------------------------------------------------------------

let tenant;
before(async () => {
  tenant = await startTenant({
    seed: {
      apps: [
        { name: 'importer', audience: '<management>', scopes: ['read:connections', 'create:users', 'read:users'] },
        { name: 'reader', audience: '<management>', scopes: ['read:connections', 'read:users'] },
      ],
      connections: [
        { name: 'legacy-db', strategy: 'auth0', options: { import_mode: true, customScripts: {} } },
        { name: 'plain-db', strategy: 'auth0', options: {} },
        { name: 'usernames-db', strategy: 'auth0', options: { requires_username: true } },
      ],
    },
  });
});
after(() => tenant.close());

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const scriptProfile = async (connection, profile) => {
  const response = await fetch(`${tenant.url}/_test/script-profile`, json({ connection, profile }));
  return { status: response.status, body: await response.json() };
};
const tenantUsers = async (connection) => (await (await fetch(`${tenant.url}/_test/users?connection=${connection}`)).json()).users;
async function token(app) {
  const { client_id, client_secret } = tenant.apps[app];
  const answer = await fetch(`${tenant.url}/oauth/token`, json({ grant_type: 'client_credentials', client_id, client_secret, audience: `${tenant.url}/api/v2/` }));
  return { authorization: `Bearer ${(await answer.json()).access_token}` };
}
async function connectionId(name) {
  const [connection] = await (await fetch(`${tenant.url}/api/v2/connections?name=${name}`, { headers: await token('importer') })).json();
  return connection.id;
}
/** POST /api/v2/jobs/users-imports with `users` (an array, or the file's text) as the file part. */
async function startImport(users, fields = {}, app = 'importer') {
  const form = new FormData();
  const text = typeof users === 'string' ? users : JSON.stringify(users);
  form.append('users', new Blob([text], { type: 'application/json' }), 'users-00000.json');
  for (const [name, value] of Object.entries({ connection_id: await connectionId('legacy-db'), ...fields })) {
    if (value !== null) form.append(name, value);
  }
  const response = await fetch(`${tenant.url}/api/v2/jobs/users-imports`, { method: 'POST', headers: await token(app), body: form });
  return { status: response.status, body: await response.json() };
}
async function finish(id) {
  const headers = await token('importer');
  const seen = [];
  for (let i = 0; i < 10; i += 1) {
    const job = await (await fetch(`${tenant.url}/api/v2/jobs/${id}`, { headers })).json();
    seen.push(job.status);
    if (job.status === 'completed' || job.status === 'failed') return { job, seen };
  }
  throw new Error(`job ${id} never finished: ${seen}`);
}
async function jobErrors(id) {
  const response = await fetch(`${tenant.url}/api/v2/jobs/${id}/errors`, { headers: await token('importer') });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
}

test('script profile: an import-mode connection keeps the user once, metadata as app_metadata', async () => {
  const profile = { user_id: 'django_12', email: 'Alice@Example.com', username: 'Alice', email_verified: true,
    given_name: 'Alice', metadata: { django: { id: 12 } } };
  const first = await scriptProfile('legacy-db', profile);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.user_id, 'auth0|django_12');
  assert.equal(first.body.email, 'alice@example.com');
  assert.equal(first.body.username, 'alice');
  assert.deepEqual(first.body.app_metadata, { django: { id: 12 } });
  assert.equal(first.body.metadata, undefined);
  assert.equal(first.body.connection, 'legacy-db');
  const again = await scriptProfile('legacy-db', { ...profile, given_name: 'Changed' });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, first.body);
  assert.equal((await tenantUsers('legacy-db')).length, 1);
  assert.equal((await tenantUsers('plain-db')).length, 0);
});

test('script profile: refused by the rules with Auth0\'s error shape', async () => {
  const clash = await scriptProfile('legacy-db', { user_id: 'django_99', email: 'ALICE@example.com' });
  assert.equal(clash.status, 400);
  assert.deepEqual(Object.keys(clash.body).sort(), ['error', 'errorCode', 'message', 'statusCode']);
  assert.equal(clash.body.statusCode, 400);
  assert.equal(clash.body.error, 'Bad Request');
  assert.equal(clash.body.errorCode, 'user_exists');
  const reserved = await scriptProfile('legacy-db', { user_id: 'django_98', email: 'r@example.com', metadata: { email: 'x' } });
  assert.equal(reserved.body.errorCode, 'invalid_metadata');
  const dotted = await scriptProfile('legacy-db', { user_id: 'django_97', email: 'd@example.com', metadata: { 'a.b': 1 } });
  assert.equal(dotted.body.errorCode, 'invalid_metadata');
  const badName = await scriptProfile('legacy-db', { user_id: 'django_96', email: 'n@example.com', given_name: repeat('a', 151) });
  assert.equal(badName.body.errorCode, 'invalid_name');
  const noId = await scriptProfile('legacy-db', { email: 'n@example.com' });
  assert.equal(noId.body.errorCode, 'invalid_user_id');
  assert.equal((await scriptProfile('plain-db', { user_id: 'django_1', email: 'p@example.com' })).status, 400, 'not in import mode');
  assert.equal((await scriptProfile('nowhere', { user_id: 'django_1', email: 'p@example.com' })).status, 404);
  assert.equal((await tenantUsers('legacy-db')).length, 1, 'nothing refused was kept');
});

test('script profile: the users a script made are in users-export jobs', async () => {
  const headers = { ...(await token('reader')), 'content-type': 'application/json' };
  const created = await (await fetch(`${tenant.url}/api/v2/jobs/users-exports`, { method: 'POST', headers,
    body: JSON.stringify({ connection_id: await connectionId('legacy-db'), format: 'json', fields: [{ name: 'user_id' }, { name: 'email' }] }) })).json();
  let job;
  for (let i = 0; i < 3 && job?.status !== 'completed'; i += 1) job = await (await fetch(`${tenant.url}/api/v2/jobs/${created.id}`, { headers })).json();
  const lines = gunzipSync(Buffer.from(await (await fetch(job.location)).arrayBuffer())).toString().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [{ user_id: 'auth0|django_12', email: 'alice@example.com' }]);
});

test('users-import job: schema, then the rules; polled to completion; each refused user with its codes', async () => {
  const users = [
    { email: 'Bob@Example.com', user_id: 'django_20', email_verified: true, given_name: 'Bob', username: 'Bob',
      custom_password_hash: { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000,l=32$c2FsdA$aGFzaA', encoding: 'utf8' } },
      app_metadata: { django: { id: 20 } } },
    { email: 'alice@example.com', user_id: 'django_12b' }, // in the tenant already
    { email: 'carol@example.com', user_id: 'django_21' },
    { email: 'CAROL@example.com', user_id: 'django_22' }, // earlier in this file
    { email: 'dave@example.com', user_id: 'django_23', username: 'bob' }, // bob's username, earlier in this file
    { email: 'erin@example.com', user_id: 'django_12' }, // alice's user_id
    { email: 'not-an-email', user_id: 'django_24' },
    { user_id: 'django_25' },
    { email: 'f@example.com', username: repeat('f', 129) },
    { email: 'g@example.com', email_verified: 'yes' },
    { email: 'h@example.com', custom_password_hash: { algorithm: 'rot13', hash: { value: 'x' } } },
    { email: 'i@example.com', app_metadata: { blocked: true } },
    { email: 'j@example.com', app_metadata: { 'a.b': 1 } },
    { email: 'k@example.com', username: 'bad name' },
    { email: 'l@example.com', is_staff: true },
    'not a user',
  ];
  const started = await startImport(users, { external_id: 'users-00000.json', upsert: 'false', send_completion_email: 'false' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  assert.equal(started.body.status, 'pending');
  assert.equal(started.body.type, 'users_import');
  assert.match(started.body.id, /^job_/);
  assert.equal(started.body.connection_id, await connectionId('legacy-db'));
  assert.equal(started.body.connection, 'legacy-db');
  assert.equal(started.body.external_id, 'users-00000.json');
  assert.ok(started.body.created_at);
  assert.equal(started.body.summary, undefined);

  const { job, seen } = await finish(started.body.id);
  assert.deepEqual(seen, ['processing', 'completed']);
  assert.deepEqual(job.summary, { failed: 14, updated: 0, inserted: 2, total: 16 });

  const errors = await jobErrors(job.id);
  assert.equal(errors.status, 200);
  const byUser = new Map(errors.body.map((e) => [JSON.stringify(e.user), e.errors]));
  const codesOf = (user) => byUser.get(JSON.stringify(user))?.map((e) => e.code);
  assert.equal(byUser.size, 14);
  assert.deepEqual(codesOf(users[1]), ['DUPLICATED_USER']);
  assert.deepEqual(codesOf(users[3]), ['CONFLICT_EMAIL']);
  assert.deepEqual(codesOf(users[4]), ['CONFLICT_USERNAME']);
  assert.deepEqual(codesOf(users[5]), ['CONFLICT']);
  assert.deepEqual(codesOf(users[6]), ['INVALID_FORMAT']);
  assert.deepEqual(byUser.get(JSON.stringify(users[7])), [{ code: 'OBJECT_REQUIRED', message: 'Missing required property: email', path: 'email' }]);
  assert.deepEqual(codesOf(users[8]), ['MAX_LENGTH']);
  assert.deepEqual(byUser.get(JSON.stringify(users[9])), [{ code: 'INVALID_TYPE', message: 'Expected type boolean but found type string', path: 'email_verified' }]);
  assert.deepEqual(byUser.get(JSON.stringify(users[10]))[0], { code: 'ENUM_MISMATCH', message: 'No enum match for: "rot13"', path: 'custom_password_hash.algorithm' });
  assert.deepEqual(codesOf(users[11]), ['NOT_PASSED']);
  assert.deepEqual(byUser.get(JSON.stringify(users[12])), [{ code: 'INVALID_METADATA', message: 'app_metadata field names may not contain . or $: a.b', path: 'app_metadata.a.b' }]);
  assert.deepEqual(codesOf(users[13]), ['INVALID_USERNAME']);
  assert.deepEqual(codesOf(users[14]), ['OBJECT_ADDITIONAL_PROPERTIES']);
  assert.deepEqual(codesOf(users[15]), ['INVALID_TYPE']);

  // The accepted users join the tenant's, marked as the import's, with no hash kept.
  const kept = await tenantUsers('legacy-db');
  const bob = kept.find((u) => u.user_id === 'auth0|django_20');
  assert.equal(bob.email, 'bob@example.com');
  assert.equal(bob.username, 'bob');
  assert.equal(bob._test_made_by, 'users_import');
  assert.equal(bob._test_password, 'custom_password_hash');
  assert.equal(JSON.stringify(bob).includes('pbkdf2'), false);
  assert.deepEqual(bob.app_metadata, { django: { id: 20 } });
  assert.ok(kept.some((u) => u.user_id === 'auth0|django_21'));
  assert.equal(kept.length, 3);
});

test('users-import job: none refused is a 204 with no body; upsert updates the user met again', async () => {
  const clean = await startImport([{ email: 'mia@example.com', user_id: 'django_30' }]);
  const { job } = await finish(clean.body.id);
  assert.deepEqual(job.summary, { failed: 0, updated: 0, inserted: 1, total: 1 });
  const none = await jobErrors(job.id);
  assert.equal(none.status, 204);
  assert.equal(none.text, '');

  const upsert = await startImport([{ email: 'MIA@example.com', user_id: 'django_30', given_name: 'Mia', app_metadata: { django: { id: 30 } } }], { upsert: 'true' });
  const done = await finish(upsert.body.id);
  assert.deepEqual(done.job.summary, { failed: 0, updated: 1, inserted: 0, total: 1 });
  const mia = (await tenantUsers('legacy-db')).find((u) => u.email === 'mia@example.com');
  assert.equal(mia.given_name, 'Mia');
  assert.deepEqual(mia.app_metadata, { django: { id: 30 } });
  assert.equal(mia.user_id, 'auth0|django_30');
});

test('users-import job: a file that is no JSON array fails the job', async () => {
  const started = await startImport('{"email": "x@example.com"}');
  const { job } = await finish(started.body.id);
  assert.equal(job.status, 'failed');
  const errors = await jobErrors(job.id);
  assert.equal(errors.body[0].errors[0].code, 'INVALID_FORMAT');
});

test('users-import job: files of 500 KB or more refused; at most two jobs pending or processing', async () => {
  const padded = (bytes) => `[${' '.repeat(bytes - 2)}]`;
  assert.equal(MAX_IMPORT_FILE_BYTES, 500_000);
  const tooBig = await startImport(padded(MAX_IMPORT_FILE_BYTES));
  assert.equal(tooBig.status, 413);
  const first = await startImport(padded(MAX_IMPORT_FILE_BYTES - 1));
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const second = await startImport([]);
  assert.equal(second.status, 201);
  const third = await startImport([]);
  assert.equal(third.status, 429);
  assert.equal(third.body.statusCode, 429);
  const { job } = await finish(first.body.id);
  assert.deepEqual(job.summary, { failed: 0, updated: 0, inserted: 0, total: 0 });
  const fourth = await startImport([]);
  assert.equal(fourth.status, 201, 'room again once one finished');
  await finish(second.body.id);
  await finish(fourth.body.id);
});

test('users-import job: the request refused as Auth0 would', async () => {
  assert.equal((await startImport([], {}, 'reader')).status, 403, 'create:users is needed');
  assert.equal((await startImport([], { connection_id: null })).status, 400);
  assert.equal((await startImport([], { connection_id: 'con_nothere' })).status, 400);
  assert.equal((await startImport([], { upsert: 'maybe' })).status, 400);
  const text = new FormData();
  text.append('users', '[]');
  text.append('connection_id', await connectionId('legacy-db'));
  const headers = await token('importer');
  assert.equal((await fetch(`${tenant.url}/api/v2/jobs/users-imports`, { method: 'POST', headers, body: text })).status, 400, 'users must be a file');
  const asJson = await fetch(`${tenant.url}/api/v2/jobs/users-imports`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(asJson.status, 400);
  assert.equal((await fetch(`${tenant.url}/api/v2/jobs/job_nothere/errors`, { headers })).status, 404);
});

test('users-import job: a username connection holds imports to its rules', async () => {
  const form = new FormData();
  form.append('users', new Blob([JSON.stringify([{ email: 'u1@example.com' }, { email: 'u2@example.com', username: 'user2' }])]), 'u.json');
  form.append('connection_id', await connectionId('usernames-db'));
  const started = await (await fetch(`${tenant.url}/api/v2/jobs/users-imports`, { method: 'POST', headers: await token('importer'), body: form })).json();
  const { job } = await finish(started.id);
  assert.deepEqual(job.summary, { failed: 1, updated: 0, inserted: 1, total: 2 });
  assert.deepEqual((await jobErrors(job.id)).body[0].errors.map((e) => e.code), ['USERNAME_REQUIRED']);
});

// --- the Management API's request bodies -----------------------------------

// What djedge sends, written out here from crates/auth0-api/src (setup.rs:
// setup, finish, write_connection, set_identifiers, write_action; users.rs;
// lib.rs), with the repository's own scripts.
const script = (name) => readFileSync(new URL(`../../js/${name}`, import.meta.url), 'utf8');
const SCRIPTS = { login: script('login.js'), get_user: script('get_user.js'), action: script('post_login_action.js') };
const FINISHED_LOGIN = 'function login(userNameOrEmail, password, callback) {\n  // djedge: the migration is over; every user is in Auth0.\n  return callback(null);\n}\n';
const FINISHED_GET_USER = 'function getUser(email, callback) {\n  // djedge: the migration is over; every user is in Auth0.\n  return callback(null);\n}\n';
const djedge = {
  resourceServer: (connection, audience) => ({ name: `djedge edge (${connection})`, identifier: audience, signing_alg: 'RS256',
    token_lifetime: 86400, allow_offline_access: false }),
  client: (connection) => ({ name: `djedge (${connection})`,
    description: 'Calls the djedge edge from the custom database scripts and the post-login Action.',
    app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' }),
  clientGrant: (clientId, audience) => ({ client_id: clientId, audience, scope: [] }),
  configuration: ({ edgeUrl, domain, audience, clientId, clientSecret }) => ({ DJEDGE_URL: edgeUrl, DJEDGE_AUTH0_DOMAIN: domain,
    DJEDGE_AUDIENCE: audience, DJEDGE_CLIENT_ID: clientId, DJEDGE_CLIENT_SECRET: clientSecret }),
  ours: (configuration) => ({ enabledDatabaseCustomization: true, import_mode: true,
    customScripts: { login: SCRIPTS.login, get_user: SCRIPTS.get_user }, configuration }),
  /** set_identifiers: `mode` email or username, on `options` (changed in place, and returned). */
  setIdentifiers(options, mode) {
    const attributes = structuredClone(options.attributes ?? {});
    if (mode === 'email' && Object.keys(attributes).length === 0) {
      delete options.attributes;
      options.requires_username = false;
    } else if (mode === 'email') {
      if (attributes.username && typeof attributes.username === 'object') {
        attributes.username.profile_required = false;
        attributes.username.signup = { status: 'optional' };
      }
      options.attributes = attributes;
    } else {
      delete options.requires_username;
      delete options.validation;
      attributes.email = { ...(attributes.email ?? {}), identifier: { active: true }, profile_required: true, signup: { status: 'required' } };
      attributes.username = { identifier: { active: true }, profile_required: false, signup: { status: 'optional' },
        validation: { min_length: 1, max_length: 128, allowed_types: { email: false, phone_number: false } } };
      options.attributes = attributes;
    }
    return options;
  },
  /** write_connection, a new connection: POST's body. */
  newConnection(name, ours, mode) {
    return { name, strategy: 'auth0', options: djedge.setIdentifiers(structuredClone(ours), mode) };
  },
  /** write_connection, an existing one: the options read (GET), merged; the PATCH's body. */
  updatedConnection(read, ours, mode) {
    const options = structuredClone(read);
    options.enabledDatabaseCustomization = ours.enabledDatabaseCustomization;
    options.import_mode = ours.import_mode;
    options.customScripts = { ...(options.customScripts ?? {}), ...ours.customScripts };
    options.configuration = ours.configuration;
    return { options: djedge.setIdentifiers(options, mode) };
  },
  /** finish: the options read, the scripts' configuration gone, the scripts answering "no such user". */
  finished(read) {
    const { configuration: _gone, ...options } = structuredClone(read);
    Object.assign(options, { enabledDatabaseCustomization: true, import_mode: true });
    options.customScripts = { ...(options.customScripts ?? {}), login: FINISHED_LOGIN, get_user: FINISHED_GET_USER };
    return { options };
  },
  action: (connection, configuration) => ({
    name: `djedge-${connection}`, supported_triggers: [{ id: 'post-login', version: 'v3' }], code: SCRIPTS.action, runtime: 'node22',
    dependencies: [],
    secrets: [...Object.entries(configuration).map(([name, value]) => ({ name, value })), { name: 'DJEDGE_CONNECTION', value: connection }],
  }),
  deploy: () => ({}),
  /** The trigger's bindings read back, each as a ref, then the new one. */
  bindings: (read, id, name) => ({ bindings: [...read.map((b) => ({ ref: { type: 'action_id', value: b.action.id }, display_name: b.display_name })),
    { ref: { type: 'action_id', value: id }, display_name: name }] }),
  usersExport: (connectionId) => ({ connection_id: connectionId, format: 'json',
    fields: ['user_id', 'email', 'created_at', 'app_metadata'].map((name) => ({ name })) }),
  /** lib.rs start_import: the multipart parts, in djedge's order. */
  usersImport(connectionId, file, text) {
    const form = new FormData();
    form.append('users', new Blob([text], { type: 'application/json' }), file);
    form.append('connection_id', connectionId);
    form.append('upsert', 'false');
    form.append('send_completion_email', 'false');
    form.append('external_id', file);
    return form;
  },
};

const CONNECTION_POST = 'POST /api/v2/connections';
const CONNECTION_PATCH = 'PATCH /api/v2/connections/{id}';
const database = { strategy: 'auth0' };

test('request bodies: djedge\'s, in both identifier modes and after finish, meet the schemas', async () => {
  const configuration = djedge.configuration({ edgeUrl: 'https://edge.example.workers.dev', domain: 'example.eu.auth0.com',
    audience: 'https://djedge.example/', clientId: 'a'.repeat(32), clientSecret: 'b'.repeat(64) });
  const ours = djedge.ours(configuration);
  const ok = async (endpoint, body, options) => assert.equal(await requestProblem(endpoint, body, options), null, `${endpoint} ${JSON.stringify(body).slice(0, 300)}`);
  await ok('POST /api/v2/resource-servers', djedge.resourceServer('djedge-users', 'https://djedge.example/'));
  await ok('POST /api/v2/clients', djedge.client('djedge-users'));
  await ok('POST /api/v2/client-grants', djedge.clientGrant('a'.repeat(32), 'https://djedge.example/'));
  for (const mode of ['email', 'username']) {
    await ok(CONNECTION_POST, djedge.newConnection('djedge-users', ours, mode));
    // The site's connection, and one already set up in either mode.
    for (const read of [EXISTING_CONNECTION.options, djedge.newConnection('x', ours, 'email').options, djedge.newConnection('x', ours, 'username').options]) {
      const patch = djedge.updatedConnection(read, ours, mode);
      await ok(CONNECTION_PATCH, patch, database);
      await ok(CONNECTION_PATCH, djedge.finished(patch.options), database);
    }
  }
  // Each mode writes what set_identifiers says it does.
  const email = djedge.updatedConnection(EXISTING_CONNECTION.options, ours, 'email').options;
  assert.equal(email.requires_username, false);
  assert.equal(email.attributes, undefined);
  const username = djedge.updatedConnection(EXISTING_CONNECTION.options, ours, 'username').options;
  assert.equal('requires_username' in username, false);
  assert.equal('validation' in username, false);
  assert.deepEqual(username.attributes, {
    email: { identifier: { active: true }, profile_required: true, signup: { status: 'required' } },
    username: { identifier: { active: true }, profile_required: false, signup: { status: 'optional' },
      validation: { min_length: 1, max_length: 128, allowed_types: { email: false, phone_number: false } } },
  });
  const action = djedge.action('djedge-users', configuration);
  await ok('POST /api/v2/actions/actions', action);
  await ok('PATCH /api/v2/actions/actions/{id}', action);
  await ok('POST /api/v2/actions/actions/{id}/deploy', djedge.deploy());
  await ok('PATCH /api/v2/actions/triggers/{triggerId}/bindings',
    djedge.bindings([{ action: { id: 'act1' }, display_name: 'add-roles' }], 'act2', 'djedge-djedge-users'));
  await ok('POST /api/v2/jobs/users-exports', djedge.usersExport('con_0123456789abcDEF'));
});

test('request bodies: refused for an unknown property, one that may not be updated, or a missing required one', async () => {
  const problem = (endpoint, body, options) => requestProblem(endpoint, body, options);
  assert.equal(await problem(CONNECTION_POST, { name: 'db', strategy: 'auth0', colour: 'blue' }),
    "Payload validation error: 'Additional properties not allowed: colour'.");
  assert.equal(await problem(CONNECTION_POST, { name: 'db' }), "Payload validation error: 'Missing required property: strategy'.");
  assert.equal(await problem(CONNECTION_POST, { name: 'has space', strategy: 'auth0' }),
    "Payload validation error: 'String does not match pattern ^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$: has space' on property name.");
  for (const key of ['name', 'strategy', 'id']) {
    assert.equal(await problem(CONNECTION_PATCH, { [key]: 'x', options: {} }, database),
      `Payload validation error: 'Additional properties not allowed: ${key}'.`, key);
  }
  assert.match(await problem(CONNECTION_PATCH, {}, database), /Too few properties defined \(0\), minimum 1/);
  assert.match(await problem('POST /api/v2/resource-servers', { name: 'api' }), /Missing required property: identifier/);
  assert.match(await problem('POST /api/v2/resource-servers', { identifier: 'https://x/', signing_alg: 'ES256' }), /No enum match for: "ES256"' on property signing_alg/);
  assert.match(await problem('POST /api/v2/clients', { name: 'app', client_secret: 'mine' }), /Additional properties not allowed: client_secret/);
  assert.match(await problem('POST /api/v2/clients', { app_type: 'non_interactive' }), /Missing required property: name/);
  assert.match(await problem('POST /api/v2/client-grants', { client_id: 'x', scope: [] }), /Missing required property: audience/);
  assert.match(await problem('POST /api/v2/client-grants', { audience: 'x', scopes: [] }), /Additional properties not allowed: scopes/);
  assert.match(await problem('POST /api/v2/actions/actions', { name: 'a', code: '' }), /Missing required property: supported_triggers/);
  assert.match(await problem('POST /api/v2/actions/actions', { name: 'a', supported_triggers: [{ id: 'post-login', version: 'v3', enabled: true }] }),
    /Additional properties not allowed: enabled' on property supported_triggers\.0/);
  assert.match(await problem('PATCH /api/v2/actions/actions/{id}', { code: 'x', deploy: true }), /Additional properties not allowed: deploy/);
  assert.match(await problem('POST /api/v2/actions/actions/{id}/deploy', { force: true }), /Additional properties not allowed: force/);
  assert.match(await problem('PATCH /api/v2/actions/triggers/{triggerId}/bindings', { bindings: [{ ref: { type: 'action_id', value: 'x' }, order: 1 }] }),
    /Additional properties not allowed: order' on property bindings\.0/);
  assert.match(await problem('PATCH /api/v2/actions/triggers/{triggerId}/bindings', { bindings: [{ ref: { type: 'action_id', value: 'x' }, display_name: null }] }),
    /Expected type string but found type null' on property bindings\.0\.display_name/);
  assert.match(await problem('PATCH /api/v2/actions/triggers/{triggerId}/bindings', { bindings: [{ ref: { type: 'id', value: 'x' } }] }),
    /No enum match for: "id"' on property bindings\.0\.ref\.type/);
  assert.match(await problem('POST /api/v2/jobs/users-exports', { connection_id: 'con_0123456789abcDEF', format: 'ndjson' }), /No enum match for: "ndjson"' on property format/);
  assert.match(await problem('POST /api/v2/jobs/users-exports', { connection_id: 'con_short' }), /does not match pattern \^con_\[A-Za-z0-9\]\{16\}\$/);
  assert.match(await problem('POST /api/v2/jobs/users-exports', { fields: [{ name: 'email', as: 'e' }] }), /Additional properties not allowed: as' on property fields\.0/);
});

test('request bodies: a database connection\'s options, open but typed where the schema types them', async () => {
  const options = (value) => requestProblem(CONNECTION_PATCH, { options: value }, database);
  // Open: properties the schema does not name pass.
  assert.equal(await options({ strategy_version: 2, anything: { at: 'all' } }), null);
  // attributes: only email, phone_number and username, each with only its own properties; not empty.
  assert.match(await options({ attributes: { username: { identifier: { active: true }, required: true } } }),
    /^Payload validation error: 'Additional properties not allowed: required' on property options\.attributes\.username\.$/);
  assert.match(await options({ attributes: { email: { identifier: { active: true }, validation: {} } } }),
    /Additional properties not allowed: validation' on property options\.attributes\.email/);
  assert.match(await options({ attributes: { phone_number: { unique: true } } }), /Additional properties not allowed: unique' on property options\.attributes\.phone_number/);
  assert.match(await options({ attributes: { name: {} } }), /Additional properties not allowed: name' on property options\.attributes\./);
  assert.match(await options({ attributes: {} }), /Too few properties defined \(0\), minimum 1' on property options\.attributes/);
  assert.equal(await options({ attributes: { email: { identifier: { active: true }, unique: true, profile_required: true, verification_method: 'link', signup: { status: 'required' } },
    phone_number: { identifier: { active: false }, profile_required: false, signup: { status: 'inactive' } } } }), null);
  // validation: only username, with min and max both.
  assert.match(await options({ validation: { username: { min: 1 } } }), /Missing required property: max' on property options\.validation\.username/);
  assert.match(await options({ validation: { username: { min: 1, max: 15, chars: 'a-z' } } }), /Additional properties not allowed: chars/);
  assert.match(await options({ validation: { email: {} } }), /Additional properties not allowed: email' on property options\.validation/);
  assert.equal(await options({ validation: { username: { min: 1, max: 15 } } }), null);
  // precedence: all three identifiers, once each.
  assert.match(await options({ precedence: ['email', 'username'] }), /Array is too short \(2\), minimum 3' on property options\.precedence/);
  assert.match(await options({ precedence: ['email', 'username', 'email'] }), /Array items are not unique/);
  assert.match(await options({ precedence: ['email', 'username', 'phone'] }), /No enum match for: "phone"' on property options\.precedence\.2/);
  assert.equal(await options({ precedence: ['username', 'email', 'phone_number'] }), null);
  // passwordPolicy and the password options.
  assert.match(await options({ passwordPolicy: 'strong' }), /^Payload validation error: 'No enum match for: "strong"' on property options\.passwordPolicy\.$/);
  assert.equal(await options({ passwordPolicy: null }), null);
  assert.match(await options({ password_complexity_options: { min_length: 200 } }), /Value 200 is greater than maximum 128' on property options\.password_complexity_options\.min_length/);
  assert.match(await options({ password_complexity_options: { min_length: 8, max_length: 64 } }), /Additional properties not allowed: max_length/);
  assert.match(await options({ password_history: { size: 5 } }), /Missing required property: enable' on property options\.password_history/);
  assert.match(await options({ password_dictionary: { enable: true, dictionary: ['x'.repeat(51)] } }), /String is too long/);
  // customScripts: each a non-empty string; configuration: strings.
  assert.match(await options({ customScripts: { login: '' } }), /String is too short \(0 chars\), minimum 1' on property options\.customScripts\.login/);
  assert.match(await options({ customScripts: { get_user: null } }), /Expected type string but found type null' on property options\.customScripts\.get_user/);
  assert.match(await options({ configuration: { DJEDGE_URL: 42 } }), /Expected type string but found type integer' on property options\.configuration\.DJEDGE_URL/);
  assert.match(await options({ configuration: { DJEDGE_URL: null } }), /Expected type string but found type null/);
  assert.match(await options({ configuration: 'DJEDGE_URL=x' }), /Expected type object(,null)? but found type string' on property options\.configuration/);
  // Booleans where typed.
  for (const key of ['import_mode', 'enabledDatabaseCustomization', 'requires_username', 'brute_force_protection', 'disable_signup', 'enable_script_context']) {
    assert.match(await options({ [key]: 'true' }), new RegExp(`Expected type boolean but found type string' on property options\\.${key}\\.$`), key);
  }
  assert.match(await options({ mfa: { active: 'yes' } }), /on property options\.mfa\.active/);
  // Another strategy's options are held to the generic schema only.
  assert.equal(await requestProblem(CONNECTION_PATCH, { options: { configuration: { A: null }, attributes: { username: { anything: 1 } } } }, { strategy: 'google-oauth2' }), null);
  assert.match(await requestProblem(CONNECTION_PATCH, { options: { import_mode: 1 } }, { strategy: 'google-oauth2' }), /Expected type boolean/);
});

test('request bodies: requires_username or validation never with attributes; password_options never with the legacy settings', async () => {
  const attributes = { email: { identifier: { active: true } } };
  for (const requires of [true, false]) {
    const message = await requestProblem(CONNECTION_POST, { name: 'db', strategy: 'auth0', options: { requires_username: requires, attributes } });
    assert.match(message, /^Payload validation error: '.*requires_username.*attributes.*' on property options\.$/, String(requires));
  }
  assert.match(await requestProblem(CONNECTION_PATCH, { options: { validation: { username: { min: 1, max: 15 } }, attributes } }, database), /validation and attributes/);
  assert.match(await requestProblem(CONNECTION_PATCH, { options: { password_options: {}, passwordPolicy: 'good' } }, database), /password_options cannot be set together with passwordPolicy/);
  // Either alone is fine; a null validation is none (requires_username may not be null: it is a boolean).
  assert.equal(await requestProblem(CONNECTION_PATCH, { options: { requires_username: true, validation: { username: { min: 1, max: 15 } } } }, database), null);
  assert.equal(await requestProblem(CONNECTION_PATCH, { options: { attributes, validation: null } }, database), null);
  assert.match(await requestProblem(CONNECTION_PATCH, { options: { attributes, requires_username: null } }, database), /Expected type boolean but found type null/);
});

// Over HTTP: a tenant with the apps setup and the imports use, the site's connection and Action.
let api;
before(async () => {
  api = await startTenant({
    seed: {
      apps: [{ name: 'management', audience: '<management>', scopes: [...SETUP_SCOPES, 'read:users', 'create:users'] }],
      connections: [EXISTING_CONNECTION, { name: 'custom-db', options: { enabledDatabaseCustomization: true, customScripts: { login: 'function login() {}' } } }],
      actions: [{ name: 'add-roles', supported_triggers: [{ id: 'post-login', version: 'v3' }], code: 'exports.onExecutePostLogin = async () => {};', runtime: 'node22' }],
      bindings: ['add-roles'],
    },
  });
});
after(() => api.close());

async function management(method, path, body) {
  const { client_id, client_secret } = api.apps.management;
  const answer = await fetch(`${api.url}/oauth/token`, json({ grant_type: 'client_credentials', client_id, client_secret, audience: `${api.url}/api/v2/` }));
  const headers = { authorization: `Bearer ${(await answer.json()).access_token}` };
  const init = body instanceof FormData ? { method, headers, body }
    : { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) };
  const response = await fetch(`${api.url}/api/v2${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
const readConnection = async (name) => (await management('GET', `/connections?strategy=auth0&name=${name}`)).body.find((c) => c.name === name);
const apiState = async () => (await fetch(`${api.url}/_test/state`)).json();

test('over HTTP: what djedge sends is accepted, call by call, as setup, finish, users and auth0-import make them', async () => {
  const expectStatus = async (method, path, body, statuses) => {
    const answer = await management(method, path, body);
    assert.ok(statuses.includes(answer.status), `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const audience = 'https://djedge.local/';
  await expectStatus('POST', '/resource-servers', djedge.resourceServer('djedge-users', audience), [201, 200]);
  const app = await expectStatus('POST', '/clients', djedge.client('djedge-users'), [201, 200]);
  await expectStatus('POST', '/client-grants', djedge.clientGrant(app.client_id, audience), [201, 200]);
  const configuration = djedge.configuration({ edgeUrl: 'http://127.0.0.1:8787', domain: api.url, audience, clientId: app.client_id, clientSecret: app.client_secret });
  const ours = djedge.ours(configuration);

  // New connections in both modes; the site's connection through email, username, email again, then finish.
  for (const mode of ['email', 'username']) await expectStatus('POST', '/connections', djedge.newConnection(`djedge-new-${mode}`, ours, mode), [201, 200]);
  for (const mode of ['email', 'username', 'email']) {
    const read = await readConnection('djedge-users');
    await expectStatus('PATCH', `/connections/${read.id}`, djedge.updatedConnection(read.options, ours, mode), [200]);
  }
  const kept = (await readConnection('djedge-users')).options;
  assert.deepEqual(kept.attributes.username.signup, { status: 'optional' }, 'email mode kept the Flexible Identifiers');
  assert.equal(kept.passwordPolicy, 'good');
  const finished = await readConnection('djedge-new-username');
  await expectStatus('PATCH', `/connections/${finished.id}`, djedge.finished(finished.options), [200]);

  // The Action: created, built, deployed, bound after the site's; then updated and deployed again.
  const action = djedge.action('djedge-users', configuration);
  const created = await expectStatus('POST', '/actions/actions', action, [201, 200]);
  const built = async () => { for (let i = 0; i < 5 && (await management('GET', `/actions/actions/${created.id}`)).body.status !== 'built';) i += 1; };
  await built();
  await expectStatus('POST', `/actions/actions/${created.id}/deploy`, djedge.deploy(), [202]);
  const read = (await management('GET', '/actions/triggers/post-login/bindings')).body.bindings;
  await expectStatus('PATCH', '/actions/triggers/post-login/bindings', djedge.bindings(read, created.id, action.name), [200]);
  await expectStatus('PATCH', `/actions/actions/${created.id}`, action, [200]);
  await built();
  await expectStatus('POST', `/actions/actions/${created.id}/deploy`, djedge.deploy(), [202]);
  assert.deepEqual((await apiState()).bindings.map((b) => b.display_name), ['add-roles', action.name]);

  // djedge auth0 users, and auth0-import into the connection setup left in import mode.
  const connection = await readConnection('djedge-users');
  assert.match(connection.id, /^con_[A-Za-z0-9]{16}$/, 'ids as Auth0 makes them');
  await expectStatus('POST', '/jobs/users-exports', djedge.usersExport(connection.id), [200, 201]);
  const job = await expectStatus('POST', '/jobs/users-imports',
    djedge.usersImport(connection.id, 'users-00000.json', JSON.stringify([{ email: 'x@example.com', user_id: 'django_1' }])), [200, 201, 202]);
  assert.equal(job.external_id, 'users-00000.json');
});

test('over HTTP: refused with Auth0\'s 400, and nothing written', async () => {
  const before = await apiState();
  const site = await readConnection('djedge-users');
  const refused = async (method, path, body, pattern) => {
    const answer = await management(method, path, body);
    assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(Object.keys(answer.body).sort(), ['error', 'errorCode', 'message', 'statusCode']);
    assert.equal(answer.body.statusCode, 400);
    assert.equal(answer.body.error, 'Bad Request');
    assert.equal(answer.body.errorCode, 'invalid_body');
    assert.match(answer.body.message, /^Payload validation error: '.+'( on property [\w.]+)?\.$/);
    assert.match(answer.body.message, pattern);
  };
  // An unknown property; a name (or strategy) on a PATCH; a bad attributes.username property;
  // requires_username with attributes; a bad passwordPolicy.
  await refused('POST', '/connections', { name: 'new-db', strategy: 'auth0', options: {}, colour: 'blue' }, /Additional properties not allowed: colour/);
  await refused('PATCH', `/connections/${site.id}`, { name: 'renamed', options: site.options }, /Additional properties not allowed: name/);
  await refused('PATCH', `/connections/${site.id}`, { strategy: 'sms' }, /Additional properties not allowed: strategy/);
  const username = { ...site.options.attributes.username, allowed: true };
  await refused('PATCH', `/connections/${site.id}`, { options: { ...site.options, attributes: { ...site.options.attributes, username } } },
    /Additional properties not allowed: allowed' on property options\.attributes\.username\.$/);
  await refused('PATCH', `/connections/${site.id}`, { options: { ...site.options, requires_username: true } }, /requires_username and attributes/);
  await refused('POST', '/connections', { name: 'both-db', strategy: 'auth0', options: { requires_username: true, attributes: { email: { identifier: { active: true } } } } },
    /requires_username and attributes/);
  await refused('PATCH', `/connections/${site.id}`, { options: { ...site.options, passwordPolicy: 'strong' } }, /No enum match for: "strong"' on property options\.passwordPolicy/);
  // A missing required property; the other writes' unknown ones.
  await refused('POST', '/connections', { name: 'no-strategy' }, /Missing required property: strategy/);
  await refused('POST', '/resource-servers', { identifier: 'https://new.api/', scopes: [{ value: 'read:x' }], audience: 'x' }, /Additional properties not allowed: audience/);
  await refused('POST', '/clients', { name: 'app', client_id: 'mine' }, /Additional properties not allowed: client_id/);
  await refused('POST', '/client-grants', { client_id: api.apps.management.client_id }, /Missing required property: audience/);
  await refused('POST', '/actions/actions', { name: 'a', supported_triggers: [], code: '' }, /Array is too short \(0\), minimum 1/);
  const [action] = before.actions;
  await refused('PATCH', `/actions/actions/${action.id}`, { deploy: true }, /Additional properties not allowed: deploy/);
  await refused('POST', `/actions/actions/${action.id}/deploy`, { version: 2 }, /Additional properties not allowed: version/);
  await refused('PATCH', '/actions/triggers/post-login/bindings', { bindings: [{ ref: { type: 'action_id', value: action.id }, display_name: null }] }, /display_name/);
  await refused('POST', '/jobs/users-exports', { connection_id: site.id, format: 'xlsx' }, /No enum match for: "xlsx"/);
  await refused('POST', '/jobs/users-exports', { connection_id: 'con_nothere' }, /does not match pattern/);

  const after = await apiState();
  assert.deepEqual(after, before, 'nothing refused was written');
  // The PATCH refused is also refused for a connection that does not exist, before its 404.
  assert.equal((await management('PATCH', '/connections/con_0000000000000000', { options: {} })).status, 404);
  assert.equal((await management('PATCH', '/connections/con_0000000000000000', { name: 'x' })).status, 400);
});

test('over HTTP: a users-import\'s multipart fields get Auth0\'s documented 400s', async () => {
  const site = await readConnection('djedge-users');
  const custom = await readConnection('custom-db');
  const importing = async (fields, file = '[]') => {
    const form = new FormData();
    if (file !== null) form.append('users', new Blob([file], { type: 'application/json' }), 'users.json');
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const answer = await management('POST', '/jobs/users-imports', form);
    return answer.status === 400 ? (assert.equal(answer.body.errorCode, 'invalid_body'), answer.body.message) : answer.status;
  };
  assert.equal(await importing({ connection_id: site.id }, null), "Must provide 'users' file as multipart part.");
  assert.equal(await importing({ connection_id: site.id }, ''), 'Users file must not be empty.');
  assert.equal(await importing({}), "Must provide 'connection_id' as multipart part.");
  assert.equal(await importing({ connection_id: 'con_x' }), "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id.");
  assert.equal(await importing({ connection_id: 'con_0000000000000000' }), 'The connection does not exist.');
  assert.equal(await importing({ connection_id: site.id, upsert: 'yes' }), "Payload validation error: 'Expected type boolean but found type string' on property upsert.");
  assert.equal(await importing({ connection_id: custom.id }), 'Custom Database Connections without import mode are not allowed.');
  assert.equal(await importing({ connection_id: site.id, anything: 'else' }), 201, 'the multipart schema is open');
});
