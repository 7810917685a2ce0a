// The local Cloudflare API (api.mjs): it refuses what Cloudflare refuses,
// and what is uploaded to it runs: the real built Worker
// (crates/worker/build, scripts/build-worker.sh), uploaded the way the
// Workers script upload API takes it, with the KV namespace `djedge push`
// filled from the demo database's snapshot and its token as a secret,
// answers /v1/health and the demo's logins; secrets survive a re-upload
// only with keep_bindings.
//
//   node --test tests/cloudflare/       (DJEDGE_BIN: the djedge binary, default target/release/djedge)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startCloudflare } from './api.mjs';
import { run } from '../edge/snapshots.mjs';

const token = 'cf-api-test-token-not-a-real-one';
const accountId = '0123456789abcdef0123456789abcdef';
const build = 'crates/worker/build';
const edgeToken = 'edge-token-for-the-uploaded-worker';
const passwords = JSON.parse(readFileSync('tests/fixtures/demo-django-5.2.passwords.json', 'utf8')).passwords;

/** The built Worker's modules as the upload takes them: path-relative names, each with its content type. */
function workerModules() {
  assert.ok(existsSync(join(build, 'worker/shim.mjs')), `no built Worker in ${build}: run scripts/build-worker.sh`);
  const files = readdirSync(build, { recursive: true }).map((f) => String(f)).filter((f) => /\.(m?js|wasm)$/.test(f));
  return files.map((file) => ({
    name: relative(build, join(build, file)),
    type: file.endsWith('.wasm') ? 'application/wasm' : 'application/javascript+module',
    content: readFileSync(join(build, file)),
  }));
}

