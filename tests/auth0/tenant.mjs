// A local Auth0 tenant for the tests, written from Auth0's public
// documentation, since a real tenant is out of reach here. It behaves as
// Auth0 does where djedge depends on it:
//
// - POST /oauth/token, the client-credentials grant (JSON or form body):
//   RS256 access tokens with iss `<base>/`, sub `<client>@clients`, aud,
//   azp, gty, scope, iat and exp; 401 access_denied for a wrong secret, 403
//   access_denied without a client grant for the audience.
// - GET /.well-known/jwks.json: the signing keys, by kid.
// - OpenID Connect for a site's login: discovery, GET /authorize, the
//   authorization-code grant at /oauth/token (client_secret_basic or _post;
//   codes single-use and bound to their redirect_uri) with an RS256 ID
//   token carrying the nonce, and /v2/logout. At /authorize a test may name
//   who signs in (`_test_claims`, the ID token's claims); otherwise the
//   hosted login page (Universal Login's form: email or username, password,
//   POSTed to /u/login) logs them in to a database connection (the one
//   /authorize names with `connection`, else the first enabled for the
//   client, else the tenant's first): a user the tenant holds with the
//   password it holds (the connection's scripts are not asked again); an
//   unknown one, on a custom database connection in import mode, through
//   the connection's `login` script, run as Auth0 runs it (one function
//   expression in a node:vm sandbox with its `configuration`, `global`,
//   Auth0's error classes and the global fetch, 20 s at most), the profile
//   it hands over kept by the rules below, with that password. No SSO
//   session: each /authorize shows the form. Passwords are kept apart from
//   the users (scrypt), never shown; of Auth0's password policy only the
//   minimum length applies (to a PATCH), and a bulk-imported user's hash
//   is not verified (such a user cannot log in on the page).
// - The Management API (audience `<base>/api/v2/`, each call checked for
//   its scope): users (GET /users/{id}, read:users, with their database
//   identity; PATCH /users/{id}, update:users: a new `password` for a
//   database user, `connection` their own if given, never with `email` or
//   `username`, at least the connection's password_complexity_options
//   .min_length long, else 400 PasswordStrengthError; 404 for an unknown
//   user), connections (a PATCH carrying `options` replaces them all;
//   a GET returns `options.configuration` values encrypted), resource
//   servers (by id or identifier), clients (paged; secrets only with
//   read:client_keys), client grants, Actions (built a moment after each
//   write, deployable only once built), and the post-login trigger's
//   bindings (a PATCH replaces them all); users-export jobs (POST
//   /jobs/users-exports, read:users; GET /jobs/{id} says pending, then
//   completed with a `location`: a gzipped NDJSON file of the connection's
//   users with the fields asked for, its link good for 60 s, a fresh one on
//   each GET of the job); users-import jobs (POST /jobs/users-imports,
//   create:users: multipart with a `users` JSON file under 500 KB, at most
//   two jobs pending or processing at once, else 429; GET /jobs/{id} says
//   processing, then completed with a summary; GET /jobs/{id}/errors lists
//   each refused user with Auth0's codes, or 204). Each imported user is
//   checked against Auth0's import schema (users-import.schema.json), then
//   against the rules below.
// - Every Management API write's request is checked against the vendor's
//   request schemas, from the copy in auth0_management.schema.json (Auth0's
//   published Management API schemas as summarised in the project's vendor
//   schemas; its `_copy` names the source) and refused as Auth0 refuses it:
//   400 {statusCode, error, message: "Payload validation error: '…' on
//   property …", errorCode: invalid_body}. Top-level bodies are strict (an
//   unknown property, or one that may not be updated, such as `name` or
//   `strategy` on a connection PATCH; a missing required one); a database
//   connection's `options` are open but their typed parts must match
//   (attributes, validation, precedence, passwordPolicy, the password
//   options, customScripts, configuration, booleans), and never combine
//   requires_username or validation with attributes (Flexible
//   Identifiers), nor password_options with the legacy password settings.
//   A users-import's multipart fields get Auth0's documented 400s.
// - Auth0's rules for creating a database user (checkNewUser, exported):
//   usernames as the connection's options decide (requires_username or
//   Flexible Identifiers, never both), their characters, lengths and
//   uniqueness; emails (required unless the connection says not, their shape
//   and uniqueness, stored lowercased); name lengths; user_id; app_metadata
//   field names; the 10 KB profile limit. Applied to bulk imports and to the
//   users an import-mode connection's scripts hand over.
//
// And, for the tests only, under /_test/: counters (token requests, key-set
// fetches, Management API writes), the whole state in the clear, the users
// (GET, filtered by connection; POST adds them unchecked, with a password
// to log in with if given; `replace` first forgets them all), key rotation,
// the Management API tokens issued so far forgotten,
// signing arbitrary claims with the tenant's key or a stranger's (to make
// the tokens a real tenant would never issue), and POST /_test/script-profile:
// what Auth0 does with the profile a custom database's login or get_user
// script passes to its callback in import mode (creates the user once, by
// the rules above).
//
//   node tests/auth0/tenant.mjs --port N --state FILE
// writes FILE (JSON: url, audience, the seeded machine-to-machine apps) once
// it listens. Importable too: startTenant({ port, seed }).
import http from 'node:http';
import { createHmac, createSign, generateKeyPairSync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import vm from 'node:vm';

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const json = (value) => b64url(JSON.stringify(value));

/** `n` random ASCII letters and digits. */
function alphanumeric(n) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((byte) => alphabet[byte % alphabet.length]).join('');
}
/** A connection id as Auth0 makes them (the users-export and -import schemas' pattern: ^con_[A-Za-z0-9]{16}$). */
const newConnectionId = () => `con_${alphanumeric(16)}`;

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = b64url(randomBytes(12));
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A JWT over `claims`, RS256 under `key` (header overridable). */
export function signJwt(key, claims, header = {}) {
  const head = json({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header });
  const body = json(claims);
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key.privateKey);
  return `${head}.${body}.${b64url(signature)}`;
}

function signHs256(secret, claims) {
  const head = json({ alg: 'HS256', typ: 'JWT' });
  const body = json(claims);
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

async function readRaw(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function readBody(request) {
  const text = (await readRaw(request)).toString('utf8');
  if (!text) return {};
  if ((request.headers['content-type'] || '').includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return JSON.parse(text);
}

function sendHtml(response, status, html) {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(html);
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

// --- Passwords, and the hosted login page -----------------------------------

/** A password as the tenant keeps it: scrypt, salted. */
function hashPassword(password) {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(String(password), salt, 32) };
}

function passwordMatches(stored, password) {
  return Boolean(stored) && timingSafeEqual(stored.hash, scryptSync(String(password), stored.salt, 32));
}

// The errors Auth0 hands custom database scripts, as its docs describe them.
class WrongUsernameOrPasswordError extends Error {
  constructor(userNameOrEmail, message) {
    super(message || 'Wrong email or password.');
    this.name = 'WrongUsernameOrPasswordError';
    this.userNameOrEmail = userNameOrEmail;
  }
}
class UnauthorizedError extends Error {
  constructor(message) { super(message); this.name = 'UnauthorizedError'; }
}
class ValidationError extends Error {
  constructor(code, message) { super(message); this.name = 'ValidationError'; this.code = code; }
}
// Auth0's `global` in custom database scripts: lasts between runs.
const scriptGlobal = {};
const SCRIPT_TIMEOUT_MS = 20_000; // Auth0 gives a script 20 seconds

/**
 * Runs a custom database connection's `login` script as Auth0 does: its
 * source evaluated as one function expression (its name does not matter) in
 * a sandbox with the connection's `configuration`, `global`, Auth0's error
 * classes and the global `fetch`; called with a callback. Resolves with
 * { error, profile }, what the callback got first.
 */
function runLoginScript(source, configuration, userNameOrEmail, password) {
  const sandbox = vm.createContext({
    configuration: { ...configuration }, global: scriptGlobal, fetch, AbortSignal, console,
    WrongUsernameOrPasswordError, UnauthorizedError, ValidationError,
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: new Error('Script execution time exceeded') }), SCRIPT_TIMEOUT_MS);
    const done = (error, profile) => { clearTimeout(timer); resolve({ error, profile }); };
    try {
      const login = vm.runInContext(`(${source}\n)`, sandbox, { filename: 'login' });
      login(userNameOrEmail, password, done);
    } catch (e) {
      done(e);
    }
  });
}

