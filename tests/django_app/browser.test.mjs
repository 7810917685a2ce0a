// The Django site in a real browser, end to end, on its own stack: headless
// Chromium (Debian's, driven by playwright-core) on the test site
// (tests/django_app/testsite, `manage.py runserver`) over a copy of the demo
// Django database, a local Auth0 tenant of its own (tests/auth0/tenant.mjs)
// set up by `manage.py djedge_setup`, and `djedge serve` over the site's
// `manage.py djedge_export` as the edge behind the connection's login
// script (js/login.js).
//
// A staff user who has never logged in through Auth0 logs in on the
// tenant's hosted login page (the script asks the edge, which checks the
// Django hash; Auth0 keeps them), reaches the admin, changes their password
// on the admin's own page (djedge.admin.Auth0AdminSite: set in Auth0 too),
// logs out, is refused with the old password, and gets in with the new one.
// A screenshot of each step goes to target/screenshots/browser-NN-*.png.
//
//   DJEDGE_DJANGO_PYTHON=target/venv-djedge-5.2/bin/python node --test tests/django_app/browser.test.mjs
// (a python with Django and the djedge wheel, whose `djedge` binary is on
// PATH beside it; scripts/test_django.sh runs it so).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const site = join(root, 'tests', 'django_app');
const shots = join(root, 'target', 'screenshots');
const python = process.env.DJEDGE_DJANGO_PYTHON;
// The demo site's staff user (tests/fixtures/demo-django-5.2.passwords.json).
const STAFF = { email: 'sam@example.com', password: 'pw-staff' };
const NEW_PASSWORD = 'a-new-Passw0rd-for-sam';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const children = [];
let scratch;
let env;
let tenant;
let siteUrl;
let browser;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  children.push(child);
  return child;
}

