'use strict';
// The asynchronous transport on Node's own event loop (omni.AsyncTransport): fan-outs to local
// HTTP/2 (node:http2 over TLS with the test certificate of tests/data/tls, and cleartext with
// prior knowledge) and HTTP/1.1 servers started here, while a setInterval keeps ticking (the
// loop is never blocked); GOAWAY from the server (session.goaway()); errors; close().
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const http2 = require('node:http2');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const omni = require('..');

const TLS = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'tls');
const CA = path.join(TLS, 'ca.pem');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function close(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

function header(message, name) {
  const headers = message.headers || {};
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  const hit = entries.find(([k]) => k.toLowerCase() === name.toLowerCase());
  return hit ? hit[1] : undefined;
}

// An HTTP/2 server answering "echo <path>" after delayMs; records what it processed.
function h2Server({ secure = true, delayMs = 0, onStream = null } = {}) {
  const seen = [];
  const sessions = new Set();
  let open = 0;
  let peak = 0;
  const handler = (stream, headers) => {
    open++;
    peak = Math.max(peak, open);
    stream.on('close', () => open--);
    stream.on('error', () => {}); // refused or reset streams end with an error event
    if (onStream && onStream(stream, headers) === false) return; // not processed
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      setTimeout(() => {
        if (stream.destroyed || stream.closed) return;
        seen.push({ path: headers[':path'], session: stream.session, body: Buffer.concat(chunks).toString() });
        stream.respond({ ':status': 200, 'apns-id': `id-${headers[':path']}` });
        stream.end(`echo ${headers[':path']}`);
      }, delayMs);
    });
  };
  const server = secure
    ? http2.createSecureServer({
        key: fs.readFileSync(path.join(TLS, 'server.key')),
        cert: fs.readFileSync(path.join(TLS, 'server.pem')),
      })
    : http2.createServer();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', handler);
  return { server, seen, sessions, peak: () => peak };
}

test('200 concurrent sends over one HTTP/2 connection; the loop keeps ticking', async () => {
  const { server, seen, sessions, peak } = h2Server({ delayMs: 20 });
  const port = await listen(server);
  const t = new omni.AsyncTransport({ httpVersion: '2', caFile: CA });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const started = Date.now();
  const sends = [];
  for (let i = 0; i < 200; i++) {
    sends.push(
      t.send({
        method: 'POST',
        url: `https://127.0.0.1:${port}/3/device/${i}`,
        headers: { 'content-type': 'application/json', 'apns-topic': 'com.example.app' },
        body: JSON.stringify({ aps: { alert: `n${i}` } }),
      }),
    );
  }
  assert.equal(t.pending, 200);
  const responses = await Promise.all(sends);
  clearInterval(timer);
  responses.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.body, `echo /3/device/${i}`, 'each answer reaches its own promise');
    assert.equal(header(r, 'apns-id'), `id-/3/device/${i}`);
  });
  assert.ok(ticks >= 3, `the event loop ran timers during the fan-out (${ticks} ticks in ${Date.now() - started} ms)`);
  assert.equal(seen.length, 200);
  assert.equal(sessions.size, 1, 'one multiplexed connection');
  assert.ok(peak() > 1, 'streams were in flight together');
  for (const s of seen) {
    const i = Number(s.path.split('/').pop());
    assert.equal(s.body, JSON.stringify({ aps: { alert: `n${i}` } }), 'each body with its request');
  }
  const st = t.stats();
  assert.equal(st.sent, 200);
  assert.equal(st.succeeded, 200);
  assert.equal(st.connections, 1);
  assert.equal(st.inFlight, 0);
  assert.equal(t.pending, 0);
  await t.close();
  await close(server);
});

test('cleartext HTTP/2 with prior knowledge (loopback)', async () => {
  const { server, seen } = h2Server({ secure: false });
  const port = await listen(server);
  const t = new omni.AsyncTransport({ httpVersion: '2' });
  const responses = await Promise.all(
    [0, 1, 2].map((i) => t.send({ method: 'GET', url: `http://127.0.0.1:${port}/h2c/${i}` })),
  );
  responses.forEach((r, i) => assert.equal(r.body, `echo /h2c/${i}`));
  assert.equal(seen.length, 3);
  await t.close();
  await close(server);
});

test('HTTP/1.1: connections are kept alive and reused', async () => {
  let connections = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'text/plain');
    res.end(`echo ${req.method} ${req.url}`);
  });
  server.on('connection', () => connections++);
  const port = await listen(server);
  const t = new omni.AsyncTransport({ maxConcurrent: 4 });
  const responses = await Promise.all(
    Array.from({ length: 60 }, (_, i) => t.send({ method: 'GET', url: `http://127.0.0.1:${port}/fcm/${i}` })),
  );
  responses.forEach((r, i) => assert.equal(r.body, `echo GET /fcm/${i}`));
  assert.equal(requests, 60);
  assert.ok(connections <= 4, `${connections} connections for 60 requests`);
  assert.equal(t.stats().peakInFlight, 4);
  await t.close();
  server.closeAllConnections();
  await close(server);
});