const escapeHtml = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The hosted login page (Universal Login's identifier-and-password form). */
function loginPage(state, { username = '', problem = null } = {}) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in</title>
<style>*{box-sizing:border-box}body{font-family:sans-serif;max-width:24rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}
input,button{padding:.5rem;font-size:1rem}.error{color:#b00020}</style></head>
<body><h1>Welcome</h1><p>Log in to continue.</p>
${problem ? `<p class="error" id="error-element-password" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/u/login?state=${encodeURIComponent(state)}">
<label for="username">Email address or username</label>
<input id="username" name="username" type="text" autocomplete="username" required value="${escapeHtml(username)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="action" value="default">Continue</button>
</form></body></html>
`;
}

// --- Auth0's rules for creating a database user ---------------------------
// From Auth0's docs: "User Profile Structure", "Metadata Field Names and Data
// Types", the Management API's user schema, "Bulk User Import Database Schema
// and Examples", "Adding Username for Database Connections" and "Activate
// and Configure Attributes for Flexible Identifiers". Written apart from the
// Rust side, which implements the same rules: each checks the other.

/** Names Auth0 keeps for itself at the top of app_metadata. */
export const RESERVED_APP_METADATA = ['__tenant', '_id', 'blocked', 'clientID', 'created_at', 'email', 'email_verified',
  'globalClientID', 'global_client_id', 'identities', 'lastIP', 'lastLogin', 'loginsCount', 'metadata', 'multifactor',
  'multifactor_last_modified', 'updated_at', 'user_id'];
/** Auth0's limit on a user profile, serialized (10 KB). */
export const MAX_PROFILE_BYTES = 10 * 1024;
const USERNAME_CHARACTERS = /^[A-Za-z0-9@^$.!`\-#+'~_]+$/;
const USERNAME_MAX = 128; // the Management API's ceiling, whatever a connection says
const EMAIL_SHAPED = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE_SHAPED = /^\+?[1-9][0-9]{6,14}$/; // E.164, the plus optional
const chars = (text) => [...text].length; // code points, not UTF-16 units
const absent = (value) => value === undefined || value === null;
// `path`: the field at fault, which an import job's errors name.
const refuse = (code, message, path = '') => ({ error: { code, message, path } });

/** How a connection uses usernames: null when it does not, else limits; or a misconfiguration. */
function usernamePolicy(options) {
  if (options.requires_username === true && options.attributes != null) {
    return { misconfigured: 'the connection sets both requires_username and attributes; Auth0 takes one or the other' };
  }
  if (options.requires_username === true) {
    const { min = 1, max = 15 } = options.validation?.username ?? {};
    return { required: true, min, max: Math.min(max, USERNAME_MAX) };
  }
  const username = options.attributes?.username;
  if (username?.identifier?.active === true) {
    const { min_length: min = 1, max_length: max = 15, allowed_types: types = {} } = username.validation ?? {};
    return { required: username.profile_required === true, min, max: Math.min(max, USERNAME_MAX),
      email: types.email !== false, phone: types.phone_number !== false };
  }
  return null;
}

/** The first field name with `.` or `$`, at any depth (arrays' objects too), or null. */
function badFieldName(value, path = '') {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = badFieldName(item, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (/[.$]/.test(key)) return `${path}${path ? '.' : ''}${key}`;
      const found = badFieldName(item, `${path}${path ? '.' : ''}${key}`);
      if (found) return found;
    }
  }
  return null;
}

function emailProblem(email) {
  if (typeof email !== 'string') return 'the email must be a string';
  if (/\s/.test(email)) return 'the email has whitespace';
  if (chars(email) > 254) return 'the email is over 254 characters';
  const at = email.lastIndexOf('@');
  if (at < 0 || email.indexOf('@') !== at) return 'the email must have exactly one @';
  const [local, domain] = [email.slice(0, at), email.slice(at + 1)];
  if (!local) return 'the email has nothing before its @';
  if (chars(local) > 64) return "the email's local part is over 64 characters";
  if (!domain || !domain.includes('.')) return "the email's domain must have a dot";
  return null;
}

/**
 * Auth0's checks on creating `profile` as a user of the database
 * `connection` ({ name, options }) beside `existingUsers` (the tenant's, any
 * connection's: only `connection`'s count). `profile.user_id` is without the
 * `auth0|` Auth0 puts before it (one is made up when it has none), its
 * app_metadata under `app_metadata`. Returns { user } (as Auth0 stores it) or
 * { error: { code, message } }.
 */
export function checkNewUser(connection, profile, existingUsers = []) {
  const options = connection?.options ?? {};
  const policy = usernamePolicy(options);
  if (policy?.misconfigured) return refuse('misconfigured_connection', policy.misconfigured);
  if (!profile || typeof profile !== 'object' || Array.isArray(profile)) return refuse('invalid_body', 'the profile must be an object');

  // user_id: Auth0 puts `auth0|` before it, so it must be usable there.
  let id = profile.user_id;
  if (absent(id)) id = randomBytes(12).toString('hex');
  if (typeof id !== 'string' || id === '' || /\s/.test(id) || chars(id) > 255) {
    return refuse('invalid_user_id', 'user_id must be a string of 1 to 255 characters without whitespace', 'user_id');
  }

  // username: whenever there is one Auth0 keeps it, so its rules hold even
  // on a connection that does not use usernames.
  const { username } = profile;
  if (absent(username)) {
    if (policy?.required) return refuse('username_required', 'the connection requires a username', 'username');
  } else {
    if (typeof username !== 'string' || !USERNAME_CHARACTERS.test(username)) {
      return refuse('invalid_username', "a username may only have ASCII letters, digits and @ ^ $ . ! ` - # + ' ~ _", 'username');
    }
    const [min, max] = policy ? [policy.min, policy.max] : [1, USERNAME_MAX];
    if (username.length < min || username.length > max) {
      return refuse('invalid_username', `the username must have ${min} to ${max} characters`, 'username');
    }
    if (policy?.email === false && EMAIL_SHAPED.test(username)) return refuse('invalid_username', 'the connection refuses usernames shaped as emails', 'username');
    if (policy?.phone === false && PHONE_SHAPED.test(username)) return refuse('invalid_username', 'the connection refuses usernames shaped as phone numbers', 'username');
  }

  // email: required unless Flexible Identifiers make it optional; and a user
  // needs some identifier.
  const { email } = profile;
  const hasEmail = !absent(email) && email !== '';
  if (!hasEmail) {
    if (options.attributes?.email?.profile_required !== false) return refuse('email_required', 'the connection requires an email', 'email');
    if (absent(username)) return refuse('email_required', 'a user needs an email or a username', 'email');
  } else {
    const problem = emailProblem(email);
    if (problem) return refuse('invalid_email', problem, 'email');
  }

  for (const [field, max] of [['name', 300], ['given_name', 150], ['family_name', 150], ['nickname', 300]]) {
    const value = profile[field];
    if (absent(value)) continue;
    if (typeof value !== 'string' || chars(value) < 1 || chars(value) > max) {
      return refuse('invalid_name', `${field} must be a string of 1 to ${max} characters`, field);
    }
  }

  for (const field of ['app_metadata', 'user_metadata']) {
    const metadata = profile[field];
    if (absent(metadata)) continue;
    if (typeof metadata !== 'object' || Array.isArray(metadata)) return refuse('invalid_metadata', `${field} must be an object`, field);
    const bad = badFieldName(metadata);
    if (bad) return refuse('invalid_metadata', `${field} field names may not contain . or $: ${bad}`, `${field}.${bad}`);
  }
  const reserved = Object.keys(profile.app_metadata ?? {}).filter((key) => RESERVED_APP_METADATA.includes(key));
  if (reserved.length) return refuse('invalid_metadata', `app_metadata may not hold Auth0's own fields: ${reserved.join(', ')}`, 'app_metadata');

  const user = { user_id: `auth0|${id}`, connection: connection.name };
  if (hasEmail) user.email = email.toLowerCase();
  user.email_verified = profile.email_verified === true;
  if (!absent(username)) user.username = username.toLowerCase();
  for (const field of ['name', 'given_name', 'family_name', 'nickname', 'picture', 'blocked', 'app_metadata', 'user_metadata']) {
    if (!absent(profile[field])) user[field] = profile[field];
  }
  user.created_at = new Date().toISOString();
  const bytes = Buffer.byteLength(JSON.stringify(user));
  if (bytes > MAX_PROFILE_BYTES) return refuse('profile_too_large', `the profile is ${bytes} bytes, over Auth0's ${MAX_PROFILE_BYTES}`);

  // Unique in the connection, case aside: the email first (a user met
  // again), then the username, then the user_id.
  const others = existingUsers.filter((u) => u.connection === connection.name);
  const same = (a, b) => typeof a === 'string' && a.toLowerCase() === b;
  if (user.email && others.some((u) => same(u.email, user.email))) return refuse('user_exists', 'the user already exists', 'email');
  if (user.username && others.some((u) => same(u.username, user.username))) return refuse('username_exists', 'the username is in use', 'username');
  if (others.some((u) => u.user_id === user.user_id)) return refuse('user_id_exists', `a user with the user_id ${user.user_id} already exists`, 'user_id');
  return { user };
}

