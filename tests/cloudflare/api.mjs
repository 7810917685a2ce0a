// A local stand-in for the parts of Cloudflare's API that `djedge push` and
// `djedge deploy` use, written from Cloudflare's public documentation
// (developers.cloudflare.com/api: Workers KV, Workers scripts, secrets,
// workers.dev), its SDKs and wrangler's upload code, since the real API is
// out of reach here. Every request body is checked against Cloudflare's
// published request schemas, from the copy in cloudflare_api.schema.json
// (the project's vendor-schema summary; its `_copy` says whence). It
// behaves as Cloudflare does where djedge depends on it:
//
// - All under /client/v4, a bearer token (403, code 10000 "Authentication
//   error", for any other), one account: /accounts/{id}/… for another id is
//   404 (code 7003). A rate limit (1,200 requests per 5 minutes; here
//   configurable) answered with 429 and Retry-After. Answers in Cloudflare's
//   envelope {success, errors: [{code, message}], messages, result}.
// - Workers KV: namespaces (GET paged with result_info: page, per_page,
//   order, direction; POST {title}, a title the account already has is 400
//   code 10014 "a namespace with this account ID and title already exists");
//   PUT …/bulk (at most 10,000 pairs and 100 MB, keys at most 512 bytes,
//   base64 values decoded), POST …/bulk/delete, GET …/values/{key} (the raw
//   value, or 404 code 10009). An unknown namespace is 404 code 10009
//   "Unknown namespace." (as wrangler's own tests mock it).
// - Workers scripts: PUT /workers/scripts/{name}, multipart/form-data: a
//   `metadata` part (JSON) and one part per module, the part's name being
//   the module's name (what main_module names), each with its content type
//   (application/javascript+module, application/wasm, … as the schema file
//   lists them). Refused with 400 code 10021, as Cloudflare does: no
//   metadata part ("could not read content for part metadata"), metadata
//   not fitting the schema, a main_module that is not among the parts
//   ("Uncaught TypeError: Main module name is not present in bundle."), a
//   binding of a type Cloudflare does not have ("binding X of type Y is
//   invalid") or missing a field its type requires, a kv_namespace binding
//   to a namespace the account does not have (code 10041 "KV namespace 'id'
//   not found."; 10042 "… is not valid." for an id that is no namespace id),
//   and modules that fail to start (workerd's message, as Cloudflare
//   validates each upload by starting it). `keep_bindings` lists the binding
//   types carried over from the previous version (e.g. ["secret_text"]:
//   the secrets survive); every other binding not in the upload is dropped.
//   An `inherit` binding takes the previous version's (10057 if none).
//   Metadata properties no source lists are ignored, as the real API
//   accepts more than the SDKs type (wrangler sends some); the test
//   endpoint below lists them, so a test can insist on none.
//   The answer: id, etag (a SHA-256 of the modules), created_on,
//   modified_on, … . GET /workers/scripts lists them; GET
//   /workers/scripts/{name}/settings gives bindings (secrets without their
//   values), compatibility date and flags, limits, observability.
// - Secrets: PUT /workers/scripts/{name}/secrets {name, text, type:
//   "secret_text"}, GET (names and types, never values), DELETE
//   …/secrets/{name}; 404 code 10007 "This Worker does not exist on your
//   account." for a script not uploaded. Each change redeploys the script.
// - workers.dev: GET/PUT /workers/subdomain (the account's; 404 code 10007
//   when it has none), GET/POST/DELETE /workers/scripts/{name}/subdomain
//   {enabled, previews_enabled}: a script answers on workers.dev only once
//   enabled (an API upload does not enable it, hence wrangler's POST).
//
// Each uploaded script runs in local workerd through Miniflare, with its
// bindings: plain_text, secret_text and json as env values, each KV binding
// backed by this server's own namespace (loaded at start, and every bulk
// write and delete written through before it is answered, so what a push
// wrote is what the Worker reads; through a loader Worker beside it, at
// about 7 ms a key: fine for the demo's 75 keys, slow for 10,000). It is restarted on each upload and
// secret change (the old version answers until the new one is up), and
// answers on its own 127.0.0.1 port, the same across versions: the
// script's stand-in for https://{script}.{subdomain}.workers.dev (404
// "There is nothing here yet" while workers.dev is not enabled).
//
// Error codes seen in Cloudflare's answers (public reports, wrangler's
// code and tests): 10000, 10007, 10009, 10014, 10021, 10041, 10042, 10057.
// The others (7000, 7003, 10011, 10026, 10033, 10053, 10056, 10429) and the
// exact wording of schema refusals are this stand-in's best guess: a client
// should go by the HTTP status and show the message.
//
// And, for the tests only, outside /client/v4 and without the token:
//   GET  /_test/scripts             the scripts' names
//   POST /_test/workers-dev/{name}  {url}: where the script's workers.dev will answer, before its upload
//   GET  /_test/scripts/{name}      {url, workers_dev, modules: [names], bindings (no secret values),
//                                    secrets: [names], etag, compatibility_date, ignored_metadata, logs}
//   GET  /_test/namespaces          [{id, title, keys}]
//   GET  /_test/requests            every API request: {method, path, status}
//   POST /_test/fail                {method?, path? (a regular expression on the whole path, e.g.
//                                    "/workers/scripts/djedge$"), status? (500), times? (1),
//                                    retry_after?}: the next matching API request(s) fail so,
//                                    after the token check (queued behind any failure before it)
// (the exported startCloudflare's `state` holds the same, and more).
//
//   node tests/cloudflare/api.mjs --token T --account A [--port N] [--subdomain S] [--limit N]
// prints the API's URL (…/client/v4) and serves until killed (SIGTERM
// stops the Workers it runs).
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

