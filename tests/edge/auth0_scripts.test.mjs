// js/login.js and js/get_user.js, run the way Auth0 runs them, against the
// real Worker in local workerd, and against a Worker that is down, slow or
// failing: those must be plain Errors, never "wrong password".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { auth0Script, targets, token } from './support.mjs';

const worker = { DJEDGE_URL: `${targets.worker}/`, DJEDGE_TOKEN: token };
const loginWith = (configuration) => auth0Script('login.js', 'login', configuration);
const getUserWith = (configuration) => auth0Script('get_user.js', 'getUser', configuration);

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

test('login.js: an inactive user is UnauthorizedError; a shared email names no one', async () => {
  const inactive = await loginWith(worker)('inactive_ian', 'pw-inactive');
  assert.equal(inactive.error?.name, 'UnauthorizedError');
  const shared = await loginWith(worker)('shared@example.com', 'pw-shared-1');
  assert.equal(shared.error?.name, 'WrongUsernameOrPasswordError');
  assert.match(shared.error.message, /username/);
  assert.equal(shared.profile, undefined);
});

test('get_user.js: a profile, callback(null) when unknown, errors for inactive and shared', async () => {
  const found = await getUserWith(worker)('RITA@example.com');
  assert.equal(found.error, null);
  const { profile } = await loginWith(worker)('root_rita', 'pw-super');
  assert.equal(JSON.stringify(found.profile), JSON.stringify(profile), 'get_user and login give Auth0 the same profile');
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