// --- Bulk imports ----------------------------------------------------------

/** Auth0's limit on a users-import file: "500KB", read as 500,000 bytes, and a file of that size already refused. */
export const MAX_IMPORT_FILE_BYTES = 500 * 1000;
// JSON Schema's `email` format (ajv has no formats of its own): a dotted domain.
const EMAIL_FORMAT = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
// Auth0 validates import files with z-schema: its error codes, for ajv's keywords.
const SCHEMA_CODES = {
  type: 'INVALID_TYPE', required: 'OBJECT_REQUIRED', format: 'INVALID_FORMAT', pattern: 'PATTERN', minLength: 'MIN_LENGTH',
  maxLength: 'MAX_LENGTH', enum: 'ENUM_MISMATCH', anyOf: 'ANY_OF_MISSING', oneOf: 'ONE_OF_MISSING', not: 'NOT_PASSED',
  additionalProperties: 'OBJECT_ADDITIONAL_PROPERTIES', minimum: 'MINIMUM', maximum: 'MAXIMUM',
};
let importSchema; // compiled on the first import job: ajv is needed only then

async function importUserSchema() {
  if (!importSchema) {
    const { default: Ajv } = await import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('email', EMAIL_FORMAT);
    const file = JSON.parse(readFileSync(new URL('./users-import.schema.json', import.meta.url), 'utf8'));
    importSchema = ajv.compile(file.items);
  }
  return importSchema;
}

const typeName = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array'
  : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value);

/**
 * ajv's errors as z-schema (which Auth0 validates with) words them:
 * { code, message, path, at }, `path` the field at fault, `at` where the
 * error was found (for a missing or unknown property, the object holding it).
 */
function describeSchemaErrors(errors, instance) {
  // Only the outcome of an anyOf/oneOf counts, not each branch's complaint.
  const branches = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((e) => !branches.some((b) => e.schemaPath.startsWith(b))).map((e) => {
    const steps = e.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    const value = steps.reduce((v, step) => v?.[step], instance);
    const at = (...more) => [...steps, ...more].join('.');
    const code = SCHEMA_CODES[e.keyword] ?? e.keyword.toUpperCase();
    const where = { code, path: at(), at: at() };
    switch (e.keyword) {
      case 'type': return { ...where, message: `Expected type ${e.params.type} but found type ${typeName(value)}` };
      case 'required': return { ...where, message: `Missing required property: ${e.params.missingProperty}`, path: at(e.params.missingProperty) };
      case 'additionalProperties': return { ...where, message: `Additional properties not allowed: ${e.params.additionalProperty}`, path: at(e.params.additionalProperty) };
      case 'format': return { ...where, message: `Object didn't pass validation for format ${e.params.format}: ${value}` };
      case 'pattern': return { ...where, message: `String does not match pattern ${e.params.pattern}: ${value}` };
      case 'minLength': return { ...where, message: `String is too short (${chars(value)} chars), minimum ${e.params.limit}` };
      case 'maxLength': return { ...where, message: `String is too long (${chars(value)} chars), maximum ${e.params.limit}` };
      case 'enum': return { ...where, message: `No enum match for: ${JSON.stringify(value)}` };
      case 'anyOf': return { ...where, message: "Data does not match any schemas from 'anyOf'" };
      case 'oneOf': return { ...where, message: "Data does not match any schemas from 'oneOf'" };
      case 'not': return { ...where, message: "Data matches schema from 'not'" };
      case 'minimum': return { ...where, message: `Value ${value} is less than minimum ${e.params.limit}` };
      case 'maximum': return { ...where, message: `Value ${value} is greater than maximum ${e.params.limit}` };
      case 'minItems': return { ...where, message: `Array is too short (${value.length}), minimum ${e.params.limit}` };
      case 'maxItems': return { ...where, message: `Array is too long (${value.length}), maximum ${e.params.limit}` };
      case 'uniqueItems': return { ...where, message: `Array items are not unique (indexes ${e.params.j} and ${e.params.i})` };
      case 'minProperties': return { ...where, message: `Too few properties defined (${Object.keys(value).length}), minimum ${e.params.limit}` };
      case 'maxProperties': return { ...where, message: `Too many properties defined (${Object.keys(value).length}), maximum ${e.params.limit}` };
      default: return { ...where, message: e.message ?? e.keyword };
    }
  });
}

/** ajv's errors for one user, as Auth0's job errors give them: { code, message, path }. */
function schemaErrors(errors, user) {
  return describeSchemaErrors(errors, user).map(({ code, message, path }) => ({ code, message, path }));
}

// --- The Management API's request bodies ------------------------------------
// Checked against Auth0's published request schemas, as summarised in
// auth0_management.schema.json (a copy of the project's vendor schemas:
// its `_copy` says whence). Each top-level body is strict (an unknown
// property, or one that may not be updated, such as a connection PATCH's
// `name`, is refused), required properties are required, and typed values
// must match, down to a database connection's `options`: open in general,
// but its typed parts (attributes, validation, precedence, passwordPolicy,
// the password options, customScripts, configuration, booleans) must fit
// the strategy-auth0 schema (ConnectionOptionsAuth0). Auth0's refusal:
// 400, errorCode invalid_body, "Payload validation error: '<reason>' on
// property <where>." (the form `_error_format` quotes).

const MANAGEMENT_SCHEMA_FILE = new URL('./auth0_management.schema.json', import.meta.url);
let managementSchema; // the file, read at the first Management API write
let bodyAjv; // ajv, loaded then too: the tenant starts without either
const compiledBodies = new Map(); // endpoint (+ ' auth0' for a database connection's) → ajv validator

// The summary's schema words JSON Schema has too; `schema` (the OpenAPI
// name), `default`, `contentMediaType` and `format` (Auth0's own formats,
// e.g. client-id) are left out.
const SCHEMA_WORDS = ['type', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems',
  'uniqueItems', 'minProperties', 'maxProperties', 'required'];

/** JSON Schema from one of the summary's schemas. */
function fromSummary(summary) {
  if (!summary || typeof summary !== 'object') return {};
  const schema = {};
  for (const word of SCHEMA_WORDS) if (word in summary) schema[word] = summary[word];
  if (summary.properties) {
    schema.properties = Object.fromEntries(Object.entries(summary.properties).map(([name, s]) => [name, fromSummary(s)]));
  } else if (summary.property_names && summary.additionalProperties === false) {
    // A strict object the summary names the properties of, not their types.
    schema.properties = Object.fromEntries(summary.property_names.map((name) => [name, {}]));
  }
  if (typeof summary.additionalProperties === 'boolean') schema.additionalProperties = summary.additionalProperties;
  else if (summary.additionalProperties) schema.additionalProperties = fromSummary(summary.additionalProperties);
  if (summary.items) schema.items = fromSummary(summary.items);
  if (summary.oneOf) {
    const branches = summary.oneOf.map(fromSummary);
    if (branches.length === 1) Object.assign(schema, branches[0]);
    else schema.oneOf = branches;
  }
  return schema;
}

/** The JSON Schema of `endpoint`'s body; `auth0`: a database connection's, its options per ConnectionOptionsAuth0. */
function bodySchema(endpoint, auth0) {
  const summary = managementSchema.endpoints[endpoint];
  const schema = {
    type: 'object',
    additionalProperties: summary.additionalProperties,
    required: summary.required ?? [],
    properties: Object.fromEntries(Object.entries(summary.properties).map(([name, s]) => [name, fromSummary(s)])),
  };
  if (summary.minProperties !== undefined) schema.minProperties = summary.minProperties;
  if (summary.bindings_item) {
    // A binding as the summary details it apart: display_name a string, ref.type one of three.
    const { ActionBindingWithRef: item, ActionBindingRef: ref } = summary.bindings_item;
    schema.properties.bindings.items = fromSummary({ ...item, properties: { ...item.properties, ref } });
  }
  if (auth0) {
    // The strategy's schema types what the generic one leaves open (the
    // attributes' properties, validation.username, customScripts, …); the
    // generic one's other properties still hold.
    const strategy = fromSummary(managementSchema.database_connection_options.strategy_auth0_schema);
    const generic = schema.properties.options;
    schema.properties.options = { ...generic, properties: { ...generic.properties, ...strategy.properties } };
  }
  return schema;
}

