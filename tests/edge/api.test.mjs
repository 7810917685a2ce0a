// The HTTP API against the real Worker in local workerd and against
// `djedge serve`, both answering from the demo Django database's snapshot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, getUser, keptForScripts, login, observed, passwords, spec, targets } from './support.mjs';

// Auth0 could not create these (no email; an email two accounts share):
// `djedge audit` names them, and the edge says so once the password is right.
const cannotLand = { no_email: 'cannot_land', shared_one: 'ambiguous_email', shared_two: 'ambiguous_email' };
const usable = Object.entries(passwords)
  .filter(([name, pw]) => pw !== null && !['inactive_ian', keptForScripts, ...Object.keys(cannotLand)].includes(name));

for (const [name, base] of Object.entries(targets)) {
  test(`${name}: get_user returns login's profile byte for byte, and nothing once the user is in Auth0`, async () => {
    const viaEmail = await getUser(base, 'SAM@example.com');
    const viaLogin = await login(base, 'staff_sam', 'pw-staff');
    assert.equal(viaEmail.status, 200);
    assert.equal(viaEmail.text, viaLogin.text);
    assert.deepEqual(viaLogin.json.app_metadata.django.groups, ['editors']);
    assert.deepEqual((await getUser(base, 'sam@example.com')).json, { error: 'not_found' }, 'migrated: Auth0 holds them');
    assert.equal((await login(base, 'staff_sam', 'pw-staff')).text, viaLogin.text, 'login still answers');
    assert.deepEqual((await getUser(base, 'nobody@example.com')).json, { error: 'not_found' });
    assert.equal((await getUser(base, 'shared@example.com')).status, 409);
  });

  test(`${name}: every active Django user logs in with their password, in every hash format`, async () => {
    for (const [username, password] of usable) {
      const { status, json } = await login(base, username, password);
      assert.equal(status, 200, `${username}: ${JSON.stringify(json)}`);
      assert.equal(json.username, undefined, 'email mode: no profile carries a username');
      assert.match(json.user_id, /^django_\d+$/);
      assert.equal(json.app_metadata.django.id, Number(json.user_id.slice('django_'.length)));
    }
  });

  test(`${name}: unknown login, wrong password and unusable password look the same`, async () => {
    const answers = [
      await login(base, 'alice', 'not-wonderland'),
      await login(base, 'nobody-here', 'wonderland'),
      await login(base, 'nobody@example.com', 'wonderland'),
      await login(base, 'unusable_ulla', ''),
      await login(base, 'unusable_ulla', 'anything'),
      await login(base, 'Alice', 'wonderland'), // usernames match exactly
    ];
    for (const answer of answers) {
      assert.deepEqual([answer.status, answer.text], [401, '{"error":"wrong_credentials"}']);
    }
  });

  test(`${name}: emails log in case-insensitively; a shared one logs nobody in`, async () => {
    assert.equal((await login(base, 'ALICE@Example.com', 'wonderland')).json.user_id, (await login(base, 'alice', 'wonderland')).json.user_id);
    // Shared: its own error only with one of the users' passwords.
    for (const password of ['pw-shared-1', 'pw-shared-2']) {
      const { status, text } = await login(base, 'Shared@Example.com', password);
      assert.deepEqual([status, text], [409, '{"error":"ambiguous_email"}']);
    }
    const wrong = await login(base, 'Shared@Example.com', 'wrong');
    assert.deepEqual([wrong.status, wrong.text], [401, '{"error":"wrong_credentials"}']);
  });

  test(`${name}: a user Auth0 could not create is told so with the right password, and only then`, async () => {
    for (const [username, error] of Object.entries(cannotLand)) {
      const right = await login(base, username, passwords[username]);
      assert.equal(right.status, 409, username);
      assert.equal(right.json.error, error, username);
      assert.deepEqual((await login(base, username, 'wrong')).json, { error: 'wrong_credentials' }, username);
    }
    assert.deepEqual((await login(base, 'no_email', passwords.no_email)).json, { error: 'cannot_land', detail: 'no_email' });
  });

  test(`${name}: an inactive user is told apart only with the right password`, async () => {
    assert.deepEqual((await login(base, 'inactive_ian', 'pw-inactive')).json, { error: 'user_inactive' });
    assert.equal((await login(base, 'inactive_ian', 'wrong')).status, 401);
    assert.equal((await getUser(base, 'ian@example.com')).status, 403);
  });

  test(`${name}: the token comes first, and bad requests get a clear 400`, async () => {
    for (const auth of [null, 'Bearer wrong', `Basic ${process.env.DJEDGE_API_TOKEN}`, process.env.DJEDGE_API_TOKEN]) {
      for (const [method, path] of [['POST', '/v1/login'], ['GET', '/v1/health'], ['GET', '/elsewhere']]) {
        const body = method === 'POST' ? { username: 'alice', password: 'wonderland' } : undefined;
        const { status, text } = await call(base, method, path, body, { auth });
        assert.deepEqual([status, text], [401, '{"error":"unauthorized"}'], `${method} ${path} with ${auth}`);
      }
    }
    assert.equal((await call(base, 'GET', '/v1/health')).status, 200);
    // The scheme is matched in any case (RFC 9110).
    assert.equal((await call(base, 'GET', '/v1/health', undefined, { auth: `bearer ${process.env.DJEDGE_API_TOKEN}` })).status, 200);
    for (const raw of ['', 'nope', '{"username":"alice"}', '{"username":"alice","password":"x","extra":1}', '[]',
      JSON.stringify({ username: 'alice', password: 'x'.repeat(20000) })]) {
      const { status, json } = await call(base, 'POST', '/v1/login', undefined, { raw });
      assert.equal(status, 400, raw.slice(0, 40));
      assert.equal(json.error, 'bad_request');
      assert.ok(json.detail.length > 0);
    }
    assert.deepEqual((await call(base, 'GET', '/v1/login')).json, { error: 'method_not_allowed' });
    assert.deepEqual((await call(base, 'GET', '/v1/nothing')).json, { error: 'unknown_endpoint' });
  });

  test(`${name}: the post-login Action finds a user by their Auth0 id`, async () => {
    const viaLogin = await login(base, 'alice', 'wonderland');
    const viaId = await call(base, 'POST', '/v1/migrated', { user_id: `auth0|${viaLogin.json.user_id}` });
    assert.deepEqual([viaId.status, viaId.text], [200, viaLogin.text]);
    const ian = (await getUser(base, 'ian@example.com'));
    assert.equal(ian.status, 403);
    assert.deepEqual((await call(base, 'POST', '/v1/migrated', { user_id: 'auth0|django_13' })).json, { error: 'user_inactive' });
    for (const user_id of ['auth0|django_99999', 'auth0|65a1b2c3d4', 'google-oauth2|1234', 'django_012']) {
      assert.deepEqual((await call(base, 'POST', '/v1/migrated', { user_id })).json, { error: 'not_found' }, user_id);
    }
  });

  test(`${name}: a login records the migration`, async () => {
    const { json: profile } = await login(base, 'never_logged_in', 'pw-never');
    const id = profile.app_metadata.django.id;
    let found;
    for (let attempt = 0; attempt < 50 && !found; attempt += 1) {
      // The Worker writes the record after answering.
      if (attempt) await new Promise((r) => setTimeout(r, 100));
      let cursor = null;
      do {
        const { json } = await call(base, 'POST', '/v1/migrations', { cursor });
        found = found ?? json.migrations.find((m) => m.id === id);
        cursor = json.cursor;
      } while (cursor);
    }
    assert.ok(found, `no migration record for ${id}`);
    // Recorded at the login: after the services started, not in the future.
    const started = Number(process.env.DJEDGE_STARTED_AT_MS);
    assert.ok(Date.parse(found.at) >= started - 1000 && Date.parse(found.at) <= Date.now() + 1000, `${found.at}`);
  });
}