async function waitFor(what, check) {
  for (let i = 0; i < 150; i += 1) {
    try { if (await check()) return; } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not come up`);
}

const manage = (...args) => execFileSync(python, ['-m', 'django', ...args], { cwd: site, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const tenantTest = async (what) => (await fetch(`${tenant.url}/_test/${what}`)).json();

before(async () => {
  assert.ok(python, 'DJEDGE_DJANGO_PYTHON must name a python with Django and the djedge wheel');
  assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM}`);
  mkdirSync(shots, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'djedge-browser-'));

  // The tenant, then the site over a copy of the demo database.
  const state = join(scratch, 'tenant.json');
  start('node', [join(root, 'tests', 'auth0', 'tenant.mjs'), '--port', '0', '--state', state], { stdio: 'ignore' });
  await waitFor('the tenant', () => existsSync(state) && readFileSync(state, 'utf8').length > 0);
  tenant = JSON.parse(readFileSync(state, 'utf8'));
  copyFileSync(join(root, 'tests', 'fixtures', 'demo-django-5.2.sqlite3'), join(scratch, 'site.sqlite3'));
  env = { ...process.env, DJEDGE_TENANT: state, DJEDGE_TEST_DIR: scratch, DJEDGE_TEST_DATABASE: 'sqlite',
    DJEDGE_TEST_USER_MODEL: 'auth.User', DJANGO_SETTINGS_MODULE: 'testsite.settings', PYTHONWARNINGS: 'ignore' };
  manage('migrate', '-v', '0');

  // The edge, as the site owner sets it up: setup (with the Management API
  // application's credentials), the users exported, `djedge serve`.
  const edgePort = await freePort();
  const management = { AUTH0_CLIENT_ID: tenant.apps.management.client_id, AUTH0_CLIENT_SECRET: tenant.apps.management.client_secret };
  const settings = execFileSync(python, ['-m', 'django', 'djedge_setup', '--connection', 'djedge-users', '--edge-url', `http://127.0.0.1:${edgePort}`],
    { cwd: site, env: { ...env, ...management }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const edgeSettings = Object.fromEntries(settings.split('\n').filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  manage('djedge_export', '--out', join(scratch, 'snapshot'));
  const token = randomBytes(24).toString('hex');
  start('djedge', ['serve', '--snapshot', join(scratch, 'snapshot'), '--listen', `127.0.0.1:${edgePort}`],
    { env: { ...env, ...edgeSettings, DJEDGE_API_TOKEN: token } });
  await waitFor('djedge serve', async () => (await fetch(`http://127.0.0.1:${edgePort}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).ok);

  const sitePort = await freePort();
  siteUrl = `http://127.0.0.1:${sitePort}`;
  // --insecure: the admin's styles, with DEBUG off.
  start(python, ['-m', 'django', 'runserver', '--noreload', '--insecure', `127.0.0.1:${sitePort}`], { cwd: site, env });
  await waitFor('the site', async () => (await fetch(`${siteUrl}/`)).ok);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root, without the sandbox; and none of Chromium's own calls home,
    // which this closed network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  for (const child of children) child.kill('SIGTERM');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a migrated staff user logs in through Auth0, changes their password on the site, and only the new one works', { timeout: 240_000 }, async () => {
  const page = await browser.newPage();
  let step = 0;
  const shot = async (name) => {
    step += 1;
    await page.screenshot({ path: join(shots, `browser-${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const logIn = async (password) => {
    await page.fill('#username', STAFF.email);
    await page.fill('#password', password);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
  };

  // 1. The admin sends staff through Auth0: the tenant's hosted login page.
  await page.goto(`${siteUrl}/admin/`);
  assert.ok(page.url().startsWith(`${tenant.url}/authorize?`), page.url());
  await shot('hosted-login');
  assert.deepEqual((await tenantTest('users')).users, [], 'nobody in Auth0 yet');

  // 2. The first login: the login script asks the edge (Django's hash),
  // Auth0 keeps the user, the site lands them on the admin.
  await logIn(STAFF.password);
  await page.waitForURL(`${siteUrl}/admin/`);
  assert.match(await page.textContent('body'), /Site administration/);
  await shot('admin-after-first-login');
  const [kept] = (await tenantTest('users')).users;
  assert.match(kept.user_id, /^auth0\|django_\d+$/);
  assert.equal(kept.email, STAFF.email);
  assert.equal(kept._test_made_by, 'script', 'migrated lazily, through the login script');

  // 3. The admin's own "Change password" page.
  await Promise.all([page.waitForURL(`${siteUrl}/admin/password_change/`), page.click('a[href="/admin/password_change/"]')]);
  await page.fill('input[name=old_password]', STAFF.password);
  await page.fill('input[name=new_password1]', NEW_PASSWORD);
  await page.fill('input[name=new_password2]', NEW_PASSWORD);
  await shot('password-change-form');
  await Promise.all([page.waitForURL(`${siteUrl}/admin/password_change/done/`), page.click('input[type=submit]')]);
  await shot('password-changed');
  assert.equal((await tenantTest('stats')).passwordChanges, 1, 'set in Auth0');

  // 4. Log out (the admin's button), and back to the admin: Auth0 again.
  await Promise.all([page.waitForURL(`${siteUrl}/admin/logout/`), page.click('#logout-form button[type=submit]')]);
  await shot('logged-out');
  await page.goto(`${siteUrl}/admin/`);
  assert.ok(page.url().startsWith(`${tenant.url}/authorize?`), page.url());

  // 5. The old password is refused (by Auth0, which now holds the user).
  await logIn(STAFF.password);
  assert.ok(page.url().startsWith(`${tenant.url}/u/login`), page.url());
  assert.match(await page.textContent('#error-element-password'), /Wrong email or password/);
  await shot('old-password-refused');

  // 6. The new one lets them in.
  await logIn(NEW_PASSWORD);
  await page.waitForURL(`${siteUrl}/admin/`);
  assert.match(await page.textContent('body'), /Site administration/);
  await shot('new-password-admin');
  assert.equal((await tenantTest('stats')).loginScriptRuns, 1, 'the script ran once: Auth0 holds the user since');
});