async function bodyValidator(endpoint, auth0) {
  const key = auth0 ? `${endpoint} auth0` : endpoint;
  if (!compiledBodies.has(key)) {
    managementSchema ??= JSON.parse(readFileSync(MANAGEMENT_SCHEMA_FILE, 'utf8'));
    if (!bodyAjv) {
      const { default: Ajv2020 } = await import('ajv/dist/2020.js');
      // The schemas are made here from the summary: not checked against the meta-schema.
      // And compiled unoptimized: half the time, for bodies of a few KB.
      bodyAjv = new Ajv2020({ strict: false, validateSchema: false, code: { optimize: false } });
    }
    if (!managementSchema.endpoints[endpoint]?.properties) throw new Error(`no request schema for ${endpoint}`);
    compiledBodies.set(key, bodyAjv.compile(bodySchema(endpoint, auth0)));
  }
  return compiledBodies.get(key);
}

const payloadError = (reason, where) => `Payload validation error: '${reason}'${where ? ` on property ${where}` : ''}.`;
const present = (value) => value !== undefined && value !== null;
// The legacy password settings password_options replaces.
const LEGACY_PASSWORD_OPTIONS = ['passwordPolicy', 'password_complexity_options', 'password_history', 'password_no_personal_info', 'password_dictionary'];

/**
 * What Auth0 refuses of a database connection's options beyond their schema
 * (the combinations go-auth0 documents as refused; the schema file's
 * `database_connection_options.constraints_from_go_auth0_v1_comments`), or
 * null. Flexible Identifiers (`attributes`) replace `requires_username` and
 * `validation.username`: a connection has one or the other, never both.
 */
function databaseOptionsProblem(options) {
  if (!options || typeof options !== 'object') return null;
  if (present(options.requires_username) && present(options.attributes)) {
    return payloadError('requires_username and attributes cannot be set together: Flexible Identifiers (attributes) replace requires_username', 'options');
  }
  if (present(options.validation) && present(options.attributes)) {
    return payloadError('validation and attributes cannot be set together: Flexible Identifiers (attributes) replace validation.username', 'options');
  }
  const legacy = LEGACY_PASSWORD_OPTIONS.filter((key) => present(options[key]));
  if (present(options.password_options) && legacy.length) {
    return payloadError(`password_options cannot be set together with ${legacy.join(', ')}`, 'options');
  }
  return null;
}

/**
 * Why Auth0 would refuse `body` as the request body of `endpoint` (as the
 * schema file names it, e.g. `PATCH /api/v2/connections/{id}`), or null.
 * `strategy`: the connection's, for a connection PATCH (a POST's is in its
 * body); a database connection's (auth0) options are held to their schema.
 */
export async function requestProblem(endpoint, body, { strategy } = {}) {
  if (endpoint === 'POST /api/v2/actions/actions/{id}/deploy') {
    // No request body is defined (go-auth0 sends none): nothing may be in one.
    if (body === undefined || body === null) return null;
    if (typeof body !== 'object' || Array.isArray(body)) return payloadError(`Expected type object but found type ${typeName(body)}`);
    const [extra] = Object.keys(body);
    return extra === undefined ? null : payloadError(`Additional properties not allowed: ${extra}`);
  }
  const connection = endpoint === 'POST /api/v2/connections' || endpoint === 'PATCH /api/v2/connections/{id}';
  const database = connection && (strategy ?? body?.strategy) === 'auth0';
  const validate = await bodyValidator(endpoint, database);
  if (!validate(body)) {
    const [first] = describeSchemaErrors(validate.errors, body);
    return payloadError(first.message, first.at);
  }
  return database ? databaseOptionsProblem(body.options) : null;
}

/**
 * Why Auth0 would refuse the fields of a users-import job's multipart body
 * (`form`, a FormData), as POST /api/v2/jobs/users-imports documents them,
 * or null. The connection is checked apart (it must exist).
 */
async function importFormProblem(form) {
  managementSchema ??= JSON.parse(readFileSync(MANAGEMENT_SCHEMA_FILE, 'utf8'));
  const { properties, required } = managementSchema.endpoints['POST /api/v2/jobs/users-imports'];
  const users = form.get('users');
  if (!users || typeof users === 'string') return "Must provide 'users' file as multipart part.";
  if (users.size === 0) return 'Users file must not be empty.';
  for (const [name, schema] of Object.entries(properties)) {
    if (name === 'users') continue;
    const value = form.get(name);
    if (value === null) {
      if (required.includes(name)) return `Must provide '${name}' as multipart part.`;
      continue;
    }
    if (typeof value !== 'string') return payloadError(`Expected type ${schema.type} but found type file`, name);
    if (schema.type === 'boolean' && value !== 'true' && value !== 'false') return payloadError('Expected type boolean but found type string', name);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) return payloadError(`String does not match pattern ${schema.pattern}`, name);
  }
  return null;
}

/**
 * Starts the tenant. `seed` holds the APIs (identifier → scopes) and
 * machine-to-machine apps ({ name, audience, scopes }) that exist from the
 * start; each app gets a random id and secret.
 */
