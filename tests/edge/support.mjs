// What the edge tests share: the running services (from scripts/edge-up.sh's
// environment), the demo users, a caller that checks every answer against
// openapi.json, and Auth0's script runtime.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const token = required('DJEDGE_API_TOKEN');
export const targets = { worker: required('DJEDGE_WORKER_URL'), serve: required('DJEDGE_SERVE_URL') };
/**
 * A user the API tests never log in, so that the scripts' tests (which run
 * after) see get_user answer for them: a user who has logged in through the
 * edge is in Auth0, and get_user then says "no such user".
 */
export const keptForScripts = 'root_rita';
export const passwords = JSON.parse(readFileSync(`${root}tests/fixtures/demo-django-5.2.passwords.json`, 'utf8')).passwords;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the edge tests through scripts/test.sh (scripts/edge-up.sh starts the services)`);
  return value;
}

/** Every user record in the loaded snapshot (DJEDGE_SNAPSHOT). */
export function demoUsers() {
  const dir = required('DJEDGE_SNAPSHOT');
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
  return manifest.files.flatMap((file) => JSON.parse(readFileSync(`${dir}/${file.path}`, 'utf8')))
    .filter((pair) => pair.key.startsWith('user/'))
    .map((pair) => JSON.parse(pair.value));
}

// --- the API, checked against openapi.json on every call -----------------

export const spec = JSON.parse(readFileSync(`${root}openapi.json`, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
ajv.addSchema(spec, 'openapi');
const pointer = (s) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Every (operation, status) the tests saw, for the coverage check. */
export const observed = new Set();

/** Calls the API and checks the answer is what openapi.json documents. */
export async function call(base, method, path, body, { auth = `Bearer ${token}`, raw } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (auth !== null) headers.authorization = auth;
  const response = await fetch(base + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  const status = response.status;
  assert.equal(response.headers.get('content-type'), 'application/json', `${method} ${path}`);
  assert.equal(response.headers.get('cache-control'), 'no-store', `${method} ${path}`);
  const json = JSON.parse(text);
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (operation) {
    assert.ok(operation.responses[status], `${method} ${path} answered ${status}, which openapi.json does not document: ${text}`);
    const ref = `openapi#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/${pointer('application/json')}/schema`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    assert.ok(validate(json), `${method} ${path} ${status} ${text} does not match openapi.json: ${ajv.errorsText(validate.errors)}`);
    observed.add(`${method} ${path} ${status}`);
  }
  return { status, text, json };
}

export const login = (base, username, password) => call(base, 'POST', '/v1/login', { username, password });
export const getUser = (base, email) => call(base, 'POST', '/v1/get_user', { email });

// --- the local Auth0 tenant (tests/auth0/tenant.mjs) ---------------------

export const tenant = JSON.parse(readFileSync(required('DJEDGE_TENANT'), 'utf8'));

/** The tenant's state in the clear (its _test/ view). */
export async function tenantState() {
  return (await fetch(`${tenant.url}/_test/state`)).json();
}

/** The connection as `djedge auth0 setup` left it in the tenant (scripts edge-up ran it for). */
export async function setUpConnection(name = 'djedge-users') {
  const connection = (await tenantState()).connections.find((c) => c.name === name);
  assert.ok(connection, `no connection ${name} in the tenant`);
  return connection;
}

// --- Auth0's custom database script runtime ------------------------------

// The error classes Auth0 gives custom database scripts.
export class WrongUsernameOrPasswordError extends Error {
  constructor(email, message) {
    super(message || 'Wrong email or password.');
    this.name = 'WrongUsernameOrPasswordError';
    this.email = email;
  }
}
export class UnauthorizedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}
export class ValidationError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ValidationError';
    this.code = code;
  }
}

/**
 * Auth0's `global` in custom database scripts: one object that lasts
 * between runs in a container (the scripts keep their token in it).
 */
export const scriptGlobal = {};

/**
 * Loads js/<file> the way Auth0 runs a custom database script: its source
 * evaluated in a sandbox holding `configuration`, `global`, the error
 * classes and `fetch`, and the named function called with a callback.
 * Resolves with what the callback got, once it has been called, and fails
 * if it is called twice.
 */
export function auth0Script(file, functionName, configuration, source = readFileSync(`${root}js/${file}`, 'utf8')) {
  const sandbox = vm.createContext({
    configuration, fetch, AbortSignal, console, global: scriptGlobal,
    WrongUsernameOrPasswordError, UnauthorizedError, ValidationError,
  });
  vm.runInContext(source, sandbox, { filename: file });
  const fn = sandbox[functionName];
  assert.equal(typeof fn, 'function', `${file} defines ${functionName}`);
  return (...args) => new Promise((resolve, reject) => {
    let calls = 0;
    fn(...args, (error, profile) => {
      calls += 1;
      if (calls > 1) reject(new Error(`${file}: callback called ${calls} times`));
      setTimeout(() => resolve({ error, profile }), 50);
    });
  });
}

/**
 * Runs js/post_login_action.js the way Auth0 runs a post-login Action: a
 * CommonJS module on Node 22, `onExecutePostLogin(event, api)`, with
 * `event.secrets`, `event.connection`, `event.user`, and an `api` whose
 * calls are recorded (`api.cache` lasts across runs, as Auth0's does for a
 * while). Resolves with the calls made.
 */
export function auth0Action(secrets, source = readFileSync(`${root}js/post_login_action.js`, 'utf8'), cache = new Map()) {
  const module = { exports: {} };
  vm.runInContext(source, vm.createContext({ exports: module.exports, module, fetch, AbortSignal, console }), { filename: 'post_login_action.js' });
  assert.equal(typeof module.exports.onExecutePostLogin, 'function');
  return async (connection, user) => {
    const calls = [];
    const api = {
      user: { setAppMetadata: (key, value) => calls.push(['setAppMetadata', key, JSON.parse(JSON.stringify(value))]) },
      access: { deny: (reason) => calls.push(['deny', reason]) },
      cache: {
        get: (key) => (cache.has(key) ? { value: cache.get(key) } : undefined),
        set: (key, value) => { cache.set(key, value); return { type: 'success' }; },
      },
    };
    await module.exports.onExecutePostLogin({ secrets, connection: { name: connection, strategy: 'auth0' }, user }, api);
    return calls;
  };
}
