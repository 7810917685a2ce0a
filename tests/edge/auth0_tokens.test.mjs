// Auth0 machine tokens, end to end: the Worker in local workerd and
// `djedge serve` take the access tokens the local Auth0 tenant
// (tests/auth0/tenant.mjs) issues to the allowed apps, fetch its key set
// over HTTP, follow a key rotation, and refuse everything else with the
// same 401.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { call, setUpConnection, targets, tenant } from './support.mjs';

// The app `djedge auth0 setup` made for the scripts and the Action, and one
// with a grant for another API only.
const { configuration } = (await setUpConnection()).options;
const apps = {
  djedge: { client_id: configuration.DJEDGE_CLIENT_ID, client_secret: configuration.DJEDGE_CLIENT_SECRET },
  other: tenant.apps.other,
};

async function post(path, body) {
  const response = await fetch(tenant.url + path, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** An access token by the client-credentials grant, as the scripts get one. */
async function machineToken(app, audience = configuration.DJEDGE_AUDIENCE) {
  const { client_id, client_secret } = apps[app];
  const { status, json } = await post('/oauth/token', { grant_type: 'client_credentials', client_id, client_secret, audience });
  assert.equal(status, 200, JSON.stringify(json));
  return json.access_token;
}

const signed = async (claims, options = {}) => (await post('/_test/sign', { claims, ...options })).json.token;
const stats = async () => (await fetch(`${tenant.url}/_test/stats`)).json();
const health = (base, token) => call(base, 'GET', '/v1/health', undefined, { auth: `Bearer ${token}` });
const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function claims(overrides = {}) {
  const client = apps.djedge.client_id;
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: `${tenant.url}/`, sub: `${client}@clients`, aud: configuration.DJEDGE_AUDIENCE, iat: now, exp: now + 3600,
    azp: client, gty: 'client-credentials', ...overrides,
  };
}

test('the set-up app\'s tokens get in, at both adapters', async () => {
  for (const base of Object.values(targets)) {
    assert.equal((await health(base, await machineToken('djedge'))).status, 200, base);
    const rfc9068 = claims({ azp: undefined, client_id: apps.djedge.client_id });
    assert.equal((await health(base, await signed(rfc9068))).status, 200, `${base}: the RFC 9068 profile`);
    assert.equal((await health(base, await signed(claims({ aud: ['https://x/', configuration.DJEDGE_AUDIENCE] })))).status, 200, `${base}: aud array`);
  }
});

test('every other token is the same 401, never a 5xx', async () => {
  const good = await machineToken('djedge');
  const [header, payload, signature] = good.split('.');
  const now = Math.floor(Date.now() / 1000);
  const jwks = JSON.stringify((await (await fetch(`${tenant.url}/.well-known/jwks.json`)).json()).keys[0]);
  const hs256Head = b64url({ alg: 'HS256', typ: 'JWT', kid: JSON.parse(jwks).kid });
  const hs256 = `${hs256Head}.${payload}.${createHmac('sha256', jwks).update(`${hs256Head}.${payload}`).digest('base64url')}`;
  const refused = {
    'another API\'s token from the tenant': await machineToken('other', 'https://other.api/'),
    'a user\'s token for the API': await signed(claims({ sub: 'auth0|django_12' })),
    'an app not allowed': await signed(claims({ azp: 'NotAllowedApp', sub: 'NotAllowedApp@clients' })),
    expired: await signed(claims({ iat: now - 7200, exp: now - 3600 })),
    'no exp': await signed(claims({ exp: undefined })),
    'nbf ahead': await signed(claims({ nbf: now + 3600 })),
    'wrong aud': await signed(claims({ aud: 'https://other.api/' })),
    'another tenant': await signed(claims({ iss: 'https://evil.eu.auth0.com/' })),
    'a stranger\'s key under the tenant\'s kid': await signed(claims(), { key: 'stranger', header: { kid: JSON.parse(jwks).kid } }),
    'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
    'HS256 keyed with the public key': hs256,
    'altered claims': `${header}.${b64url(claims({ sub: 'x@clients', azp: 'x' }))}.${signature}`,
    truncated: good.slice(0, -12),
    'not base64': `${header}.${payload}.${signature.slice(0, -4)}!!!!`,
    'three dots': 'a.b.c',
    oversized: `${good}${'A'.repeat(9000)}`,
  };
  for (const base of Object.values(targets)) {
    for (const [what, token] of Object.entries(refused)) {
      const { status, json } = await health(base, token);
      assert.deepEqual([status, json], [401, { error: 'unauthorized' }], `${base}: ${what}`);
    }
  }
});

test('a flood of made-up kids costs at most one key-set fetch a minute; a rotated key is picked up after it', async () => {
  const rotated = (await post('/_test/rotate', {})).json.kid;
  const withNewKey = await signed(claims());
  for (const base of Object.values(targets)) {
    const before = (await stats()).jwksFetches;
    const floods = [];
    for (let n = 0; n < 1000; n += 1) {
      floods.push(signed(claims(), { key: 'stranger', header: { kid: `made-up-${n}` } }).then((t) => health(base, t)));
    }
    for (const { status } of await Promise.all(floods)) assert.equal(status, 401);
    // The first unknown kid may fetch (the new key is then seen); the rest
    // of the minute, none.
    assert.ok((await stats()).jwksFetches - before <= 1, `${base}: ${(await stats()).jwksFetches - before} fetches`);
  }
  // The new key is in the set now, so whichever adapter fetched it takes the
  // token at once; a minute after the flood's fetch, both do.
  await new Promise((resolve) => setTimeout(resolve, 61_000));
  for (const base of Object.values(targets)) {
    assert.equal((await health(base, withNewKey)).status, 200, `${base}: a token under the rotated key ${rotated}`);
  }
});
