// How many people who can log in to a Django site land in Auth0 through
// js/login.js and `djedge serve`, judged by the stand-in tenant's Auth0 rules
// (tests/auth0/tenant.mjs), for a given djedge (its binary and its js/):
//
//   node scripts/measure_landing.mjs BIN JS_DIR DB.sqlite3 PASSWORDS.json email|username
//
// Prints {mode, loginable, landed, refusedByEdge, refusedByTenant}: what the
// issue "Every Django user lands" measured, before and after.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import vm from 'node:vm';
import { startTenant } from '../tests/auth0/tenant.mjs';
const [bin, jsDir, db, passwordsFile, mode] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'djedge-measure-'));
const exp = spawnSync(bin, ['export', '--database', `sqlite://${db}`, '--out', `${dir}/snap`], { encoding: 'utf8' });
if (exp.status !== 0) throw new Error(exp.stderr);
const port = await new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
});
const token = 'measure-token-0123456789abcdef';
const serve = spawn(bin, ['serve', '--snapshot', `${dir}/snap`, '--listen', `127.0.0.1:${port}`], { env: { ...process.env, DJEDGE_API_TOKEN: token, DJEDGE_IDENTIFIERS: mode }, stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) { try { if ((await fetch(`${base}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const options = mode === 'username'
  ? { import_mode: true, attributes: { email: { identifier: { active: true }, profile_required: true }, username: { identifier: { active: true }, profile_required: false, validation: { min_length: 1, max_length: 128, allowed_types: { email: false, phone_number: false } } } } }
  : { import_mode: true, requires_username: false };
const tenant = await startTenant({ seed: { connections: [{ name: 'django', strategy: 'auth0', options }] } });
class WrongUsernameOrPasswordError extends Error {}
class UnauthorizedError extends Error {}
const source = readFileSync(`${jsDir}/login.js`, 'utf8');
const context = vm.createContext({ configuration: { DJEDGE_URL: base, DJEDGE_TOKEN: token }, fetch, AbortSignal, console, global: {}, WrongUsernameOrPasswordError, UnauthorizedError });
vm.runInContext(source, context);
const { passwords } = JSON.parse(readFileSync(passwordsFile, 'utf8'));
let loginable = 0, landed = 0, refusedByTenant = {}, refusedByEdge = 0;
for (const [username, password] of Object.entries(passwords)) {
  const { error, profile } = await new Promise((resolve) => context.login(username, password, (error, profile) => resolve({ error, profile })));
  if (error && /inactive/.test(error.message)) continue;
  loginable += 1;
  if (!profile) { refusedByEdge += 1; continue; }
  const r = await fetch(`${tenant.url}/_test/script-profile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connection: 'django', profile }) });
  if (r.status === 201 || r.status === 200) landed += 1;
  else { const code = (await r.json()).errorCode; refusedByTenant[code] = (refusedByTenant[code] || 0) + 1; }
}
console.log(JSON.stringify({ mode, loginable, landed, refusedByEdge, refusedByTenant }));
serve.kill(); await tenant.close(); process.exit(0);
