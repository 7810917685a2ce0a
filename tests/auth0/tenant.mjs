// A local Auth0 tenant for the tests, written from Auth0's public
// documentation, since a real tenant is out of reach here. It behaves as
// Auth0 does where djedge depends on it:
//
// - POST /oauth/token, the client-credentials grant (JSON or form body):
//   RS256 access tokens with iss `<base>/`, sub `<client>@clients`, aud,
//   azp, gty, scope, iat and exp; 401 access_denied for a wrong secret, 403
//   access_denied without a client grant for the audience.
// - GET /.well-known/jwks.json: the signing keys, by kid.
//
// And, for the tests only, under /_test/: counters (token requests, key-set
// fetches), key rotation, and signing arbitrary claims with the tenant's key
// or a stranger's (to make the tokens a real tenant would never issue).
//
//   node tests/auth0/tenant.mjs --port N --state FILE
// writes FILE (JSON: url, audience, the seeded machine-to-machine apps) once
// it listens. Importable too: startTenant({ port, seed }).
import http from 'node:http';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const json = (value) => b64url(JSON.stringify(value));

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

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  if ((request.headers['content-type'] || '').includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return JSON.parse(text);
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * Starts the tenant. `seed` holds the APIs (identifier → scopes) and
 * machine-to-machine apps ({ name, audience, scopes }) that exist from the
 * start; each app gets a random id and secret.
 */
export async function startTenant({ port = 0, seed = {} } = {}) {
  const keys = [newKey()];
  const stranger = newKey();
  const stats = { tokenRequests: 0, jwksFetches: 0 };
  const clients = new Map(); // client_id → { client_secret, name }
  const grants = []; // { client_id, audience, scope }
  const seeded = {};
  for (const app of seed.apps ?? []) {
    const client = { client_id: b64url(randomBytes(24)), client_secret: b64url(randomBytes(48)), name: app.name };
    clients.set(client.client_id, client);
    grants.push({ client_id: client.client_id, audience: app.audience, scope: app.scopes ?? [] });
    seeded[app.name] = { client_id: client.client_id, client_secret: client.client_secret };
  }
  let base;

  const server = http.createServer(async (request, response) => {
    try {
      const url = new URL(request.url, base);
      if (request.method === 'GET' && url.pathname === '/.well-known/jwks.json') {
        stats.jwksFetches += 1;
        return send(response, 200, { keys: keys.map((k) => k.jwk) });
      }
      if (request.method === 'POST' && url.pathname === '/oauth/token') {
        stats.tokenRequests += 1;
        const body = await readBody(request);
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
        return send(response, 200, { access_token: accessToken, scope: grant.scope.join(' '), expires_in: expiresIn, token_type: 'Bearer' });
      }
      // --- for the tests only ---------------------------------------------
      if (url.pathname === '/_test/stats') return send(response, 200, stats);
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
  return { url: base, server, stats, apps: seeded, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, state: { type: 'string' }, audience: { type: 'string' } } });
  const audience = values.audience ?? 'https://djedge.local/';
  const tenant = await startTenant({
    port: Number(values.port ?? 0),
    seed: { apps: [{ name: 'scripts', audience }, { name: 'action', audience }, { name: 'other', audience: 'https://other.api/' }] },
  });
  writeFileSync(values.state, JSON.stringify({ url: tenant.url, audience, apps: tenant.apps }, null, 2), { mode: 0o600 });
  console.log(`tenant: a local Auth0 tenant on ${tenant.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
}
