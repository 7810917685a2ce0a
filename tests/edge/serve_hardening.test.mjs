// `djedge serve` on the open internet: 2,000 idle connections and 500
// half-sent requests do not keep a login from being answered, and are
// dropped after the header timeout (idle keep-alive ones too); a body sent
// too slowly gets a 408; over --max-connections a connection gets an
// immediate 503; SIGTERM lets the request in flight finish. Its own
// `djedge serve`, on its own ports, from its own export of the demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { djedge, run } from './snapshots.mjs';

const token = 'hardening-test-token-0123456789';
const basePort = Number(process.env.DJEDGE_HARDENING_TEST_PORT ?? 8792);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startServe(snapshot, port, extra = []) {
  const serve = spawn(djedge, ['serve', '--snapshot', snapshot, '--listen', `127.0.0.1:${port}`, ...extra],
    { env: { ...process.env, DJEDGE_API_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  serve.stderr.on('data', (d) => { log += d; });
  serve.log = () => log;
  serve.exited = new Promise((resolve) => serve.on('exit', (code, signal) => resolve({ code, signal })));
  for (let i = 0; i < 100; i += 1) {
    if (log.includes('on http://')) return serve;
    await sleep(100);
  }
  throw new Error(`serve did not start: ${log}`);
}

function login(port, username = 'alice', password = 'wonderland') {
  return fetch(`http://127.0.0.1:${port}/v1/login`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
}

/** A raw connection; `hungUp` settles when the server hangs up. */
function connect(port, send = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (send) socket.write(send);
      resolve(socket);
    });
    socket.received = '';
    socket.on('data', (d) => { socket.received += d; });
    socket.hungUp = new Promise((done) => socket.on('close', done));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

async function many(count, port, send) {
  const sockets = [];
  for (let i = 0; i < count; i += 100) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => connect(port, send))));
  }
  return sockets;
}

const rssMiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;

test('djedge serve holds up against idle and half-sent connections', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'djedge-hardening-'));
  const exported = await run(['export', '--database', 'sqlite://tests/fixtures/demo-django-5.2.sqlite3', '--out', join(dir, 'snap')]);
  assert.equal(exported.status, 0, exported.stderr);
  const snapshot = join(dir, 'snap');

  await t.test('2,000 idle and 500 half-sent connections: a login is still answered; all are dropped after the timeout', async () => {
    const port = basePort;
    const serve = await startServe(snapshot, port, ['--header-timeout', '3']);
    try {
      const before = rssMiB(serve.pid);
      const idle = await many(2000, port, '');
      const halfSent = await many(500, port, 'POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
      // One that made a request and now idles on keep-alive.
      const kept = await connect(port, `GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      const held = rssMiB(serve.pid);
      const started = Date.now();
      const answer = await login(port);
      const loginMs = Date.now() - started;
      assert.equal(answer.status, 200);
      await Promise.all([...idle, ...halfSent, kept].map((s) => s.hungUp));
      assert.match(kept.received, /^HTTP\/1.1 200/);
      assert.ok(halfSent.every((s) => !s.received.includes(' 200 ')), 'no half-sent request was answered as if whole');
      const after = rssMiB(serve.pid);
      console.log(`serve: RSS ${before.toFixed(1)} MiB before, ${held.toFixed(1)} MiB holding 2,501 connections, `
        + `${after.toFixed(1)} MiB after they were dropped; a login answered in ${loginMs} ms meanwhile`);
      assert.equal((await login(port)).status, 200, 'still serving');
    } finally {
      serve.kill('SIGKILL');
    }
  });

  await t.test('a body sent too slowly gets a 408', async () => {
    const port = basePort + 1;
    const serve = await startServe(snapshot, port, ['--body-timeout', '2']);
    try {
      const slow = await connect(port, `POST /v1/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`
        + 'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"usern');
      await slow.hungUp;
      assert.match(slow.received, /^HTTP\/1.1 408/);
      assert.match(slow.received, /"error":"request_timeout"/);
    } finally {
      serve.kill('SIGKILL');
    }
  });

  await t.test('over --max-connections, an immediate 503', async () => {
    const port = basePort + 2;
    const serve = await startServe(snapshot, port, ['--max-connections', '50', '--header-timeout', '30']);
    try {
      const held = await many(50, port, '');
      await sleep(200);
      const over = await connect(port, '');
      await over.hungUp;
      assert.match(over.received, /^HTTP\/1.1 503/);
      assert.match(over.received, /\{"error":"overloaded"\}$/);
      held.forEach((s) => s.destroy());
      await sleep(200);
      assert.equal((await login(port)).status, 200, 'served again once there is room');
    } finally {
      serve.kill('SIGKILL');
    }
  });

  await t.test('SIGTERM: the request in flight finishes, then it exits', async () => {
    const port = basePort + 3;
    const serve = await startServe(snapshot, port);
    const body = JSON.stringify({ username: 'alice', password: 'wonderland' });
    const inFlight = await connect(port, `POST /v1/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await sleep(300);
    serve.kill('SIGTERM');
    await sleep(300);
    inFlight.write(body.slice(10));
    await inFlight.hungUp;
    assert.match(inFlight.received, /^HTTP\/1.1 200/);
    const { code } = await serve.exited;
    assert.equal(code, 0, serve.log());
    assert.match(serve.log(), /stopping/);
    await assert.rejects(login(port), 'no longer listening');
  });
});
