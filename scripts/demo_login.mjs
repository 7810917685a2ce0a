// The demo's last step: logins through js/login.js, run as Auth0 runs it,
// against the Worker in local workerd (started by scripts/edge-up.sh).
import { auth0Script, targets, token } from '../tests/edge/support.mjs';

const login = auth0Script('login.js', 'login', { DJEDGE_URL: targets.worker, DJEDGE_TOKEN: token });
const tries = [
  ['alice', 'wonderland'],
  ['ALICE@example.com', 'wonderland'],
  ['alice', 'not-her-password'],
  ['nobody', 'wonderland'],
  ['user_argon2', 'pw-argon2'],
  ['legacy_pbkdf2_100k', 'pw-pbkdf2-100k'],
  ['inactive_ian', 'pw-inactive'],
  ['shared@example.com', 'pw-shared-1'],
];
console.log(`js/login.js against the Worker at ${targets.worker}:`);
for (const [user, password] of tries) {
  const started = performance.now();
  const { error, profile } = await login(user, password);
  const ms = (performance.now() - started - 50).toFixed(0); // less the harness's 50 ms settle
  const answer = error ? `${error.name}: ${error.message}` : `profile ${profile.user_id} (${profile.email})`;
  console.log(`  ${JSON.stringify(user).padEnd(22)} ${JSON.stringify(password).padEnd(20)} -> ${answer}  [${ms} ms]`);
}