export async function startTenant({ port = 0, seed = {} } = {}) {
  const keys = [newKey()];
  const stranger = newKey();
  const stats = { tokenRequests: 0, jwksFetches: 0, managementWrites: 0, passwordChanges: 0, hostedLogins: 0, loginScriptRuns: 0 };
  const clients = new Map(); // client_id → { client_secret, name }
  const grants = []; // { client_id, audience, scope }
  const seeded = {};
  const newClient = (fields) => {
    const client = { client_id: b64url(randomBytes(24)), client_secret: b64url(randomBytes(48)), ...fields };
    clients.set(client.client_id, client);
    return client;
  };
  let base;
  const management = () => `${base}/api/v2/`;
  for (const app of seed.apps ?? []) {
    const client = newClient({ name: app.name, app_type: 'non_interactive' });
    grants.push({ id: `cgr_${b64url(randomBytes(8))}`, client_id: client.client_id, audience: app.audience, scope: app.scopes ?? [] });
    seeded[app.name] = { client_id: client.client_id, client_secret: client.client_secret };
  }
  const connections = new Map(); // id → connection
  for (const connection of seed.connections ?? []) {
    const id = newConnectionId();
    connections.set(id, { id, strategy: 'auth0', enabled_clients: [], realms: [connection.name], ...structuredClone(connection) });
  }
  const resourceServers = new Map(); // id → resource server
  const actions = new Map(); // id → action
  for (const action of seed.actions ?? []) {
    const id = b64url(randomBytes(12));
    actions.set(id, { id, status: 'built', secrets: [], ...structuredClone(action), deployed: structuredClone(action) });
  }
  let bindings = (seed.bindings ?? []).map((name) => {
    const action = [...actions.values()].find((a) => a.name === name);
    return { id: b64url(randomBytes(8)), trigger_id: 'post-login', display_name: name, action: { id: action.id, name } };
  });
  const users = []; // the tenant's users: { user_id, email, connection, app_metadata, created_at, … }
  // user_id → the user's password in Auth0 (scrypt): kept apart from the
  // users, so no listing of them carries it.
  const passwords = new Map();
  const logins = new Map(); // the hosted login page's transactions: state → the /authorize request
  const jobs = new Map(); // id → users-export or users-import job
  const downloads = new Map(); // path → { job, expires }
  let expireNext = 0; // download links to issue already expired (tests)
  const managementTokens = new Map(); // token → scopes
  const codes = new Map(); // code → { client_id, redirect_uri, nonce, sub, claims }
  let nextIdToken = null; // the tests' overrides for the next ID token


  const error = (response, status, message, errorCode) =>
    send(response, status, { statusCode: status, error: http.STATUS_CODES[status], message, ...(errorCode ? { errorCode } : {}) });
  // What Auth0 returns of a connection: configuration values encrypted.
  const shown = (connection) => {
    const copy = structuredClone(connection);
    const configuration = copy.options?.configuration;
    if (configuration) {
      for (const key of Object.keys(configuration)) configuration[key] = `2.0$${b64url(randomBytes(32))}`;
    }
    return copy;
  };
  const clientShown = (client, fields, include) => {
    const all = { ...client };
    if (!fields) { delete all.client_secret; return all; }
    const picked = Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k) === (include !== 'false')));
    return picked;
  };
  // An Action is built a moment after each write.
  const touch = (action) => { action.status = 'pending'; action.builds = 2; };
  const read = (action) => {
    if (action.status === 'pending' && --action.builds <= 0) action.status = 'built';
    const { builds, deployed, ...rest } = action;
    return { ...rest, secrets: rest.secrets.map(({ name }) => ({ name, updated_at: '2026-12-01T00:00:00.000Z' })), all_changes_deployed: JSON.stringify(deployed?.code) === JSON.stringify(action.code) };
  };

  /**
   * What Auth0 does with the profile a custom database script hands to its
   * callback, on a connection in import mode: keeps the user, once, by
   * Auth0's rules. { user, created } or { error: { code, message } }.
   */
  function importScriptProfile(connection, profile) {
    if (connection.options?.import_mode !== true) return refuse('invalid_connection', 'The connection is not in import mode: Auth0 keeps none of its users');
    if (!profile || typeof profile !== 'object' || Array.isArray(profile)) return refuse('invalid_body', 'The profile must be an object');
    if (absent(profile.user_id)) return refuse('invalid_user_id', "A script's profile must carry a user_id");
    const existing = users.find((u) => u.connection === connection.name && u.user_id === `auth0|${profile.user_id}`);
    if (existing) return { user: existing, created: false };
    // Scripts name app_metadata `metadata`; Auth0 reads it there only.
    const { metadata, app_metadata: _unread, ...rest } = profile;
    const checked = checkNewUser(connection, { ...rest, app_metadata: metadata }, users);
    if (checked.error) return checked;
    const user = { ...checked.user, _test_made_by: 'script' };
    users.push(user);
    return { user, created: true };
  }
  // A user as the Management API shows it: the database identity Auth0
  // adds, none of the tenant's own bookkeeping (`_test_…`).
  const userShown = (user) => ({
    ...Object.fromEntries(Object.entries(user).filter(([key]) => !key.startsWith('_test'))),
    identities: [{ connection: user.connection, user_id: user.user_id.replace(/^auth0\|/, ''), provider: 'auth0', isSocial: false }],
  });
  const findUser = (id) => users.find((u) => u.user_id === id);

  // A job as Auth0 shows it: without the tenant's own bookkeeping.
  const jobShown = (job) => {
    const { polls, file, errors, ...rest } = job;
    return rest;
  };
  const activeImports = () => [...jobs.values()].filter((j) => j.type === 'users_import' && ['pending', 'processing'].includes(j.status)).length;
  // What Auth0 updates of an existing user on an upsert ("User Profile Structure").
  const UPSERTED = ['app_metadata', 'user_metadata', 'email_verified', 'given_name', 'family_name', 'name', 'nickname', 'picture'];
  // Runs an import job: each user through the schema, then Auth0's rules.
  async function runImport(job) {
    const connection = connections.get(job.connection_id);
    let list;
    try { list = JSON.parse(job.file); } catch { list = null; }
    if (!Array.isArray(list)) {
      Object.assign(job, { status: 'failed', summary: { failed: 0, updated: 0, inserted: 0, total: 0 },
        errors: [{ user: {}, errors: [{ code: 'INVALID_FORMAT', message: 'The users file must hold a JSON array', path: '' }] }] });
      return;
    }
    const validate = await importUserSchema();
    const summary = { failed: 0, updated: 0, inserted: 0, total: list.length };
    const errors = [];
    const fromFile = []; // this file's users so far: a clash with one is a conflict, not a duplicate
    for (const sent of list) {
      const fail = (...why) => { summary.failed += 1; errors.push({ user: sent, errors: why }); };
      if (!validate(sent)) { fail(...schemaErrors(validate.errors, sent)); continue; }
      const { password_hash: hash, custom_password_hash: custom, ...profile } = sent;
      const checked = checkNewUser(connection, profile, users);
      const { code, message, path } = checked.error ?? {};
      const email = sent.email.toLowerCase();
      if (code === 'user_exists' && fromFile.some((u) => u.email === email)) {
        fail({ code: 'CONFLICT_EMAIL', message: 'The email is also an earlier user\'s in this file.', path: 'email' });
      } else if (code === 'user_exists' && job.upsert) {
        const existing = users.find((u) => u.connection === connection.name && u.email?.toLowerCase() === email);
        const again = checkNewUser(connection, { ...profile, user_id: undefined }, users.filter((u) => u !== existing));
        if (again.error) { fail({ code: again.error.code.toUpperCase(), message: again.error.message, path: again.error.path }); continue; }
        for (const field of UPSERTED) if (field in again.user) existing[field] = again.user[field];
        existing.updated_at = new Date().toISOString();
        summary.updated += 1;
      } else if (code === 'user_exists') {
        fail({ code: 'DUPLICATED_USER', message: 'The user already exist.', path: 'email' });
      } else if (code === 'username_exists') {
        fail({ code: 'CONFLICT_USERNAME', message: 'The username already exists.', path: 'username' });
      } else if (code === 'user_id_exists') {
        fail({ code: 'CONFLICT', message: 'A user with this user_id already exists.', path: 'user_id' });
      } else if (code) {
        fail({ code: code.toUpperCase(), message, path });
      } else {
        // Made by the import; which password form came, never the hash.
        const user = { ...checked.user, _test_made_by: 'users_import', _test_password: custom ? 'custom_password_hash' : hash ? 'password_hash' : null };
        users.push(user);
        fromFile.push(user);
        summary.inserted += 1;
      }
    }
    Object.assign(job, { status: 'completed', summary, errors });
  }

  async function managementApi(request, response, url) {
    const scopes = managementTokens.get((request.headers.authorization || '').replace(/^Bearer /, ''));
    if (!scopes) return error(response, 401, 'Invalid token', 'invalid_token');
    const method = request.method;
    const path = url.pathname.slice('/api/v2'.length);
    const q = url.searchParams;
    const need = (...any) => {
      if (any.some((scope) => scopes.has(scope))) return false;
      error(response, 403, `Insufficient scope, expected any of: ${any.join(',')}`, 'insufficient_scope');
      return true;
    };
    // A body Auth0's request schema refuses: 400 invalid_body, as Auth0 answers.
    const invalid = async (endpoint, options) => {
      const problem = await requestProblem(endpoint, body, options);
      if (problem) error(response, 400, problem, 'invalid_body');
      return Boolean(problem);
    };
    if (method !== 'GET') stats.managementWrites += 1;
    // A multipart body (an import's file) is parsed where it is used.
    const multipart = /^multipart\/form-data/i.test(request.headers['content-type'] ?? '');
    const raw = method !== 'GET' && multipart ? await readRaw(request) : null;
    const body = method === 'GET' || multipart ? {} : await readBody(request);
    let m;
    if (path === '/connections' && method === 'GET') {
      if (need('read:connections')) return;
      const list = [...connections.values()].filter((c) => (!q.get('name') || c.name === q.get('name')) && (!q.get('strategy') || c.strategy === q.get('strategy')));
      return send(response, 200, list.map(shown));
    }
    if (path === '/connections' && method === 'POST') {
      if (need('create:connections') || await invalid('POST /api/v2/connections')) return;
      if ([...connections.values()].some((c) => c.name === body.name)) return error(response, 409, 'A connection with the same name already exists', 'connection_conflicts');
      const id = newConnectionId();
      connections.set(id, { id, name: body.name, strategy: body.strategy, options: body.options ?? {}, enabled_clients: body.enabled_clients ?? [], realms: [body.name] });
      return send(response, 201, shown(connections.get(id)));
    }
    if ((m = path.match(/^\/connections\/([^/]+)$/)) && method === 'PATCH') {
      if (need('update:connections') || await invalid('PATCH /api/v2/connections/{id}')) return;
      const connection = connections.get(m[1]);
      if (!connection) return error(response, 404, 'The connection does not exist', 'inexistent_connection');
      // A database connection's options are held to their own schema too.
      if (connection.strategy === 'auth0' && await invalid('PATCH /api/v2/connections/{id}', { strategy: 'auth0' })) return;
      // Auth0: `options` replaces the whole object.
      if (body.options) connection.options = body.options;
      if (body.enabled_clients) connection.enabled_clients = body.enabled_clients;
      return send(response, 200, shown(connection));
    }
    if ((m = path.match(/^\/resource-servers\/(.+)$/)) && method === 'GET') {
      if (need('read:resource_servers')) return;
      const key = decodeURIComponent(m[1]);
      const found = [...resourceServers.values()].find((r) => r.id === key || r.identifier === key);
      return found ? send(response, 200, found) : error(response, 404, 'The resource server does not exist', 'inexistent_resource_server');
    }
    if (path === '/resource-servers' && method === 'POST') {
      if (need('create:resource_servers') || await invalid('POST /api/v2/resource-servers')) return;
      if ([...resourceServers.values()].some((r) => r.identifier === body.identifier)) return error(response, 409, 'A resource server with the same identifier already exists', 'resource_server_conflict');
      const id = b64url(randomBytes(12));
      resourceServers.set(id, { id, ...body });
      return send(response, 201, resourceServers.get(id));
    }
    if (path === '/clients' && method === 'GET') {
      if (need('read:clients')) return;
      const page = Number(q.get('page') ?? 0);
      const perPage = Number(q.get('per_page') ?? 50);
      const fields = q.get('fields')?.split(',');
      const all = [...clients.values()].map((c) => clientShown(c, fields?.filter((f) => f !== 'client_secret'), q.get('include_fields')));
      return send(response, 200, all.slice(page * perPage, (page + 1) * perPage));
    }
    if ((m = path.match(/^\/clients\/([^/]+)$/)) && method === 'GET') {
      if (need('read:clients')) return;
      const client = clients.get(m[1]);
      if (!client) return error(response, 404, 'The client does not exist', 'inexistent_client');
      const fields = q.get('fields')?.split(',');
      if (fields?.includes('client_secret') && need('read:client_keys')) return;
      return send(response, 200, clientShown(client, fields, q.get('include_fields')));
    }
    if (path === '/clients' && method === 'POST') {
      if (need('create:clients') || await invalid('POST /api/v2/clients')) return;
      return send(response, 201, newClient({ name: body.name, app_type: body.app_type, grant_types: body.grant_types, description: body.description }));
    }
    if (path === '/client-grants' && method === 'GET') {
      if (need('read:client_grants')) return;
      return send(response, 200, grants.filter((g) => (!q.get('audience') || g.audience === q.get('audience')) && (!q.get('client_id') || g.client_id === q.get('client_id'))));
    }
    if (path === '/client-grants' && method === 'POST') {
      if (need('create:client_grants') || await invalid('POST /api/v2/client-grants')) return;
      if (!clients.has(body.client_id)) return error(response, 404, 'Client not found', 'inexistent_client');
      if (grants.some((g) => g.client_id === body.client_id && g.audience === body.audience)) return error(response, 409, 'A client grant for this client and audience already exists', 'client_grant_conflict');
      const grant = { id: `cgr_${b64url(randomBytes(8))}`, client_id: body.client_id, audience: body.audience, scope: body.scope ?? [] };
      grants.push(grant);
      return send(response, 201, grant);
    }
    if (path === '/jobs/users-exports' && method === 'POST') {
      if (need('read:users') || await invalid('POST /api/v2/jobs/users-exports')) return;
      const connection = connections.get(body.connection_id);
      if (body.connection_id && !connection) return error(response, 400, 'The connection does not exist.', 'invalid_body');
      const job = { type: 'users_export', status: 'pending', connection_id: body.connection_id, connection: connection?.name, format: body.format ?? 'csv',
        fields: body.fields, created_at: new Date().toISOString(), id: `job_${b64url(randomBytes(12))}`, polls: 0 };
      jobs.set(job.id, job);
      const { polls, ...shownJob } = job;
      return send(response, 201, shownJob);
    }
    if (path === '/jobs/users-imports' && method === 'POST') {
      if (need('create:users')) return;
      let form;
      try {
        // undici's Request parses multipart bodies (Node has no parser for an IncomingMessage).
        form = await new Request('http://tenant.local/', { method: 'POST', headers: { 'content-type': request.headers['content-type'] }, body: raw }).formData();
      } catch {
        return error(response, 400, "Payload validation error: 'Invalid multipart payload format'.", 'invalid_body');
      }
      // The fields as the schema file describes them, then the connection
      // (Auth0's documented 400s).
      const problem = await importFormProblem(form);
      if (problem) return error(response, 400, problem, 'invalid_body');
      const file = form.get('users');
      const connectionId = form.get('connection_id');
      const connection = connections.get(connectionId);
      if (!connection) return error(response, 400, 'The connection does not exist.', 'invalid_body');
      if (connection.strategy !== 'auth0') return error(response, 400, 'Connection must be a database connection.', 'invalid_body');
      if (connection.options?.enabledDatabaseCustomization === true && connection.options?.import_mode !== true) {
        return error(response, 400, 'Custom Database Connections without import mode are not allowed.', 'invalid_body');
      }
      const flags = Object.fromEntries(['upsert', 'send_completion_email'].map((name) => [name, form.get(name) === 'true']));
      const bytes = Buffer.from(await file.arrayBuffer());
      if (bytes.length >= MAX_IMPORT_FILE_BYTES) {
        return error(response, 413, `The users file is ${bytes.length} bytes; Auth0 takes files under 500KB`, 'too_large');
      }
      // Auth0 runs at most two import jobs of a tenant at once.
      if (activeImports() >= 2) return error(response, 429, 'There are 2 active import users jobs, please wait until any of them finish', 'too_many_requests');
      const job = { type: 'users_import', status: 'pending', id: `job_${b64url(randomBytes(12))}`, connection_id: connectionId,
        connection: connection.name, external_id: form.get('external_id') ?? undefined, upsert: flags.upsert,
        send_completion_email: flags.send_completion_email, created_at: new Date().toISOString(), polls: 0, file: bytes.toString('utf8') };
      jobs.set(job.id, job);
      return send(response, 201, jobShown(job));
    }
    if ((m = path.match(/^\/jobs\/([^/]+)\/errors$/)) && method === 'GET') {
      if (need('read:users', 'create:users')) return;
      const job = jobs.get(m[1]);
      if (!job) return error(response, 404, 'The job does not exist', 'inexistent_job');
      // None yet, or none at all: 204 and no body.
      if (!job.errors?.length) { response.writeHead(204); return response.end(); }
      return send(response, 200, job.errors);
    }
    if ((m = path.match(/^\/jobs\/([^/]+)$/)) && method === 'GET') {
      if (need('read:users')) return;
      const job = jobs.get(m[1]);
      if (!job) return error(response, 404, 'The job does not exist', 'inexistent_job');
      job.polls += 1;
      // An import job: processing at the first poll, done at the second.
      if (job.type === 'users_import') {
        if (job.status === 'pending') job.status = 'processing';
        else if (job.status === 'processing') await runImport(job);
        return send(response, 200, jobShown(job));
      }
      const { polls, ...shownJob } = job;
      if (job.polls < 2) return send(response, 200, shownJob);
      const download = `/_exports/${job.id}/${b64url(randomBytes(12))}.${job.format}.gz`;
      // A link the test asked to be stale is issued as if 60 s had passed.
      const stale = expireNext > 0;
      expireNext -= Number(stale);
      downloads.set(download, { job, expires: stale ? 0 : Date.now() + 60_000 });
      return send(response, 200, { ...shownJob, status: 'completed', location: `${base}${download}` });
    }
    if ((m = path.match(/^\/users\/([^/]+)$/))) {
      const id = decodeURIComponent(m[1]);
      if (method === 'GET') {
        if (need('read:users')) return;
        const user = findUser(id);
        return user ? send(response, 200, userShown(user)) : error(response, 404, 'The user does not exist.', 'inexistent_user');
      }
      if (method === 'PATCH') {
        if (need('update:users') || await invalid('PATCH /api/v2/users/{id}')) return;
        const user = findUser(id);
        if (!user) return error(response, 404, 'The user does not exist.', 'inexistent_user');
        const connection = [...connections.values()].find((c) => c.name === (body.connection ?? user.connection));
        if (body.connection !== undefined && body.connection !== user.connection) {
          return error(response, 400, `The user does not have an identity in the connection ${body.connection}.`, 'invalid_body');
        }
        if (body.password !== undefined) {
          // Auth0's documented refusals: a password only for a database
          // user, and never with the email or username in the same request.
          if (connection?.strategy !== 'auth0') return error(response, 400, 'Cannot update password for non-database connections.', 'operation_not_supported');
          if (body.email !== undefined || body.username !== undefined) {
            return error(response, 400, 'Cannot update password and email or username simultaneously.', 'invalid_body');
          }
          // The connection's password length, the one part of Auth0's
          // password policy kept here.
          const minLength = connection.options?.password_complexity_options?.min_length ?? 1;
          if (chars(body.password) < minLength) return error(response, 400, 'PasswordStrengthError: Password is too weak');
          passwords.set(user.user_id, hashPassword(body.password));
          user.last_password_reset = new Date().toISOString();
          stats.passwordChanges += 1;
        }
        for (const field of ['blocked', 'email_verified', 'given_name', 'family_name', 'name', 'nickname', 'picture']) {
          if (field in body) user[field] = body[field];
        }
        // Metadata is merged at its first level, as Auth0 does.
        for (const field of ['app_metadata', 'user_metadata']) {
          if (body[field]) user[field] = { ...user[field], ...body[field] };
        }
        user.updated_at = new Date().toISOString();
        return send(response, 200, userShown(user));
      }
    }
    if (path === '/actions/actions' && method === 'GET') {
      if (need('read:actions')) return;
      const list = [...actions.values()].filter((a) => (!q.get('actionName') || a.name === q.get('actionName'))
        && (!q.get('triggerId') || a.supported_triggers.some((t) => t.id === q.get('triggerId'))));
      return send(response, 200, { actions: list.map(read), total: list.length, page: 0, per_page: 50 });
    }
    if (path === '/actions/actions' && method === 'POST') {
      if (need('create:actions') || await invalid('POST /api/v2/actions/actions')) return;
      const id = b64url(randomBytes(12));
      const action = { id, name: body.name, supported_triggers: body.supported_triggers, code: body.code, runtime: body.runtime, dependencies: body.dependencies ?? [], secrets: body.secrets ?? [] };
      touch(action);
      actions.set(id, action);
      return send(response, 201, read(action));
    }
    if ((m = path.match(/^\/actions\/actions\/([^/]+)$/))) {
      const action = actions.get(m[1]);
      if (!action) return error(response, 404, 'That action does not exist.', 'not_found');
      if (method === 'GET') return need('read:actions') || send(response, 200, read(action));
      if (method === 'PATCH') {
        if (need('update:actions') || await invalid('PATCH /api/v2/actions/actions/{id}')) return;
        for (const key of ['name', 'supported_triggers', 'code', 'runtime', 'dependencies', 'secrets']) if (key in body) action[key] = body[key];
        touch(action);
        return send(response, 200, read(action));
      }
    }
    if ((m = path.match(/^\/actions\/actions\/([^/]+)\/deploy$/)) && method === 'POST') {
      if (need('update:actions') || await invalid('POST /api/v2/actions/actions/{id}/deploy')) return;
      const action = actions.get(m[1]);
      if (!action) return error(response, 404, 'That action does not exist.', 'not_found');
      if (action.status !== 'built') return error(response, 400, 'An action must be built before it can be deployed.', 'invalid_argument');
      action.deployed = structuredClone({ code: action.code, secrets: action.secrets, runtime: action.runtime });
      return send(response, 202, { id: b64url(randomBytes(8)), action_id: action.id, code: action.code, deployed: true, status: 'built' });
    }
    if (path === '/actions/triggers/post-login/bindings') {
      if (method === 'GET') return need('read:actions') || send(response, 200, { bindings, total: bindings.length, page: 0, per_page: 50 });
      if (method === 'PATCH') {
        if (need('update:actions') || await invalid('PATCH /api/v2/actions/triggers/{triggerId}/bindings')) return;
        const next = [];
        for (const { ref, display_name: displayName } of body.bindings ?? []) {
          const action = ref?.type === 'action_id' ? actions.get(ref.value) : [...actions.values()].find((a) => a.name === ref?.value);
          if (!action || !action.deployed) return error(response, 400, `Action ${ref?.value} must be deployed before it is bound.`, 'invalid_argument');
          next.push({ id: b64url(randomBytes(8)), trigger_id: 'post-login', display_name: displayName ?? action.name, action: { id: action.id, name: action.name } });
        }
        bindings = next;
        return send(response, 200, { bindings });
      }
    }
    return error(response, 404, 'Not Found');
  }

  /** A code for `claims` (the ID token's), and the browser sent back with it. */
  function signedIn(response, authorization, claims) {
    const code = b64url(randomBytes(24));
    const { client_id: clientId, redirect_uri: redirectUri, nonce, state } = authorization;
    codes.set(code, { client_id: clientId, redirect_uri: redirectUri, nonce, claims });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    if (state !== null) back.searchParams.set('state', state);
    response.writeHead(302, { location: back.toString() });
    return response.end();
  }

  /**
   * The database connection a login page is for: the one /authorize names
   * (`connection`), else the first database connection enabled for the
   * client, else the tenant's first database connection.
   */
  function loginConnection({ client_id: clientId, connection: name }) {
    const databases = [...connections.values()].filter((c) => c.strategy === 'auth0');
    if (name) return databases.find((c) => c.name === name);
    return databases.find((c) => c.enabled_clients?.includes(clientId)) ?? databases[0];
  }

  /**
   * A login on the hosted page, as Auth0 decides it for a database
   * connection: a user the tenant holds logs in with the password the
   * tenant holds (the script is not asked again); an unknown one, on a
   * custom database connection in import mode, through the connection's
   * login script, and is then kept, with that password. { user } or
   * { problem }: what the page says.
   */
  async function hostedLogin(authorization, username, password) {
    const wrong = { problem: 'Wrong email or password.' };
    const connection = loginConnection(authorization);
    if (!connection || !username || !password) return wrong;
    const typed = username.toLowerCase();
    const known = users.find((u) => u.connection === connection.name && (u.email === typed || u.username === typed));
    if (known) {
      if (known.blocked) return { problem: 'Your account has been blocked.' };
      return passwordMatches(passwords.get(known.user_id), password) ? { user: known } : wrong;
    }
    const options = connection.options ?? {};
    const script = options.customScripts?.login;
    if (options.enabledDatabaseCustomization !== true || options.import_mode !== true || !script) return wrong;
    stats.loginScriptRuns += 1;
    const { error: failed, profile } = await runLoginScript(script, options.configuration ?? {}, username, password);
    if (failed?.name === 'WrongUsernameOrPasswordError') return wrong;
    // Auth0 shows an UnauthorizedError's message; anything else is its own.
    if (failed?.name === 'UnauthorizedError') return { problem: failed.message };
    if (failed || !profile) return { problem: 'We are sorry, something went wrong when attempting to log in.' };
    const kept = importScriptProfile(connection, profile);
    if (kept.error) return { problem: 'We are sorry, something went wrong when attempting to log in.' };
    passwords.set(kept.user.user_id, hashPassword(password));
    return { user: kept.user };
  }

  const server = http.createServer(async (request, response) => {
    try {
      const url = new URL(request.url, base);
      if (request.method === 'GET' && url.pathname === '/.well-known/jwks.json') {
        stats.jwksFetches += 1;
        return send(response, 200, { keys: keys.map((k) => k.jwk) });
      }
      if (request.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        return send(response, 200, {
          issuer: `${base}/`, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/oauth/token`,
          jwks_uri: `${base}/.well-known/jwks.json`, userinfo_endpoint: `${base}/userinfo`,
          end_session_endpoint: `${base}/oidc/logout`, response_types_supported: ['code'],
          subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256', 'HS256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          scopes_supported: ['openid', 'profile', 'email'],
        });
      }
      if (request.method === 'GET' && url.pathname === '/authorize') {
        const q = url.searchParams;
        const client = clients.get(q.get('client_id'));
        if (!client || q.get('response_type') !== 'code' || !q.get('redirect_uri')) {
          return send(response, 400, { error: 'invalid_request', error_description: 'Unknown client or bad request' });
        }
        const authorization = { client_id: client.client_id, redirect_uri: q.get('redirect_uri'), nonce: q.get('nonce'),
          state: q.get('state'), connection: q.get('connection') };
        // A test names who signs in; anyone else logs in on the page.
        if (q.get('_test_claims') !== null) return signedIn(response, authorization, JSON.parse(q.get('_test_claims')));
        const state = b64url(randomBytes(24));
        logins.set(state, authorization);
        return sendHtml(response, 200, loginPage(state));
      }
      if (request.method === 'POST' && url.pathname === '/u/login') {
        const state = url.searchParams.get('state');
        const authorization = logins.get(state);
        if (!authorization) return sendHtml(response, 400, '<!doctype html><p>Your login session has expired: go back to the site and log in again.</p>');
        const { username = '', password = '' } = await readBody(request);
        stats.hostedLogins += 1;
        const outcome = await hostedLogin(authorization, String(username), String(password));
        if (outcome.problem) return sendHtml(response, 400, loginPage(state, { username, problem: outcome.problem }));
        logins.delete(state);
        const { user } = outcome;
        return signedIn(response, authorization, {
          sub: user.user_id, email: user.email, email_verified: user.email_verified, name: user.name ?? user.email,
          ...(user.username ? { nickname: user.username } : {}),
        });
      }
      if (request.method === 'GET' && url.pathname === '/v2/logout') {
        response.writeHead(302, { location: url.searchParams.get('returnTo') || base });
        return response.end();
      }
      if (request.method === 'POST' && url.pathname === '/oauth/token') {
        stats.tokenRequests += 1;
        const body = await readBody(request);
        if (body.grant_type === 'authorization_code') {
          const basic = (request.headers.authorization || '').match(/^Basic (.+)$/);
          const [id, secret] = basic
            ? Buffer.from(basic[1], 'base64').toString('utf8').split(':').map(decodeURIComponent)
            : [body.client_id, body.client_secret];
          const client = clients.get(id);
          if (!client || client.client_secret !== secret) {
            return send(response, 401, { error: 'access_denied', error_description: 'Unauthorized' });
          }
          const granted = codes.get(body.code);
          codes.delete(body.code);
          if (!granted || granted.client_id !== id || granted.redirect_uri !== body.redirect_uri) {
            return send(response, 403, { error: 'invalid_grant', error_description: 'Invalid authorization code' });
          }
          const now = Math.floor(Date.now() / 1000);
          const overrides = nextIdToken ?? {};
          nextIdToken = null;
          const claims = {
            iss: `${base}/`, aud: id, iat: now, exp: now + 36000, nonce: granted.nonce, ...granted.claims, ...overrides.claims,
          };
          for (const [k, v] of Object.entries(claims)) if (v === null) delete claims[k];
          // 'hs256': signed with the client's secret, which Auth0 offers and
          // a site that wants the tenant's keys must refuse.
          const idToken = overrides.key === 'hs256'
            ? signHs256(client.client_secret, claims)
            : signJwt(overrides.key === 'stranger' ? stranger : keys.at(-1), claims);
          return send(response, 200, { access_token: b64url(randomBytes(32)), id_token: idToken, token_type: 'Bearer', expires_in: 86400, scope: 'openid profile email' });
        }
        if (body.grant_type !== 'client_credentials') {
          return send(response, 403, { error: 'unauthorized_client', error_description: 'Grant type not allowed for the client.' });
        }
        const client = clients.get(body.client_id);
        if (!client || client.client_secret !== body.client_secret) {
          return send(response, 401, { error: 'access_denied', error_description: 'Unauthorized' });
        }
        const grant = grants.find((g) => g.client_id === body.client_id && g.audience === body.audience);
        if (!grant) {
          return send(response, 403, {
            error: 'access_denied',
            error_description: `Client is not authorized to access "${body.audience}". You need to create a "client-grant" associated to this API.`,
          });
        }
        const now = Math.floor(Date.now() / 1000);
        const expiresIn = 86400;
        const accessToken = signJwt(keys.at(-1), {
          iss: `${base}/`, sub: `${client.client_id}@clients`, aud: grant.audience, iat: now, exp: now + expiresIn,
          scope: grant.scope.join(' '), gty: 'client-credentials', azp: client.client_id,
        });
        if (grant.audience === management()) managementTokens.set(accessToken, new Set(grant.scope));
        return send(response, 200, { access_token: accessToken, scope: grant.scope.join(' '), expires_in: expiresIn, token_type: 'Bearer' });
      }
      if (url.pathname.startsWith('/api/v2/')) return await managementApi(request, response, url);
      if (url.pathname.startsWith('/_exports/')) {
        const download = downloads.get(url.pathname);
        if (!download || download.expires < Date.now()) {
          response.writeHead(403, { 'content-type': 'application/xml' });
          return response.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
        }
        const { job } = download;
        const pick = (user) => Object.fromEntries((job.fields ?? [{ name: 'user_id' }, { name: 'email' }])
          .filter(({ name }) => name in user).map(({ name, export_as: as }) => [as ?? name, user[name]]));
        const lines = users.filter((u) => !job.connection || u.connection === job.connection).map((u) => `${JSON.stringify(pick(u))}\n`);
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        return response.end(gzipSync(lines.join('')));
      }
      // --- for the tests only ---------------------------------------------
      if (url.pathname === '/_test/stats') return send(response, 200, stats);
      if (url.pathname === '/_test/state') {
        return send(response, 200, {
          connections: [...connections.values()], resourceServers: [...resourceServers.values()],
          clients: [...clients.values()], grants, actions: [...actions.values()], bindings,
        });
      }
      if (request.method === 'POST' && url.pathname === '/_test/id-token') {
        nextIdToken = await readBody(request);
        return send(response, 200, {});
      }
      if (request.method === 'GET' && url.pathname === '/_test/users') {
        const name = url.searchParams.get('connection');
        return send(response, 200, { users: users.filter((u) => name === null || u.connection === name) });
      }
      if (request.method === 'POST' && url.pathname === '/_test/script-profile') {
        // What Auth0 does with the profile a custom database script hands to
        // its callback, on a connection in import mode: keeps the user, once.
        const { connection: name, profile } = await readBody(request);
        const connection = [...connections.values()].find((c) => c.name === name);
        if (!connection) return error(response, 404, `There is no connection named ${name}`, 'inexistent_connection');
        const kept = importScriptProfile(connection, profile);
        if (kept.error) return error(response, 400, kept.error.message, kept.error.code);
        return send(response, kept.created ? 201 : 200, kept.user);
      }
      if (request.method === 'POST' && url.pathname === '/_test/users') {
        const { users: added = [], replace = false } = await readBody(request);
        if (replace) { users.length = 0; passwords.clear(); }
        for (const { password, ...user } of added) {
          users.push({ created_at: new Date().toISOString(), ...user });
          // A password to log in with on the hosted page, kept apart as any.
          if (password !== undefined) passwords.set(user.user_id, hashPassword(password));
        }
        return send(response, 200, { users: users.length });
      }
      if (request.method === 'POST' && url.pathname === '/_test/expire-exports') {
        expireNext = (await readBody(request)).next ?? 1;
        return send(response, 200, {});
      }
      if (request.method === 'POST' && url.pathname === '/_test/forget-management-tokens') {
        // As if every Management API token so far had been revoked.
        managementTokens.clear();
        return send(response, 200, {});
      }
      if (request.method === 'POST' && url.pathname === '/_test/rotate') {
        keys.push(newKey());
        return send(response, 200, { kid: keys.at(-1).kid });
      }
      if (request.method === 'POST' && url.pathname === '/_test/sign') {
        const { claims, header, key } = await readBody(request);
        return send(response, 200, { token: signJwt(key === 'stranger' ? stranger : keys.at(-1), claims, header) });
      }
      return send(response, 404, { statusCode: 404, error: 'Not Found', message: 'Not found' });
    } catch (e) {
      return send(response, 400, { statusCode: 400, error: 'Bad Request', message: String(e && e.message) });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  for (const grant of grants) if (grant.audience === '<management>') grant.audience = management();
  return { url: base, server, stats, apps: seeded, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The Management API scopes `djedge auth0 setup` needs (README). */
export const SETUP_SCOPES = ['read:connections', 'create:connections', 'update:connections', 'read:connections_options',
  'update:connections_options', 'read:resource_servers', 'create:resource_servers', 'read:clients', 'create:clients',
  'read:client_keys', 'read:client_grants', 'create:client_grants', 'read:actions', 'create:actions', 'update:actions'];

/** A database connection the site made before djedge, with options setup must keep. */
export const EXISTING_CONNECTION = {
  name: 'djedge-users',
  strategy: 'auth0',
  options: {
    passwordPolicy: 'good',
    password_complexity_options: { min_length: 10 },
    brute_force_protection: true,
    requires_username: false,
    mfa: { active: true, return_enroll_settings: true },
    customScripts: { change_password: 'function changePassword(email, newPassword, callback) { callback(null, false); }' },
    configuration: { SITE_SETTING: 'kept by nobody: Auth0 returns it encrypted' },
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, state: { type: 'string' }, audience: { type: 'string' } } });
  const audience = values.audience ?? 'https://djedge.local/';
  const tenant = await startTenant({
    port: Number(values.port ?? 0),
    seed: {
      apps: [
        { name: 'management', audience: '<management>', scopes: SETUP_SCOPES },
        { name: 'other', audience: 'https://other.api/' },
        // For `djedge auth0 users`: what reconciling progress needs, and no more.
        { name: 'users-reader', audience: '<management>', scopes: ['read:connections', 'read:users'] },
        // For `djedge auth0-import`: users-import jobs, polled, their errors read.
        { name: 'importer', audience: '<management>', scopes: ['read:connections', 'create:users', 'read:users'] },
        // The Django site's own application (regular web app, OIDC login).
        { name: 'django', audience: 'https://other.api/' },
        // The Django site's password forms (djedge.forms): who is in Auth0, and their new password.
        { name: 'passwords', audience: '<management>', scopes: ['read:users', 'update:users'] },
      ],
      // What a site already has, for setup to keep.
      connections: [EXISTING_CONNECTION],
      actions: [{ name: 'add-roles', supported_triggers: [{ id: 'post-login', version: 'v3' }], code: 'exports.onExecutePostLogin = async () => {};', runtime: 'node22' }],
      bindings: ['add-roles'],
    },
  });
  writeFileSync(values.state, JSON.stringify({ url: tenant.url, audience, apps: tenant.apps }, null, 2), { mode: 0o600 });
  console.log(`tenant: a local Auth0 tenant on ${tenant.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
}
