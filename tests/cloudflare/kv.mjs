// Workers KV as `djedge push` and `sync` meet it, from the local Cloudflare
// API (api.mjs, which says how it follows Cloudflare's): account `acc`,
// and a namespace made by the first request touching it, since the push
// tests and the Django app's sync test name their namespaces and never
// create them. `state.namespaces` holds each one's pairs by `acc/{id}`;
// `state.inject`, `state.brokenFrom`, `state.writes` and `state.requests`
// as api.mjs describes them.
//
//   node tests/cloudflare/kv.mjs --token TOKEN     prints the API's URL, serves until killed
import { startCloudflare } from './api.mjs';

export function startKv({ token, limit = 1200, windowMs = 300_000 } = {}) {
  return startCloudflare({ token, accountId: 'acc', limit, windowMs, namespacesOnFirstWrite: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { token: { type: 'string' } } });
  const kv = await startKv({ token: values.token });
  console.log(kv.url);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => kv.close().then(() => process.exit(0)));
}
