// The djhash Wasm that benches/wasm_verify.mjs runs under node, in a bare
// workerd Worker (no workers-rs, no KV, no edge core): POST {"encoded",
// "password"} and it answers {"ok"}. benches/workerd_vs_node.sh serves it
// with a workerd config of its own, so V8 flags can be set (Miniflare has
// no option for the config's v8Flags).
import wasm from "./djhash_wasm_bg.wasm";
import { initSync, verify, memory_bytes } from "./djhash_wasm.js";

initSync({ module: wasm });

export default {
  async fetch(request) {
    const job = await request.json();
    const ok = verify(job.password, job.encoded);
    return Response.json({ ok, memory_bytes: memory_bytes() });
  },
};
