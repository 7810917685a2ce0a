// Times djhash in Wasm under node: reads {"encoded", "password", "repeat"}
// from stdin, verifies once to warm up and check the answer, then `repeat`
// times, and prints {"seconds_per_call", "memory_bytes"} (linear memory only
// grows, so memory_bytes is this instance's peak). One format per process,
// so each peak is that format's own.
//
// With --lines (benches/side_by_side.py): one JSON job {"encoded",
// "password"} per stdin line, one answer {"ok", "seconds", "memory_bytes"}
// per line, in one long-lived instance, as a Worker's isolate keeps one.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const pkg = process.argv[2];
const djhash = require(pkg);

function timed(job) {
  const start = process.hrtime.bigint();
  const ok = djhash.verify(job.password, job.encoded);
  return { ok, seconds: Number(process.hrtime.bigint() - start) / 1e9, memory_bytes: djhash.memory_bytes() };
}

if (process.argv[3] === "--lines") {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim()) process.stdout.write(JSON.stringify(timed(JSON.parse(line))) + "\n");
  }
} else {
  const job = JSON.parse(readFileSync(0, "utf8"));
  if (timed(job).ok !== true) {
    console.error(`djhash in Wasm did not accept ${job.encoded}`);
    process.exit(1);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < job.repeat; i++) djhash.verify(job.password, job.encoded);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ seconds_per_call: seconds / job.repeat, memory_bytes: djhash.memory_bytes() }));
}
