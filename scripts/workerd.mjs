// Runs the built Worker in local workerd through Miniflare, with the
// bindings wrangler.toml declares and the KV that `wrangler kv bulk put
// --local --persist-to DIR` wrote. Used by scripts/edge-up.sh instead of
// `wrangler dev`, whose ProxyWorker (a dev-only hop in front of workerd)
// answers 503 "Your worker restarted mid-request" to some POSTs when
// requests queue behind slow hashes: its keep-alive connection to the
// Worker is dropped, while the same load sent to workerd directly on
// fresh connections gets every answer (docs/design.md, "Under load").
//
//   node scripts/workerd.mjs --persist-to DIR --port N --env-file FILE
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Miniflare, Log, LogLevel } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const { values } = parseArgs({ options: { 'persist-to': { type: 'string' }, port: { type: 'string' }, 'env-file': { type: 'string' } } });
const secrets = Object.fromEntries(readFileSync(values['env-file'], 'utf8').split('\n').filter(Boolean)
  .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
const mf = new Miniflare({
  ...workerOptions,
  bindings: { ...workerOptions.bindings, ...secrets },
  modules: true,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
  scriptPath: 'crates/worker/build/worker/shim.mjs',
  kvPersist: `${values['persist-to']}/v3/kv`,
  host: '127.0.0.1',
  port: Number(values.port),
  log: new Log(LogLevel.INFO),
});
const url = await mf.ready;
console.log(`workerd: the Worker on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => mf.dispose().then(() => process.exit(0)));