test('the Worker and djedge serve give the same bytes for the same requests', async () => {
  const requests = [
    ...Object.entries(passwords).filter(([u]) => u !== keptForScripts)
      .map(([u, p]) => ['POST', '/v1/login', { username: u, password: p ?? '' }]),
    ...Object.keys(passwords).map((u) => ['POST', '/v1/login', { username: u, password: 'wrong' }]),
    ['POST', '/v1/login', { username: 'zoe@example.com', password: 'pässwörd-ünïcode' }],
    ['POST', '/v1/login', { username: 'shared@example.com', password: 'pw-shared-1' }],
    ...['alice@example.com', 'ALICE@EXAMPLE.COM', 'shared@example.com', 'ian@example.com', 'nobody@x.org', 'pipe|user', '']
      .map((email) => ['POST', '/v1/get_user', { email }]),
    // GET /v1/health differs by design (only the Worker has Wasm memory to
    // report): the health test below compares the rest of it.
    ['POST', '/v1/health'], ['GET', '/v2'], ['POST', '/v1/login', { username: 1 }],
  ];
  for (const [method, path, body] of requests) {
    const [worker, serve] = await Promise.all([call(targets.worker, method, path, body), call(targets.serve, method, path, body)]);
    assert.deepEqual([worker.status, worker.text], [serve.status, serve.text], `${method} ${path} ${JSON.stringify(body)}`);
  }
});

test('health names the snapshot loaded whole: the manifest\'s digest, on the Worker and on serve', async () => {
  const manifest = JSON.parse(readFileSync(join(process.env.DJEDGE_SNAPSHOT, 'manifest.json'), 'utf8'));
  assert.equal(manifest.files.at(-1).path, 'kv/stamp.json', 'the stamp is loaded last');
  for (const [name, base] of Object.entries(targets)) {
    const { status, json } = await call(base, 'GET', '/v1/health');
    assert.equal(status, 200);
    const { wasm_memory_mib: memory, ...rest } = json;
    assert.deepEqual(rest, { status: 'ok', snapshot: { digest: manifest.digest, users: manifest.users, keys: manifest.keys } });
    // Only the Worker has Wasm memory to report.
    if (name === 'worker') assert.ok(Number.isInteger(memory) && memory > 0, `wasm_memory_mib ${memory}`);
    else assert.equal(memory, undefined);
  }
});

after(() => {
  // openapi.json stays true: every documented operation was exercised, and
  // the answers the demo data can produce were all seen.
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const method of Object.keys(methods)) {
      assert.ok([...observed].some((o) => o.startsWith(`${method.toUpperCase()} ${path} `)), `${method} ${path} never called`);
    }
  }
  for (const expected of ['POST /v1/login 200', 'POST /v1/login 400', 'POST /v1/login 401', 'POST /v1/login 403',
    'POST /v1/login 409', 'POST /v1/get_user 200', 'POST /v1/get_user 403', 'POST /v1/get_user 404',
    'POST /v1/get_user 409', 'POST /v1/migrations 200', 'POST /v1/migrated 200', 'POST /v1/migrated 403',
    'POST /v1/migrated 404', 'GET /v1/health 200', 'GET /v1/health 401']) {
    assert.ok(observed.has(expected), `never saw ${expected}`);
  }
});
