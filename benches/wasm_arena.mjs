// Times djhash in Wasm (a wasm-bindgen nodejs package of crates/djhash-wasm)
// on Django 5.2's default scrypt and argon2, and reports the linear memory
// after a mix of both: the before/after benchmark of the arena
// (docs/design.md, "Memory under load"). Build a package per commit with
//   cargo build --release -p djhash-wasm --target wasm32-unknown-unknown
//   wasm-bindgen --target nodejs --out-dir DIR target/wasm32-unknown-unknown/release/djhash_wasm.wasm
// then, alternating the two packages:
//   node benches/wasm_arena.mjs DIR scrypt 10 | argon2 5 | mix 5
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const [dir, format, repeat = '5'] = process.argv.slice(2);
const n = Number(repeat);
const vectors = JSON.parse(readFileSync(new URL('../tests/vectors/django-5.2.json', import.meta.url))).vectors;
const pick = (prefix) => vectors.find((v) => v.encoded.startsWith(prefix) && v.django === true);
const jobs = { scrypt: pick('scrypt$16384$'), argon2: pick('argon2$argon2id$v=19$m=102400') };
const djhash = require(resolve(dir, 'djhash_wasm.js'));
const mib = () => djhash.memory_bytes() / 1048576;

if (format === 'mix') {
  for (let i = 0; i < n; i++) {
    djhash.verify(jobs.scrypt.password, jobs.scrypt.encoded);
    djhash.verify(jobs.argon2.password, jobs.argon2.encoded);
    djhash.verify('x'.repeat(i * 1000), jobs.scrypt.encoded); // small allocations between the large ones
  }
  console.log(`${dir}: argon2 and scrypt alternating, linear memory ${mib()} MiB`);
} else {
  const job = jobs[format];
  if (djhash.verify(job.password, job.encoded) !== true) throw new Error(`${format}: the Django vector does not verify`);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) djhash.verify(job.password, job.encoded);
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / n;
  console.log(`${dir}: ${format} ${ms.toFixed(1)} ms a call, linear memory ${mib()} MiB`);
}
