// Auth0 runs each custom database script on its own, so js/login.js and
// js/get_user.js each carry the request code (the "djedge client": the
// token, the call, the retry with a fresh token). Written twice, it is kept
// once: the two copies must be byte-equal, and each script must still be
// one function expression Auth0 can evaluate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const read = (name) => readFileSync(new URL(`../../js/${name}`, import.meta.url), 'utf8');
const START = '  // --- the djedge client: byte-equal in login.js and get_user.js';
const END = '  // --- end of the djedge client ---\n';

function client(source, name) {
  const start = source.indexOf(START);
  const end = source.indexOf(END);
  assert.ok(start > 0 && end > start, `${name} marks its djedge client block`);
  assert.equal(source.indexOf(START, start + 1), -1, `${name}: one block`);
  return source.slice(start, end + END.length);
}

test('login.js and get_user.js share their djedge client byte for byte', () => {
  const [login, getUser] = [read('login.js'), read('get_user.js')];
  assert.equal(client(login, 'login.js'), client(getUser, 'get_user.js'));
  assert.ok(client(login, 'login.js').length > 2000, 'the block holds the request code');
});

test('each script is one function expression that names its endpoint once', () => {
  for (const [name, fn, endpoint] of [['login.js', 'login', '/v1/login'], ['get_user.js', 'getUser', '/v1/get_user']]) {
    const source = read(name);
    const context = vm.createContext({});
    vm.runInContext(source, context);
    assert.equal(typeof context[fn], 'function', name);
    assert.equal(source.split(`'${endpoint}'`).length - 1, 1, `${name} names ${endpoint} once`);
  }
});
