// A local stand-in for Cloudflare's Workers KV REST API, written from its
// public documentation (developers.cloudflare.com/api, "Workers KV"), for
// `djedge push` tests: the real API is out of reach here. It behaves where
// it bites:
//
// - PUT    /client/v4/accounts/{a}/storage/kv/namespaces/{n}/bulk         up to 10,000 pairs, 100 MB
// - POST   /client/v4/accounts/{a}/storage/kv/namespaces/{n}/bulk/delete  up to 10,000 keys
// - GET    /client/v4/accounts/{a}/storage/kv/namespaces/{n}/values/{key} the raw value, or 404
// - the answer envelope {success, errors: [{code, message}], messages, result}
//   with result {successful_key_count, unsuccessful_keys};
// - keys at most 512 bytes; a bad token is 403 (code 10000);
// - a rate limit (1,200 requests per 5 minutes; here configurable) answered
//   with 429 and Retry-After;
// - failures injected by the test: 429s, 5xx, keys reported unsuccessful.
import http from 'node:http';

export async function startKv({ token, limit = 1200, windowMs = 300_000 } = {}) {
  const namespaces = new Map();
  const state = {
    namespaces,
    /** Every request: {method, path, at, status}. */
    requests: [],
    /** Every write of a key: {namespace, key, op}. */
    writes: [],
    /** Answers to give instead, in order: {status, retryAfter?} or {unsuccessful: n}. */
    inject: [],
    /** From this request number on, answer this status (a broken API). */
    brokenFrom: null,
    rateLimited: 0,
  };
  const recent = [];
  const envelope = (success, result, errors = []) => JSON.stringify({ success, errors, messages: [], result });
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    const answer = (status, text, headers = {}) => {
      state.requests.push({ method: req.method, path: url.pathname, at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    const fail = (status, code, message, headers) => answer(status, envelope(false, null, [{ code, message }]), headers);

    const now = Date.now();
    while (recent.length && recent[0] <= now - windowMs) recent.shift();
    if (recent.length >= limit) {
      state.rateLimited += 1;
      return fail(429, 10429, 'Too many requests', { 'retry-after': String(Math.ceil((recent[0] + windowMs - now) / 1000)) });
    }
    recent.push(now);
    if (req.headers.authorization !== `Bearer ${token}`) return fail(403, 10000, 'Authentication error');
    const number = state.requests.length + 1;
    if (state.brokenFrom !== null && number >= state.brokenFrom) return fail(500, 10001, 'Internal error');
    const injected = state.inject[0]?.status ? state.inject.shift() : null;
    if (injected) {
      const headers = injected.retryAfter ? { 'retry-after': String(injected.retryAfter) } : {};
      return fail(injected.status, 10001, 'Injected failure', headers);
    }

    const match = url.pathname.match(/^\/client\/v4\/accounts\/([^/]+)\/storage\/kv\/namespaces\/([^/]+)\/(bulk|bulk\/delete|values\/(.+))$/);
    if (!match) return fail(404, 7003, 'Could not route to the path');
    const [, account, namespaceId, action, encodedKey] = match;
    const name = `${account}/${namespaceId}`;
    if (!namespaces.has(name)) namespaces.set(name, new Map());
    const kv = namespaces.get(name);
    if (encodedKey !== undefined && req.method === 'GET') {
      const key = decodeURIComponent(encodedKey);
      if (!kv.has(key)) return fail(404, 10009, "get: 'key not found'");
      state.requests.push({ method: req.method, path: url.pathname, at: Date.now(), status: 200 });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(kv.get(key));
    }
    if (body.length > 100 * 1024 * 1024) return fail(413, 10011, 'Request entity too large');
    let items;
    try {
      items = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(400, 10026, 'Could not parse request body');
    }
    if (!Array.isArray(items) || items.length > 10_000) return fail(400, 10026, 'The body must be an array of at most 10,000 items');
    const unsuccessfulCount = state.inject[0]?.unsuccessful ? state.inject.shift().unsuccessful : 0;
    const unsuccessful = [];
    if (action === 'bulk' && req.method === 'PUT') {
      for (const item of items) {
        if (typeof item?.key !== 'string' || typeof item.value !== 'string') return fail(400, 10026, 'Each pair needs a string key and value');
        if (Buffer.byteLength(item.key) > 512) return fail(414, 10033, 'Key longer than 512 bytes');
      }
      for (const [i, item] of items.entries()) {
        if (i < unsuccessfulCount) { unsuccessful.push(item.key); continue; }
        kv.set(item.key, item.value);
        state.writes.push({ namespace: name, key: item.key, op: 'put' });
      }
    } else if (action === 'bulk/delete' && req.method === 'POST') {
      if (!items.every((k) => typeof k === 'string')) return fail(400, 10026, 'The body must be an array of keys');
      for (const [i, key] of items.entries()) {
        if (i < unsuccessfulCount) { unsuccessful.push(key); continue; }
        kv.delete(key);
        state.writes.push({ namespace: name, key, op: 'delete' });
      }
    } else {
      return fail(405, 10000, 'Method not allowed');
    }
    answer(200, envelope(true, { successful_key_count: items.length - unsuccessful.length, unsuccessful_keys: unsuccessful }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/client/v4`;
  return { url, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

// Run on its own (the Django app's tests): prints its API URL, serves until killed.
//   node tests/cloudflare/kv.mjs --token TOKEN
if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { token: { type: 'string' } } });
  const kv = await startKv({ token: values.token });
  console.log(kv.url);
}
