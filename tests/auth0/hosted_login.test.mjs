// The local Auth0 tenant's users endpoints (GET and PATCH
// /api/v2/users/{id}: scopes, 404s, the password and its schema) and its
// hosted login page: the tenant's own users log in with the password it
// holds, an unknown one through an import-mode connection's login script
// (run as Auth0 runs it), who is then kept with that password.
//
//   node --test tests/auth0/hosted_login.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTenant } from './tenant.mjs';

// A login script in Auth0's shape: one function expression, `configuration`
// and Auth0's error classes from its sandbox.
const LOGIN_SCRIPT = `function login(userNameOrEmail, password, callback) {
  if (userNameOrEmail === 'blocked@example.com') return callback(new UnauthorizedError('This account is inactive.'));
  if (userNameOrEmail !== 'new@example.com' || password !== configuration.RIGHT) {
    return callback(new WrongUsernameOrPasswordError(userNameOrEmail));
  }
  callback(null, { user_id: 'django_7', email: 'New@example.com', email_verified: true, metadata: { django: { id: 7 } } });
}`;

let tenant;
const apps = { site: null, writer: null, reader: null };
before(async () => {
  tenant = await startTenant({
    seed: {
      apps: [
        { name: 'site', audience: 'https://other.api/' },
        { name: 'writer', audience: '<management>', scopes: ['read:users', 'update:users'] },
        { name: 'reader', audience: '<management>', scopes: ['read:users'] },
      ],
      connections: [{ name: 'djedge-users', options: { enabledDatabaseCustomization: true, import_mode: true,
        customScripts: { login: LOGIN_SCRIPT }, configuration: { RIGHT: 'wonderland' }, password_complexity_options: { min_length: 8 } } }],
    },
  });
  Object.assign(apps, tenant.apps);
});
after(() => tenant.close());

async function management(app, method, path, body) {
  const { access_token: token } = await (await fetch(`${tenant.url}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret,
      audience: `${tenant.url}/api/v2/` }),
  })).json();
  const response = await fetch(`${tenant.url}/api/v2${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The hosted login, as a browser goes through it: { status, location, page }. */
async function logIn(username, password) {
  const authorize = new URL(`${tenant.url}/authorize`);
  for (const [k, v] of Object.entries({ client_id: apps.site.client_id, response_type: 'code',
    redirect_uri: 'http://site.example/callback', state: 'st', nonce: 'n', scope: 'openid' })) authorize.searchParams.set(k, v);
  const page = await fetch(authorize, { redirect: 'manual' });
  assert.equal(page.status, 200);
  const html = await page.text();
  const action = html.match(/<form method="post" action="([^"]+)"/)[1].replaceAll('&amp;', '&');
  const posted = await fetch(new URL(action, tenant.url), {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  return { status: posted.status, location: posted.headers.get('location'), page: await posted.text() };
}

/** The ID token's claims after a successful login (the code exchanged as the site would). */
async function claimsAfter(location) {
  const back = new URL(location);
  assert.equal(back.searchParams.get('state'), 'st');
  const exchanged = await (await fetch(`${tenant.url}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'authorization_code', code: back.searchParams.get('code'),
      redirect_uri: 'http://site.example/callback', client_id: apps.site.client_id, client_secret: apps.site.client_secret }),
  })).json();
  return JSON.parse(Buffer.from(exchanged.id_token.split('.')[1], 'base64url'));
}

test('login page: an unknown user goes through the login script, is kept, then logs in with the tenant\'s password', async () => {
  const wrong = await logIn('new@example.com', 'not-it');
  assert.equal(wrong.status, 400);
  assert.match(wrong.page, /Wrong email or password/);
  assert.equal(tenant.stats.loginScriptRuns, 1);
  assert.equal((await management(apps.reader, 'GET', '/users/auth0%7Cdjango_7')).status, 404, 'a refused login keeps nobody');

  const first = await logIn('new@example.com', 'wonderland');
  assert.equal(first.status, 302, first.page);
  assert.match(first.location, /^http:\/\/site\.example\/callback\?code=/);
  const claims = await claimsAfter(first.location);
  assert.equal(claims.sub, 'auth0|django_7');
  assert.equal(claims.email, 'new@example.com');
  assert.equal(claims.nonce, 'n');

  const kept = await management(apps.reader, 'GET', '/users/auth0%7Cdjango_7');
  assert.equal(kept.status, 200);
  assert.deepEqual(kept.body.identities, [{ connection: 'djedge-users', user_id: 'django_7', provider: 'auth0', isSocial: false }]);
  assert.deepEqual(kept.body.app_metadata, { django: { id: 7 } });
  assert.ok(!JSON.stringify(kept.body).includes('wonderland'), 'no password shown');

  // Now the tenant's own user: the script is not asked again.
  const again = await logIn('NEW@example.com', 'wonderland');
  assert.equal(again.status, 302);
  assert.equal(tenant.stats.loginScriptRuns, 2);
  assert.equal((await logIn('new@example.com', 'not-it')).status, 400);
  assert.equal(tenant.stats.loginScriptRuns, 2);
});

test('login page: a script\'s UnauthorizedError is shown; an expired page says so', async () => {
  const blocked = await logIn('blocked@example.com', 'whatever');
  assert.equal(blocked.status, 400);
  assert.match(blocked.page, /This account is inactive\./);
  const stale = await fetch(`${tenant.url}/u/login?state=nope`, { method: 'POST', body: new URLSearchParams({ username: 'a', password: 'b' }) });
  assert.equal(stale.status, 400);
  assert.match(await stale.text(), /expired/);
});

test('PATCH /users/{id}: the password changes, the old one is refused; scope, 404 and the schema hold', async () => {
  await logIn('new@example.com', 'wonderland');
  const id = '/users/auth0%7Cdjango_7';
  assert.equal((await management(apps.reader, 'PATCH', id, { password: 'looking-glass', connection: 'djedge-users' })).status, 403);
  assert.equal((await management(apps.writer, 'PATCH', '/users/auth0%7Cdjango_8', { password: 'x', connection: 'djedge-users' })).status, 404);
  const unknownField = await management(apps.writer, 'PATCH', id, { password: 'looking-glass', connection: 'djedge-users', hint: 'x' });
  assert.equal(unknownField.status, 400);
  assert.equal(unknownField.body.errorCode, 'invalid_body');
  assert.match(unknownField.body.message, /Additional properties not allowed: hint/);
  assert.equal((await management(apps.writer, 'PATCH', id, { password: '', connection: 'djedge-users' })).status, 400);
  assert.equal((await management(apps.writer, 'PATCH', id, { password: 'looking-glass', connection: 'elsewhere' })).status, 400);
  assert.equal((await management(apps.writer, 'PATCH', id, { password: 'looking-glass', email: 'x@example.com' })).status, 400);
  const weak = await management(apps.writer, 'PATCH', id, { password: 'seven77', connection: 'djedge-users' });
  assert.deepEqual([weak.status, weak.body.message], [400, 'PasswordStrengthError: Password is too weak'], 'under min_length');
  assert.equal((await logIn('new@example.com', 'looking-glass')).status, 400, 'none of the refused writes changed it');

  const changed = await management(apps.writer, 'PATCH', id, { password: 'looking-glass', connection: 'djedge-users' });
  assert.equal(changed.status, 200);
  assert.ok(changed.body.last_password_reset);
  assert.ok(!JSON.stringify(changed.body).includes('looking-glass'));
  assert.equal((await logIn('new@example.com', 'looking-glass')).status, 302);
  assert.equal((await logIn('new@example.com', 'wonderland')).status, 400, 'the old password is refused');
});
