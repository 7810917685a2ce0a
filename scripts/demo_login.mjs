// The demo's last step: logins through the login script as `djedge auth0
// setup` left it in the local Auth0 tenant, run as Auth0 runs it, with a
// machine token from that tenant, against the Worker in local workerd (all
// started by scripts/edge-up.sh).
import { auth0Script, setUpConnection, targets } from '../tests/edge/support.mjs';

const { options } = await setUpConnection();
const login = auth0Script('login.js', 'login', options.configuration, options.customScripts.login);
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
console.log(`The login script setup deployed, against the Worker at ${targets.worker} (machine tokens from ${options.configuration.DJEDGE_AUTH0_DOMAIN}):`);
for (const [user, password] of tries) {
  const started = performance.now();
  const { error, profile } = await login(user, password);
  const ms = (performance.now() - started - 50).toFixed(0); // less the harness's 50 ms settle
  const answer = error ? `${error.name}: ${error.message}` : `profile ${profile.user_id} (${profile.email})`;
  console.log(`  ${JSON.stringify(user).padEnd(22)} ${JSON.stringify(password).padEnd(20)} -> ${answer}  [${ms} ms]`);
}