test('GOAWAY: the streams the server did not process are sent again on a new connection', async () => {
  const counts = new Map();
  let goaways = 0;
  let ignored = 0;
  const onStream = (stream) => {
    const session = stream.session;
    if (session.lastId !== undefined) {
      if (stream.id > session.lastId) {
        ignored++;
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return false;
      }
      return true;
    }
    const n = (counts.get(session) || 0) + 1;
    counts.set(session, n);
    if (n === 10 && goaways === 0) {
      goaways++;
      session.lastId = stream.id;
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
      setTimeout(() => session.close(), 100); // after answering the ones up to lastId
    }
    return true;
  };
  const { server, seen, sessions } = h2Server({ delayMs: 10, onStream });
  const port = await listen(server);
  const t = new omni.AsyncTransport({ httpVersion: '2', caFile: CA });
  const responses = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      t.send({ method: 'POST', url: `https://127.0.0.1:${port}/ga/${i}`, body: '{}' }),
    ),
  );
  responses.forEach((r, i) => assert.equal(r.body, `echo /ga/${i}`));
  const paths = seen.map((s) => s.path).sort();
  assert.equal(paths.length, 100, 'each request processed exactly once');
  assert.equal(new Set(paths).size, 100);
  assert.equal(goaways, 1);
  assert.ok(sessions.size >= 2, 'a second connection');
  const st = t.stats();
  assert.ok(st.connections >= 2);
  assert.ok(st.retries >= ignored, `retries ${st.retries}, refused ${ignored}`);
  await t.close();
  await close(server);
});

test('transport errors reject with OmniError', async () => {
  // a port nobody listens on
  const probe = http.createServer();
  const port = await listen(probe);
  await close(probe);
  const t = new omni.AsyncTransport({ timeoutMs: 300 });
  await assert.rejects(t.send({ method: 'GET', url: `http://127.0.0.1:${port}/x` }), (e) => {
    assert.ok(e instanceof omni.OmniError);
    assert.equal(e.code, 'CONNECT_FAILED');
    assert.equal(e.status, omni.Status.ECONNECT);
    assert.equal(e.retryable, true);
    return true;
  });
  // a server that never answers
  const slow = http.createServer(() => {});
  const slowPort = await listen(slow);
  await assert.rejects(t.send({ method: 'GET', url: `http://127.0.0.1:${slowPort}/secret/path` }), (e) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.ok(!e.message.includes('/secret/path'), e.message);
    return true;
  });
  slow.closeAllConnections();
  await close(slow);
  // requests the transport refuses
  await assert.rejects(t.send({ method: 'SEND', url: 'smtp://127.0.0.1:25' }), (e) => e.code === 'UNSUPPORTED');
  await assert.rejects(t.send({ method: 'GET' }), (e) => e instanceof omni.OmniError);
  await assert.rejects(t.send(42), (e) => e instanceof omni.OmniError && e.code === 'INVALID_ARGUMENT');
  await t.close();
  assert.throws(() => new omni.AsyncTransport({ maxConcurrent: 0 }), (e) => {
    assert.equal(e.code, 'INVALID_CONFIG');
    assert.deepEqual(e.details, { path: 'maxConcurrent' });
    return true;
  });
  assert.throws(() => new omni.AsyncTransport({ httpVersion: '3' }), (e) => e.code === 'INVALID_CONFIG');
});

test('close() rejects what is outstanding with CANCELED', async () => {
  const { server, sessions } = h2Server({ delayMs: 5000 });
  const port = await listen(server);
  const t = new omni.AsyncTransport({ httpVersion: '2', caFile: CA, maxConcurrent: 5 });
  const sends = Array.from({ length: 12 }, (_, i) =>
    t.send({ method: 'GET', url: `https://127.0.0.1:${port}/slow/${i}` }),
  );
  const settled = Promise.allSettled(sends);
  await new Promise((r) => setTimeout(r, 50));
  const closing = t.close();
  assert.equal(t.close(), closing, 'close() twice gives the same promise');
  assert.equal(t.closed, true);
  await closing;
  for (const r of await settled) {
    assert.equal(r.status, 'rejected');
    assert.equal(r.reason.code, 'CANCELED');
    assert.equal(r.reason.status, omni.Status.ECANCELED);
  }
  await assert.rejects(t.send({ method: 'GET', url: `https://127.0.0.1:${port}/late` }), (e) => e.code === 'CANCELED');
  assert.equal(t.pending, 0);
  for (const s of sessions) s.destroy();
  await close(server);
});

test('an idle AsyncTransport does not keep the process alive', () => {
  const script = `
    const omni = require(${JSON.stringify(path.join(__dirname, '..'))});
    const t = new omni.AsyncTransport();
    t.send({ method: 'GET', url: 'http://127.0.0.1:9/' }).catch((e) => console.log(e.code));
    globalThis.keep = t; // referenced, idle once the send failed
  `;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10000, env: process.env, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'the process exited by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'CONNECT_FAILED');
});
