// The local Auth0 tenant's rules for creating database users (checkNewUser),
// each both ways; the users an import-mode connection's scripts hand over
// (POST /_test/script-profile); and users-import jobs end to end, as
// djedge's `auth0-import` drives them: multipart upload, polling, errors.
//
//   node --test tests/auth0/tenant_rules.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startTenant, checkNewUser, RESERVED_APP_METADATA, MAX_IMPORT_FILE_BYTES } from './tenant.mjs';

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