/** A multipart upload: the metadata part, then each module as a file part named by its module name. */
function form(metadata, modules = workerModules()) {
  const body = new FormData();
  if (metadata !== undefined) body.set('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  for (const m of modules) body.set(m.name, new Blob([m.content], { type: m.type }), m.name);
  return body;
}

const settings = (namespaceId, more = {}) => ({
  main_module: 'worker/shim.mjs',
  compatibility_date: '2026-04-01',
  bindings: [
    { type: 'kv_namespace', name: 'DJEDGE_KV', namespace_id: namespaceId },
    { type: 'plain_text', name: 'DJEDGE_IDENTIFIERS', text: 'email' },
    { type: 'plain_text', name: 'DJEDGE_EMAIL_VERIFIED', text: 'false' },
    { type: 'plain_text', name: 'WEBCRYPTO_PBKDF2_MAX_ITERATIONS', text: '100000' },
  ],
  limits: { cpu_ms: 30000 },
  observability: { enabled: true },
  ...more,
});

async function call(cf, method, path, body, { bearer = token } = {}) {
  const init = { method, headers: { authorization: `Bearer ${bearer}` } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${cf.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
const account = (path) => `/accounts/${accountId}${path}`;
const testInfo = async (cf, name) => (await fetch(`${cf.origin}/_test/scripts/${name}`)).json();

async function edge(url, method, path, body, bearer = edgeToken) {
  const res = await fetch(`${url}${path}`, {
    method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

/** Cloudflare's failure envelope, with this code and a message matching `message`. */
function refused(answer, status, code, message) {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.success, false);
  assert.deepEqual(answer.json.messages, []);
  assert.equal(answer.json.result, null);
  assert.equal(answer.json.errors[0].code, code, JSON.stringify(answer.json.errors));
  if (message) assert.match(answer.json.errors[0].message, message);
}

test('refusals: token, account, namespaces, uploads and secrets as Cloudflare refuses them', async (t) => {
  const cf = await startCloudflare({ token, accountId });
  t.after(() => cf.close());

  refused(await call(cf, 'GET', account('/storage/kv/namespaces'), undefined, { bearer: 'wrong' }), 403, 10000, /Authentication error/);
  refused(await call(cf, 'GET', '/accounts/ffffffffffffffffffffffffffffffff/storage/kv/namespaces'), 404, 7003);

  // Namespaces: the body's schema, a duplicate title, pages.
  refused(await call(cf, 'POST', account('/storage/kv/namespaces'), {}), 400, 10026, /title/);
  refused(await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 7 }), 400, 10026, /title must be string/);
  const made = await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 'djedge' });
  assert.equal(made.status, 200);
  assert.match(made.json.result.id, /^[0-9a-f]{32}$/);
  assert.equal(made.json.result.title, 'djedge');
  refused(await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 'djedge' }), 400, 10014,
    /^a namespace with this account ID and title already exists$/);
  for (const title of ['other', 'third']) assert.equal((await call(cf, 'POST', account('/storage/kv/namespaces'), { title })).status, 200);
  const first = await call(cf, 'GET', account('/storage/kv/namespaces?page=1&per_page=2'));
  assert.deepEqual(first.json.result.map((n) => n.title), ['djedge', 'other']);
  assert.deepEqual(first.json.result_info, { page: 1, per_page: 2, count: 2, total_count: 3, total_pages: 2 });
  const second = await call(cf, 'GET', account('/storage/kv/namespaces?page=2&per_page=2'));
  assert.deepEqual(second.json.result.map((n) => n.title), ['third']);
  refused(await call(cf, 'PUT', account('/storage/kv/namespaces/ffffffffffffffffffffffffffffffff/bulk'), []), 404, 10009, /Unknown namespace/);
  refused(await call(cf, 'PUT', account(`/storage/kv/namespaces/${made.json.result.id}/bulk`), [{ key: 'k' }]), 400, 10026, /value/);

  // Uploads.
  const upload = (body) => call(cf, 'PUT', account('/workers/scripts/djedge'), body);
  const ns = made.json.result.id;
  refused(await upload(form(undefined)), 400, 10021, /^could not read content for part metadata$/);
  refused(await upload(form(settings(ns, { compatibility_date: 'yesterday' }))), 400, 10021, /compatibility_date must match/);
  refused(await upload(form(settings(ns, { keep_bindings: 'secret_text' }))), 400, 10021, /keep_bindings must be array/);
  refused(await upload(form(settings(ns, { limits: { cpu_ms: '30000' } }))), 400, 10021, /cpu_ms must be integer/);
  refused(await upload(form(settings(ns, { main_module: 'shim.mjs' }))), 400, 10021, /Main module name is not present in bundle/);
  refused(await upload(form(settings(ns), workerModules().filter((m) => m.name !== 'worker/shim.mjs'))), 400, 10021,
    /Main module name is not present in bundle/);
  const withBinding = (binding) => form(settings(ns, { bindings: [...settings(ns).bindings, binding] }));
  refused(await upload(withBinding({ type: 'kv_namespace', name: 'OTHER', namespace_id: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' })), 400, 10041,
    /^KV namespace 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' not found\.$/);
  refused(await upload(withBinding({ type: 'kv_namespace', name: 'OTHER', namespace_id: 'djedge' })), 400, 10042, /not valid/);
  refused(await upload(withBinding({ type: 'kv_namespace', name: 'OTHER' })), 400, 10021, /must have a namespace_id specified/);
  refused(await upload(withBinding({ type: 'kv', name: 'OTHER', namespace_id: ns })), 400, 10021, /^binding OTHER of type kv is invalid$/);
  refused(await upload(withBinding({ type: 'plain_text', name: 'DJEDGE_IDENTIFIERS', text: 'username' })), 400, 10021, /more than once/);
  const wrongType = workerModules().map((m) => (m.name.endsWith('.wasm') ? { ...m, type: 'application/x-wasm' } : m));
  refused(await upload(form(settings(ns), wrongType)), 400, 10021, /unsupported content type/);
  refused(await call(cf, 'PUT', account('/workers/scripts/djedge/secrets'), { name: 'A', text: 'b', type: 'secret_text' }), 404, 10007,
    /This Worker does not exist on your account/);
  refused(await call(cf, 'POST', account('/workers/scripts/djedge/subdomain'), { enabled: true }), 404, 10007);
  assert.deepEqual((await call(cf, 'GET', account('/workers/scripts'))).json.result, [], 'no refused upload left a script');

  // Every request is listed, refusals with their status.
  const requests = await (await fetch(`${cf.origin}/_test/requests`)).json();
  assert.deepEqual(requests[0], { method: 'GET', path: `/client/v4/accounts/${accountId}/storage/kv/namespaces`, status: 403 });
  assert.ok(requests.some((r) => r.method === 'PUT' && r.path.endsWith('/workers/scripts/djedge') && r.status === 400));
});

test('the uploaded Worker answers logins from the pushed snapshot; secrets survive a re-upload only with keep_bindings', async (t) => {
  const cf = await startCloudflare({ token, accountId, subdomain: 'djedge-test' });
  t.after(() => cf.close());
  const dir = mkdtempSync(join(tmpdir(), 'djedge-cf-'));
  const exported = await run(['export', '--database', 'sqlite://tests/fixtures/demo-django-5.2.sqlite3', '--out', join(dir, 'snapshot')]);
  assert.equal(exported.status, 0, exported.stderr);
  const { digest } = JSON.parse(readFileSync(join(dir, 'snapshot', 'manifest.json'), 'utf8'));

  assert.deepEqual((await call(cf, 'GET', account('/workers/subdomain'))).json.result, { subdomain: 'djedge-test' });
  const ns = (await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 'djedge' })).json.result.id;
  const uploaded = await call(cf, 'PUT', account('/workers/scripts/djedge'), form(settings(ns)));
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.json));
  assert.equal(uploaded.json.result.id, 'djedge');
  assert.match(uploaded.json.result.etag, /^[0-9a-f]{64}$/);
  let info = await testInfo(cf, 'djedge');
  assert.deepEqual(info.modules.sort(), ['index.js', 'index_bg.wasm', 'worker/shim.mjs']);
  assert.deepEqual(info.ignored_metadata, []);

  // Not on workers.dev until enabled there.
  assert.deepEqual((await call(cf, 'GET', account('/workers/scripts/djedge/subdomain'))).json.result, { enabled: false, previews_enabled: false });
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 404);
  const enabled = await call(cf, 'POST', account('/workers/scripts/djedge/subdomain'), { enabled: true });
  assert.deepEqual(enabled.json.result, { enabled: true, previews_enabled: false });
  // Up, but without its token nobody gets in.
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 401);

  // The secret: listed by name, never by value; the Worker redeployed with it.
  const secret = await call(cf, 'PUT', account('/workers/scripts/djedge/secrets'), { name: 'DJEDGE_API_TOKEN', text: edgeToken, type: 'secret_text' });
  assert.deepEqual(secret.json.result, { name: 'DJEDGE_API_TOKEN', type: 'secret_text' });
  refused(await call(cf, 'PUT', account('/workers/scripts/djedge/secrets'), { name: 'X', text: 'y' }), 400, 10021, /type must be one of/);
  refused(await call(cf, 'PUT', account('/workers/scripts/djedge/secrets'), { name: 'X', type: 'secret_text' }), 400, 10021, /text/);
  assert.deepEqual((await call(cf, 'GET', account('/workers/scripts/djedge/secrets'))).json.result, [{ name: 'DJEDGE_API_TOKEN', type: 'secret_text' }]);
  const health = await edge(info.url, 'GET', '/v1/health');
  assert.equal(health.status, 200, health.text);
  assert.equal(health.json.snapshot, null, 'nothing pushed yet');

  // The push lands in the namespace the running Worker reads.
  const pushed = await run(['push', '--snapshot', join(dir, 'snapshot'), '--account-id', accountId, '--namespace-id', ns, '--api-url', cf.url],
    { CLOUDFLARE_API_TOKEN: token });
  assert.equal(pushed.status, 0, pushed.stderr);
  assert.equal((await edge(info.url, 'GET', '/v1/health')).json.snapshot.digest, digest);
  const login = await edge(info.url, 'POST', '/v1/login', { username: 'alice', password: passwords.alice });
  assert.equal(login.status, 200, login.text);
  assert.notEqual((await edge(info.url, 'POST', '/v1/login', { username: 'alice', password: 'not-hers' })).status, 200);

  // The same upload again, keeping the secrets: same etag, same URL, and a
  // fresh Worker that loads the namespace as it stands.
  const again = await call(cf, 'PUT', account('/workers/scripts/djedge'), form(settings(ns, { keep_bindings: ['secret_text'] })));
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.equal(again.json.result.etag, uploaded.json.result.etag);
  info = await testInfo(cf, 'djedge');
  assert.deepEqual(info.secrets, ['DJEDGE_API_TOKEN']);
  assert.equal((await edge(info.url, 'GET', '/v1/health')).json.snapshot.digest, digest);
  assert.equal((await edge(info.url, 'POST', '/v1/login', { username: 'staff_sam', password: passwords.staff_sam })).status, 200);
  const kept = await call(cf, 'GET', account('/workers/scripts/djedge/settings'));
  assert.deepEqual(kept.json.result.bindings.find((b) => b.type === 'secret_text'), { name: 'DJEDGE_API_TOKEN', type: 'secret_text' }, 'no value shown');

  // A Worker that fails to start is refused; the version before keeps answering.
  const broken = [...workerModules(), { name: 'worker/shim.mjs', type: 'application/javascript+module', content: Buffer.from("throw new Error('boom at startup');") }];
  refused(await call(cf, 'PUT', account('/workers/scripts/djedge'), form(settings(ns, { keep_bindings: ['secret_text'] }), broken)), 400, 10021, /boom at startup/);
  assert.equal((await testInfo(cf, 'djedge')).etag, uploaded.json.result.etag);
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 200);

  // Without keep_bindings the secret is gone, and with it the way in.
  const plain = await call(cf, 'PUT', account('/workers/scripts/djedge'), form(settings(ns)));
  assert.equal(plain.status, 200);
  assert.deepEqual((await call(cf, 'GET', account('/workers/scripts/djedge/secrets'))).json.result, []);
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 401);
  // Put back, then deleted.
  await call(cf, 'PUT', account('/workers/scripts/djedge/secrets'), { name: 'DJEDGE_API_TOKEN', text: edgeToken, type: 'secret_text' });
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 200);
  assert.equal((await call(cf, 'DELETE', account('/workers/scripts/djedge/secrets/DJEDGE_API_TOKEN'))).status, 200);
  assert.equal((await edge(info.url, 'GET', '/v1/health')).status, 401);
  refused(await call(cf, 'DELETE', account('/workers/scripts/djedge/secrets/DJEDGE_API_TOKEN')), 404, 10056);
});

test('test hooks: an injected failure meets the next matching request; the rate limit answers 429 with Retry-After', async (t) => {
  const cf = await startCloudflare({ token, accountId, limit: 4, windowMs: 60_000 });
  t.after(() => cf.close());
  await fetch(`${cf.origin}/_test/fail`, { method: 'POST', body: JSON.stringify({ method: 'POST', path: '/storage/kv/namespaces$', status: 503 }) });
  assert.equal((await call(cf, 'GET', account('/storage/kv/namespaces'))).status, 200, 'not the matching request');
  refused(await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 'x' }), 503, 10001);
  assert.equal((await call(cf, 'POST', account('/storage/kv/namespaces'), { title: 'x' })).status, 200, 'only the next one');
  const limited = await fetch(`${cf.url}${account('/storage/kv/namespaces')}`, { headers: { authorization: `Bearer ${token}` } });
  const again = await fetch(`${cf.url}${account('/storage/kv/namespaces')}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(limited.status, 200);
  assert.equal(again.status, 429);
  assert.ok(Number(again.headers.get('retry-after')) > 0);
});