// --- Cloudflare's request schemas, from the summary ---------------------------

const schemaFile = JSON.parse(readFileSync(new URL('./cloudflare_api.schema.json', import.meta.url), 'utf8'));
const ENDPOINTS = schemaFile.endpoints;
const UPLOAD = ENDPOINTS['PUT /accounts/{account_id}/workers/scripts/{script_name}'];

// The summary's schema words JSON Schema has too (`description`, and
// "not stated" for additionalProperties, are left out).
const SCHEMA_WORDS = ['type', 'enum', 'const', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'required'];

/** JSON Schema from a property the summary describes in words, e.g. "array of string (…)". */
function fromWords(text) {
  const words = text.trim();
  let m;
  if ((m = /^const '([^']*)'/.exec(words))) return { const: m[1] };
  if (/^string \(date/.test(words)) return { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
  if (/^string\b/.test(words)) return { type: 'string' };
  if (/^boolean\b/.test(words)) return { type: 'boolean' };
  if (/^number\b/.test(words)) return { type: 'number' };
  if (/^array of string\b/.test(words)) return { type: 'array', items: { type: 'string' } };
  if ((m = /^array of ([\w]+(?:\|\w+)+)/.exec(words))) return { type: 'array', items: { enum: m[1].split('|') } };
  if (/^array\b/.test(words)) return { type: 'array' };
  if (/^object\b/.test(words) || words.startsWith('{')) return { type: 'object' };
  // "enum: 2024 spec bundled|unbound; TS 7.1.0 standard|bundled|unbound; …": any source's value.
  if (/^(enum\b|\w+\|)/.test(words)) return { enum: [...new Set([...words.matchAll(/\b\w+(?:\|\w+)+\b/g)].flatMap(([a]) => a.split('|')))] };
  return {};
}

/** JSON Schema from one of the summary's schemas. */
function fromSummary(summary) {
  if (typeof summary === 'string') return fromWords(summary);
  if (!summary || typeof summary !== 'object' || Array.isArray(summary)) return {};
  const schema = {};
  for (const word of SCHEMA_WORDS) if (word in summary) schema[word] = summary[word];
  if (summary.properties) schema.properties = Object.fromEntries(Object.entries(summary.properties).map(([k, v]) => [k, fromSummary(v)]));
  if (summary.items) schema.items = fromSummary(summary.items);
  if (typeof summary.additionalProperties === 'boolean') schema.additionalProperties = summary.additionalProperties;
  return schema;
}

/** Every metadata property any source names (the docs' "main_module (required)" read as main_module). */
const METADATA_PROPERTIES = new Set(Object.values(UPLOAD.metadata_properties).flat().map((p) => p.split(' ')[0]));

function metadataSchema() {
  const properties = Object.fromEntries(Object.entries(UPLOAD.metadata_field_types).map(([name, words]) => [name, fromWords(words)]));
  // Each binding is an object with a string type and name; what else its
  // type requires is checked apart (bindingProblem), for Cloudflare's message.
  properties.bindings = { type: 'array', items: { type: 'object', required: ['type', 'name'], properties: { type: { type: 'string' }, name: { type: 'string' } } } };
  // The summary names limits and observability (TS and Go) but not their
  // shape: typed here from the TypeScript SDK it cites
  // (src/resources/workers/scripts/scripts.ts ScriptUpdateParams.Metadata.Limits, .Observability).
  properties.limits = { type: 'object', properties: { cpu_ms: { type: 'integer', minimum: 1 }, subrequests: { type: 'integer', minimum: 1 } } };
  properties.observability = { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' }, head_sampling_rate: { type: ['number', 'null'] } } };
  return { type: 'object', properties };
}

/** The binding types Cloudflare has, each with the fields it requires (TS 7.1.0's union). */
const BINDING_TYPES = (() => {
  const { other_types: others, ...shapes } = UPLOAD.binding_shapes_ts_7_1_0;
  const types = new Map(Object.entries(shapes).map(([type, shape]) => [type, shape.required.filter((f) => f !== 'type')]));
  for (const type of others) types.set(type, ['name']);
  return types;
})();
// What this stand-in runs; the rest Cloudflare has but djedge does not use.
const RUNNABLE_BINDINGS = new Set(['kv_namespace', 'plain_text', 'secret_text', 'json', 'inherit']);

/** The module content types the upload takes ("Allowed content types: a, b, … (TS 7.1.0; …)"). */
const MODULE_CONTENT_TYPES = (() => {
  const text = UPLOAD.parts['<module parts>'];
  const start = text.indexOf('Allowed content types:') + 'Allowed content types:'.length;
  return new Set(text.slice(start, text.indexOf(' (', start)).split(',').map((t) => t.trim()));
})();
// How workerd takes each (Miniflare's module types); source maps are kept, not run.
const MINIFLARE_MODULE_TYPES = {
  'application/javascript+module': 'ESModule', 'text/javascript+module': 'ESModule',
  'application/javascript': 'CommonJS', 'text/javascript': 'CommonJS',
  'application/wasm': 'CompiledWasm', 'text/plain': 'Text', 'application/octet-stream': 'Data',
  'text/x-python': 'PythonModule', 'text/x-python-requirement': 'PythonRequirement',
};

let ajv; // loaded with the first body to check
const validators = new Map();
async function validator(name, schema) {
  if (!validators.has(name)) {
    if (!ajv) {
      const { default: Ajv2020 } = await import('ajv/dist/2020.js');
      ajv = new Ajv2020({ allErrors: false, strict: false, validateSchema: false });
    }
    validators.set(name, ajv.compile(schema()));
  }
  return validators.get(name);
}

/** Why `body` does not fit the schema `name` (made by `schema()`), or null. */
async function schemaProblem(name, schema, body, what = 'body') {
  const validate = await validator(name, schema);
  if (validate(body)) return null;
  const [e] = validate.errors;
  const where = e.instancePath ? `${what}${e.instancePath.replaceAll('/', '.')}` : what;
  if (e.keyword === 'required') return `${where}: missing required property '${e.params.missingProperty}'`;
  if (e.keyword === 'enum') return `${where} must be one of ${e.params.allowedValues.join(', ')}`;
  if (e.keyword === 'const') return `${where} must be '${e.params.allowedValue}'`;
  return `${where} ${e.message}`;
}

const BODIES = {
  namespace: () => fromSummary(ENDPOINTS['POST /accounts/{account_id}/storage/kv/namespaces'].body),
  bulk: () => fromSummary(ENDPOINTS['PUT /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/bulk'].body),
  bulkDelete: () => fromSummary(ENDPOINTS['POST /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/bulk/delete'].body),
  metadata: metadataSchema,
  // One branch of the body's oneOf, chosen by `type` (its discriminator).
  secret_text: () => ({ type: 'object', ...fromSummary(ENDPOINTS['PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets'].body_oneOf.secret_text) }),
  secret_key: () => ({ type: 'object', ...fromSummary(ENDPOINTS['PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets'].body_oneOf.secret_key) }),
  // Not in the summary: from the TypeScript SDK (workers/scripts/subdomain.ts SubdomainCreateParams).
  scriptSubdomain: () => ({ type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' }, previews_enabled: { type: 'boolean' } } }),
  // Not in the summary: from the TypeScript SDK (workers/subdomains.ts SubdomainUpdateParams).
  accountSubdomain: () => ({ type: 'object', required: ['subdomain'], properties: { subdomain: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' } } }),
};

// --- The server ---------------------------------------------------------------

class Refusal extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}
const refuse = (status, code, message) => { throw new Refusal(status, code, message); };
const NO_SCRIPT = 'This Worker does not exist on your account.';
const hex32 = () => randomBytes(16).toString('hex');
const now = () => new Date().toISOString();

/**
 * The local Cloudflare API. `namespacesOnFirstWrite`: a namespace springs
 * up when a key in it is first touched (the push tests, which name theirs
 * and never create them); otherwise it must be created first, as on
 * Cloudflare. `subdomain`: the account's workers.dev subdomain (null: none
 * registered).
 */
export async function startCloudflare({
  token, accountId = hex32(), subdomain = 'djedge-test', limit = 1200, windowMs = 300_000, port = 0,
  namespacesOnFirstWrite = false,
} = {}) {
  if (!token) throw new Error('startCloudflare: a token is needed');
  const state = {
    accountId,
    subdomain,
    /** Each namespace's pairs, by `${accountId}/${namespace id}`: key → value (a string, or a Buffer for base64 ones). */
    namespaces: new Map(),
    /** Each namespace's title, by id, in the order they were made. */
    titles: new Map(),
    /** The uploaded scripts, by name. */
    scripts: new Map(),
    /** Every API request: {method, path, at, status}. */
    requests: [],
    /** Every write of a key: {namespace, key, op}. */
    writes: [],
    /**
     * Answers to give instead, in order: {status, retryAfter?, method?, path?
     * (a RegExp or its source), times?} for the next request (matching), or
     * {unsuccessful: n} for the next bulk request (its first n keys reported
     * unsuccessful).
     */
    inject: [],
    /** From this request number on, answer 500 (a broken API). */
    brokenFrom: null,
    rateLimited: 0,
  };
  const recent = [];
  const fronts = new Map(); // script name → {server, url}: its port, kept across versions
  // Bulk writes and script starts one at a time, so a Worker starting
  // while a push lands loads every key the push wrote.
  let queue = Promise.resolve();
  const serially = (fn) => {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  };
  const kvKey = (id) => `${accountId}/${id}`;
  const namespace = (id) => {
    if (!state.namespaces.has(kvKey(id)) && namespacesOnFirstWrite) {
      state.namespaces.set(kvKey(id), new Map());
      state.titles.set(id, id);
    }
    return state.namespaces.get(kvKey(id)) ?? refuse(404, 10009, 'Unknown namespace.');
  };

  // --- Workers KV ---

  function listNamespaces(ctx) {
    const page = Number(ctx.query.get('page') ?? 1);
    const perPage = Number(ctx.query.get('per_page') ?? 20);
    const order = ctx.query.get('order');
    const direction = ctx.query.get('direction') ?? 'asc';
    if (!Number.isInteger(page) || page < 1) refuse(400, 10026, 'page must be a positive integer');
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000) refuse(400, 10026, 'per_page must be an integer from 1 to 1000');
    if (order !== null && !['id', 'title'].includes(order)) refuse(400, 10026, "order must be 'id' or 'title'");
    if (!['asc', 'desc'].includes(direction)) refuse(400, 10026, "direction must be 'asc' or 'desc'");
    const all = [...state.titles].map(([id, title]) => ({ id, title, supports_url_encoding: true }));
    if (order) all.sort((a, b) => (a[order] < b[order] ? -1 : a[order] > b[order] ? 1 : 0));
    if (direction === 'desc') all.reverse();
    const result = all.slice((page - 1) * perPage, page * perPage);
    return ctx.ok(result, { result_info: { page, per_page: perPage, count: result.length, total_count: all.length, total_pages: Math.ceil(all.length / perPage) } });
  }

  async function createNamespace(ctx) {
    const body = await ctx.json('namespace');
    if ([...state.titles.values()].includes(body.title)) refuse(400, 10014, 'a namespace with this account ID and title already exists');
    const id = hex32();
    state.titles.set(id, body.title);
    state.namespaces.set(kvKey(id), new Map());
    return ctx.ok({ id, title: body.title, supports_url_encoding: true });
  }

  async function bulk(ctx, id, op) {
    const kv = namespace(id);
    if (ctx.body.length > 100 * 1024 * 1024) refuse(413, 10011, 'Request entity too large');
    const items = await ctx.json(op === 'put' ? 'bulk' : 'bulkDelete');
    if (items.length > 10_000) refuse(400, 10026, 'The body must be an array of at most 10,000 items');
    const keys = items.map((item) => (op === 'put' ? item.key : item));
    if (keys.some((key) => Buffer.byteLength(key) > 512)) refuse(414, 10033, 'Key longer than 512 bytes');
    const unsuccessfulCount = state.inject[0]?.unsuccessful ? state.inject.shift().unsuccessful : 0;
    const landing = items.slice(unsuccessfulCount);
    await serially(async () => {
      const puts = [];
      for (const item of landing) {
        const key = op === 'put' ? item.key : item;
        if (op === 'put') {
          const value = item.base64 ? Buffer.from(item.value, 'base64') : item.value;
          kv.set(key, value);
          puts.push([key, value]);
        } else {
          kv.delete(key);
        }
        state.writes.push({ namespace: kvKey(id), key, op });
      }
      await writeThrough(id, puts, op === 'delete' ? landing : []);
    });
    return ctx.ok({ successful_key_count: landing.length, unsuccessful_keys: keys.slice(0, unsuccessfulCount) });
  }

  function getValue(ctx, id, encodedKey) {
    const kv = namespace(id);
    const key = decodeURIComponent(encodedKey);
    if (!kv.has(key)) refuse(404, 10009, "get: 'key not found'");
    return ctx.raw(200, kv.get(key), { 'content-type': 'application/octet-stream' });
  }

  /** Every running Worker bound to namespace `id` gets the same writes. */
  async function writeThrough(id, puts, deletes) {
    for (const script of state.scripts.values()) {
      for (const binding of script.bindings.filter((b) => b.type === 'kv_namespace' && b.namespace_id === id)) {
        if (script.instance) await copyInto(script.instance.mf, binding.name, puts, deletes);
      }
    }
  }

  // --- Workers scripts ---

  const script = (name) => state.scripts.get(name) ?? refuse(404, 10007, NO_SCRIPT);

  async function upload(ctx, name) {
    const contentType = ctx.req.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) refuse(400, 10021, 'Expected a multipart/form-data body');
    let form;
    try {
      form = await new Request('http://local/', { method: 'PUT', headers: { 'content-type': contentType }, body: ctx.body }).formData();
    } catch (e) {
      refuse(400, 10021, `Could not parse the multipart body: ${e.message}`);
    }
    const metadataPart = form.get('metadata');
    if (metadataPart === null) refuse(400, 10021, 'could not read content for part metadata');
    let metadata;
    try {
      metadata = JSON.parse(typeof metadataPart === 'string' ? metadataPart : await metadataPart.text());
    } catch (e) {
      refuse(400, 10021, `could not parse part metadata: ${e.message}`);
    }
    const problem = await schemaProblem('metadata', BODIES.metadata, metadata, 'metadata');
    if (problem) refuse(400, 10021, problem);
    if (metadata.body_part !== undefined && metadata.main_module === undefined) {
      refuse(400, 10021, 'Service-worker uploads (body_part) are not run by this local stand-in: upload ES modules with main_module');
    }

    const modules = [];
    for (const [partName, part] of form) {
      if (partName === 'metadata') continue;
      // A part without a filename reaches FormData as a string: it has no content type.
      if (typeof part === 'string') refuse(400, 10021, `part ${partName} has no filename and content type: send each module as a file part`);
      const type = part.type.split(';')[0].trim().toLowerCase();
      if (!MODULE_CONTENT_TYPES.has(type)) refuse(400, 10021, `part ${partName}: unsupported content type '${part.type}'`);
      modules.push({ name: partName, filename: part.name, type, content: Buffer.from(await part.arrayBuffer()) });
    }
    const main = modules.find((m) => m.name === metadata.main_module);
    if (!main) refuse(400, 10021, 'Uncaught TypeError: Main module name is not present in bundle.');

    const etag = createHash('sha256');
    for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) etag.update(`${m.name}\0${m.type}\0`).update(m.content).update('\0');
    // Read, then replace, the version before in turn with other changes to the script.
    const next = await serially(async () => {
      const previous = state.scripts.get(name);
      return deploy({
        name,
        created_on: previous?.created_on ?? now(),
        modified_on: now(),
        etag: etag.digest('hex'),
        main_module: main.name,
        modules: [main, ...modules.filter((m) => m !== main)],
        compatibility_date: metadata.compatibility_date ?? '2021-11-02', // the docs' default for API uploads
        compatibility_flags: metadata.compatibility_flags ?? [],
        limits: metadata.limits ?? {},
        observability: metadata.observability ?? null,
        logpush: metadata.logpush ?? false,
        usage_model: metadata.usage_model ?? 'standard',
        bindings: resolveBindings(metadata.bindings ?? [], metadata.keep_bindings ?? [], previous?.bindings ?? []),
        ignored_metadata: Object.keys(metadata).filter((key) => !METADATA_PROPERTIES.has(key)),
        workers_dev: previous?.workers_dev ?? { enabled: false, previews_enabled: false },
      }, previous);
    });
    return ctx.ok(scriptResult(next));
  }

  /** The bindings of a new version: those uploaded, then those of `keepTypes` the previous one had. */
  function resolveBindings(uploaded, keepTypes, previous) {
    const names = new Set();
    const bindings = [];
    for (const binding of uploaded) {
      const { type, name } = binding;
      if (!BINDING_TYPES.has(type)) refuse(400, 10021, `binding ${name} of type ${type} is invalid`);
      const missing = BINDING_TYPES.get(type).find((field) => binding[field] === undefined || binding[field] === null);
      if (missing) refuse(400, 10021, `binding ${name} of type ${type} must have a ${missing} specified`);
      if (!RUNNABLE_BINDINGS.has(type)) refuse(400, 10021, `binding ${name} of type ${type}: not run by this local stand-in (it runs ${[...RUNNABLE_BINDINGS].join(', ')})`);
      if (names.has(name)) refuse(400, 10021, `binding name '${name}' is used more than once`);
      names.add(name);
      if (type === 'inherit') {
        const old = previous.find((b) => b.name === (binding.old_name ?? name));
        if (!old) refuse(400, 10057, `binding ${name} of type inherit: the previous version has no binding ${binding.old_name ?? name}`);
        bindings.push({ ...old, name });
        continue;
      }
      if (['plain_text', 'secret_text'].includes(type) && typeof binding.text !== 'string') refuse(400, 10021, `binding ${name} of type ${type}: text must be a string`);
      if (type === 'kv_namespace') {
        if (typeof binding.namespace_id !== 'string' || !state.titles.has(binding.namespace_id)) {
          const id = String(binding.namespace_id);
          if (!/^[0-9a-f]{32}$/.test(id)) refuse(400, 10042, `KV namespace '${id}' is not valid.`);
          refuse(400, 10041, `KV namespace '${id}' not found.`);
        }
      }
      bindings.push(binding);
    }
    for (const old of previous) {
      if (keepTypes.includes(old.type) && !names.has(old.name)) bindings.push(old);
    }
    return bindings;
  }

  /**
   * Starts `next` in workerd; once it is up it replaces `previous` (whose
   * instance stops). Called serially: no bulk write lands between the new
   * instance's load and its taking over.
   */
  async function deploy(next, previous) {
    const started = Date.now();
    next.logs = previous?.logs ?? []; // workerd's output, across versions
    next.front = fronts.get(next.name) ?? await startFront(next.name);
    try {
      next.instance = await startWorker(next);
    } catch (e) {
      refuse(400, 10021, String(e.message ?? e).split('\n')[0]);
    }
    next.startup_time_ms = Date.now() - started;
    state.scripts.set(next.name, next);
    if (previous?.instance) await previous.instance.mf.dispose().catch(() => {});
    return next;
  }

  async function startWorker(s) {
    const { Miniflare } = await import('miniflare');
    const root = `/djedge-upload/${s.name}`;
    const bindings = {};
    const kvNamespaces = {};
    for (const b of s.bindings) {
      if (b.type === 'kv_namespace') kvNamespaces[b.name] = b.namespace_id;
      else if (b.type === 'json') bindings[b.name] = b.json;
      else bindings[b.name] = b.text;
    }
    const { logs } = s;
    const logsBefore = logs.length;
    const keep = (stream) => stream.on('data', (chunk) => {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      if (logs.length > 500) logs.splice(0, logs.length - 500);
    });
    const mf = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      handleRuntimeStdio: (stdout, stderr) => { keep(stdout); keep(stderr); },
      workers: [{
        name: s.name,
        // The main module first: workerd starts the first one.
        modules: s.modules.filter((m) => MINIFLARE_MODULE_TYPES[m.type])
          .map((m) => ({ type: MINIFLARE_MODULE_TYPES[m.type], path: `${root}/${m.name}`, contents: m.content })),
        modulesRoot: root,
        compatibilityDate: s.compatibility_date,
        compatibilityFlags: s.compatibility_flags,
        bindings,
        kvNamespaces,
      }, {
        // Beside it, bound to the same namespaces, what loads them: one
        // request a batch, where Miniflare's getKVNamespace() takes a round
        // trip a key (20 ms each; local KV itself takes about 7 ms a put, so
        // a few thousand keys take seconds: the demo's 75, a fraction of one).
        name: LOADER_NAME, modules: true, script: LOADER, compatibilityDate: '2025-01-01', kvNamespaces,
      }],
    });
    try {
      const url = await mf.ready;
      for (const [binding, id] of Object.entries(kvNamespaces)) await copyInto(mf, binding, [...namespace(id)], []);
      return { mf, url };
    } catch (e) {
      await mf.dispose().catch(() => {});
      const said = logs.slice(logsBefore).find((line) => /error/i.test(line));
      throw new Error(said ? `${said.trim()} (${e.message})` : e.message);
    }
  }

  /** The script's own port: its workers.dev, once enabled there. */
  async function startFront(name) {
    const front = http.createServer(async (req, res) => {
      const s = state.scripts.get(name);
      if (!s?.instance || !s.workers_dev.enabled) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('There is nothing here yet\n');
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = { ...req.headers };
      for (const h of ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']) delete headers[h];
      try {
        const answer = await s.instance.mf.dispatchFetch(new URL(req.url, s.instance.url), {
          method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks), redirect: 'manual',
        });
        const out = {};
        answer.headers.forEach((value, key) => {
          if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(key)) out[key] = value;
        });
        const body = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, out);
        res.end(body);
      } catch (e) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`The Worker did not answer: ${e.message}\n`);
      }
    });
    await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
    fronts.set(name, { server: front, url: `http://127.0.0.1:${front.address().port}` });
    return fronts.get(name);
  }

  const scriptResult = (s) => ({
    id: s.name, tag: s.etag.slice(0, 32), etag: s.etag, created_on: s.created_on, modified_on: s.modified_on,
    startup_time_ms: s.startup_time_ms, compatibility_date: s.compatibility_date, compatibility_flags: s.compatibility_flags,
    handlers: ['fetch'], has_modules: true, has_assets: false, logpush: s.logpush, usage_model: s.usage_model,
    observability: s.observability, tail_consumers: null, tags: null,
  });
  const withoutSecrets = (bindings) => bindings.map((b) => (b.type === 'secret_text' ? { name: b.name, type: b.type } : b));

  function settings(ctx, name) {
    const s = script(name);
    return ctx.ok({
      bindings: withoutSecrets(s.bindings), compatibility_date: s.compatibility_date, compatibility_flags: s.compatibility_flags,
      limits: s.limits, logpush: s.logpush, observability: s.observability, tail_consumers: null, usage_model: s.usage_model,
    });
  }

  async function deleteScript(ctx, name) {
    await serially(async () => {
      const s = script(name);
      state.scripts.delete(name);
      await s.instance?.mf.dispose().catch(() => {});
    });
    return ctx.ok(null);
  }

  // --- Secrets ---

  /** A new version of `name` with `change` made to its bindings (which may refuse), deployed. */
  function redeploy(name, change) {
    return serially(() => {
      const s = script(name);
      return deploy({ ...s, bindings: change(s.bindings), modified_on: now() }, s);
    });
  }

  async function putSecret(ctx, name) {
    script(name);
    const body = await ctx.json(null);
    if (!body || typeof body !== 'object' || Array.isArray(body) || !['secret_text', 'secret_key'].includes(body.type)) {
      refuse(400, 10021, "body.type must be one of 'secret_text', 'secret_key'");
    }
    const problem = await schemaProblem(body.type, BODIES[body.type], body);
    if (problem) refuse(400, 10021, problem);
    if (body.type === 'secret_key') refuse(400, 10021, 'secret_key secrets are not run by this local stand-in');
    await redeploy(name, (bindings) => {
      const clash = bindings.find((b) => b.name === body.name && b.type !== 'secret_text');
      if (clash) refuse(400, 10053, `Binding name '${body.name}' already in use by a ${clash.type} binding`);
      return [...bindings.filter((b) => b.name !== body.name), { type: 'secret_text', name: body.name, text: body.text }];
    });
    return ctx.ok({ name: body.name, type: 'secret_text' });
  }

  function listSecrets(ctx, name) {
    return ctx.ok(script(name).bindings.filter((b) => b.type === 'secret_text').map((b) => ({ name: b.name, type: b.type })));
  }

  async function deleteSecret(ctx, name, secret) {
    const secretName = decodeURIComponent(secret);
    await redeploy(name, (bindings) => {
      if (!bindings.some((b) => b.type === 'secret_text' && b.name === secretName)) refuse(404, 10056, `Secret ${secretName} not found`);
      return bindings.filter((b) => !(b.type === 'secret_text' && b.name === secretName));
    });
    return ctx.ok(null);
  }

  // --- workers.dev ---

  function getAccountSubdomain(ctx) {
    if (!state.subdomain) refuse(404, 10007, 'This account has no workers.dev subdomain.');
    return ctx.ok({ subdomain: state.subdomain });
  }

  async function putAccountSubdomain(ctx) {
    const body = await ctx.json('accountSubdomain');
    state.subdomain = body.subdomain;
    return ctx.ok({ subdomain: state.subdomain });
  }

  async function postScriptSubdomain(ctx, name) {
    const s = script(name);
    const body = await ctx.json('scriptSubdomain');
    if ((body.enabled || body.previews_enabled) && !state.subdomain) refuse(400, 10007, 'This account has no workers.dev subdomain.');
    s.workers_dev = { enabled: body.enabled, previews_enabled: body.previews_enabled ?? s.workers_dev.previews_enabled };
    return ctx.ok(s.workers_dev);
  }

  function deleteScriptSubdomain(ctx, name) {
    const s = script(name);
    s.workers_dev = { enabled: false, previews_enabled: false };
    return ctx.ok(s.workers_dev);
  }

  // --- Routing ---

  const SCRIPT = '/workers/scripts/([^/]+)';
  const routes = [
    ['GET', /^\/storage\/kv\/namespaces$/, listNamespaces],
    ['POST', /^\/storage\/kv\/namespaces$/, createNamespace],
    ['PUT', /^\/storage\/kv\/namespaces\/([^/]+)\/bulk$/, (ctx, id) => bulk(ctx, id, 'put')],
    ['POST', /^\/storage\/kv\/namespaces\/([^/]+)\/bulk\/delete$/, (ctx, id) => bulk(ctx, id, 'delete')],
    ['GET', /^\/storage\/kv\/namespaces\/([^/]+)\/values\/(.+)$/, getValue],
    ['GET', /^\/workers\/subdomain$/, getAccountSubdomain],
    ['PUT', /^\/workers\/subdomain$/, putAccountSubdomain],
    ['GET', /^\/workers\/scripts$/, (ctx) => ctx.ok([...state.scripts.values()].map(scriptResult))],
    ['PUT', new RegExp(`^${SCRIPT}$`), upload],
    ['DELETE', new RegExp(`^${SCRIPT}$`), deleteScript],
    ['GET', new RegExp(`^${SCRIPT}/settings$`), settings],
    ['PUT', new RegExp(`^${SCRIPT}/secrets$`), putSecret],
    ['GET', new RegExp(`^${SCRIPT}/secrets$`), listSecrets],
    ['DELETE', new RegExp(`^${SCRIPT}/secrets/([^/]+)$`), deleteSecret],
    ['GET', new RegExp(`^${SCRIPT}/subdomain$`), (ctx, name) => ctx.ok(script(name).workers_dev)],
    ['POST', new RegExp(`^${SCRIPT}/subdomain$`), postScriptSubdomain],
    ['DELETE', new RegExp(`^${SCRIPT}/subdomain$`), deleteScriptSubdomain],
  ];

  const envelope = (success, result, errors = [], extra = {}) => JSON.stringify({ success, errors, messages: [], result, ...extra });

  /** The first injected failure if it matches this request (taken off the list), or null. */
  function injected(method, path) {
    const next = state.inject[0];
    if (!next?.status) return null;
    if (next.method && next.method !== method) return null;
    if (next.path && !new RegExp(next.path).test(path)) return null;
    if (!next.times || next.times <= 1) state.inject.shift();
    else next.times -= 1;
    return next;
  }

  async function api(req, res, url, body) {
    const path = url.pathname;
    const answer = (status, text, headers = {}) => {
      state.requests.push({ method: req.method, path, at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    const fail = (status, code, message, headers) => answer(status, envelope(false, null, [{ code, message }]), headers);

    const at = Date.now();
    while (recent.length && recent[0] <= at - windowMs) recent.shift();
    if (recent.length >= limit) {
      state.rateLimited += 1;
      return fail(429, 10429, 'Too many requests', { 'retry-after': String(Math.ceil((recent[0] + windowMs - at) / 1000)) });
    }
    recent.push(at);
    if (req.headers.authorization !== `Bearer ${token}`) return fail(403, 10000, 'Authentication error');
    const number = state.requests.length + 1;
    if (state.brokenFrom !== null && number >= state.brokenFrom) return fail(500, 10001, 'Internal error');
    const failure = injected(req.method, path);
    if (failure) {
      const headers = failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {};
      return fail(failure.status, 10001, 'Injected failure', headers);
    }

    const account = /^\/client\/v4\/accounts\/([^/]+)(\/.*)$/.exec(path);
    if (!account) return fail(404, 7000, 'No route for that URI');
    const [, id, rest] = account;
    if (id !== accountId) return fail(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
    const matching = routes.filter(([, pattern]) => pattern.test(rest));
    if (!matching.length) return fail(404, 7000, 'No route for that URI');
    const route = matching.find(([method]) => method === req.method);
    if (!route) return fail(405, 10000, 'Method not allowed');
    const ctx = {
      req,
      body,
      query: url.searchParams,
      ok: (result, extra) => answer(200, envelope(true, result, [], extra)),
      raw: (status, bytes, headers) => answer(status, bytes, headers),
      /** The body as JSON, checked against BODIES[schema] (none: any JSON). */
      json: async (schema) => {
        let parsed;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          refuse(400, 10026, 'Could not parse request body');
        }
        const problem = schema && await schemaProblem(schema, BODIES[schema], parsed);
        if (problem) refuse(400, 10026, problem);
        return parsed;
      },
    };
    try {
      await route[2](ctx, ...route[1].exec(rest).slice(1));
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      fail(e.status, e.code, e.message);
    }
  }

  function test(req, res, url, body) {
    const json = (status, value) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const path = url.pathname;
    if (req.method === 'GET' && path === '/_test/requests') {
      return json(200, state.requests.map(({ method, path: p, status }) => ({ method, path: p, status })));
    }
    if (req.method === 'GET' && path === '/_test/namespaces') {
      return json(200, [...state.titles].map(([id, title]) => ({ id, title, keys: state.namespaces.get(kvKey(id)).size })));
    }
    if (req.method === 'GET' && path === '/_test/scripts') return json(200, [...state.scripts.keys()]);
    // Where a script's workers.dev route will answer here, before its first upload.
    const reserve = /^\/_test\/workers-dev\/([^/]+)$/.exec(path);
    if (req.method === 'POST' && reserve) {
      const name = decodeURIComponent(reserve[1]);
      return void Promise.resolve(fronts.get(name) ?? startFront(name)).then((front) => json(200, { url: front.url }));
    }
    const named = /^\/_test\/scripts\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && named) {
      const s = state.scripts.get(decodeURIComponent(named[1]));
      if (!s) return json(404, { error: 'no such script' });
      return json(200, {
        url: s.front.url, workers_dev: s.workers_dev, modules: s.modules.map((m) => m.name), main_module: s.main_module,
        bindings: withoutSecrets(s.bindings), secrets: s.bindings.filter((b) => b.type === 'secret_text').map((b) => b.name),
        etag: s.etag, compatibility_date: s.compatibility_date, compatibility_flags: s.compatibility_flags,
        limits: s.limits, ignored_metadata: s.ignored_metadata, logs: s.logs,
      });
    }
    if (req.method === 'POST' && path === '/_test/fail') {
      const { method, path: pattern, status = 500, times = 1, retry_after: retryAfter } = body.length ? JSON.parse(body) : {};
      state.inject.push({ status, method, path: pattern, times, retryAfter });
      return json(200, { queued: state.inject.length });
    }
    return json(404, { error: 'no such test endpoint' });
  }

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://local');
    try {
      if (url.pathname.startsWith('/_test/')) test(req, res, url, body);
      else await api(req, res, url, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(envelope(false, null, [{ code: 10001, message: `stand-in failure: ${e.message}` }]));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    url: `${origin}/client/v4`,
    origin,
    accountId,
    state,
    /**
     * Where a script's workers.dev route answers here (a local port, kept
     * across versions), known before its first upload: what a test passes
     * as the Worker's URL, since NAME.SUBDOMAIN.workers.dev is not local.
     */
    workersDevUrl: async (name) => (fronts.get(name) ?? await startFront(name)).url,
    close: async () => {
      await queue;
      await Promise.all([...state.scripts.values()].map((s) => s.instance?.mf.dispose().catch(() => {})));
      const servers = [server, ...[...fronts.values()].map((f) => f.server)];
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

// The loader beside each Worker: applies {binding, puts: [[key, base64]], deletes: [key]}.
const LOADER_NAME = 'djedge-stand-in-kv-loader';
const LOADER = `export default {
  async fetch(request, env) {
    const { binding, puts, deletes } = await request.json();
    const kv = env[binding];
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    for (let i = 0; i < puts.length; i += 100) await Promise.all(puts.slice(i, i + 100).map(([k, v]) => kv.put(k, bytes(v))));
    for (let i = 0; i < deletes.length; i += 100) await Promise.all(deletes.slice(i, i + 100).map((k) => kv.delete(k)));
    return new Response('ok');
  },
};`;

/** Puts and deletes in the KV binding `binding` of a running Worker, through its loader. */
async function copyInto(mf, binding, puts, deletes) {
  if (!puts.length && !deletes.length) return;
  const loader = await mf.getWorker(LOADER_NAME);
  const body = JSON.stringify({ binding, puts: puts.map(([key, value]) => [key, Buffer.from(value).toString('base64')]), deletes });
  const answer = await loader.fetch('http://loader/', { method: 'POST', body });
  if (!answer.ok) throw new Error(`loading KV into the Worker failed: ${answer.status} ${await answer.text()}`);
}

// Run on its own: prints the API's URL, serves until killed.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' }, token: { type: 'string' }, account: { type: 'string' },
      subdomain: { type: 'string', default: 'djedge-test' }, limit: { type: 'string', default: '1200' },
    },
  });
  if (!values.token || !values.account) {
    console.error('usage: node tests/cloudflare/api.mjs --token T --account A [--port N] [--subdomain S] [--limit N]');
    process.exit(2);
  }
  const cf = await startCloudflare({
    token: values.token, accountId: values.account, subdomain: values.subdomain, port: Number(values.port), limit: Number(values.limit),
  });
  console.log(cf.url);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => cf.close().then(() => process.exit(0)));
}
