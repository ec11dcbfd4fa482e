'use strict';
// Transports: the scripted one, and libcurl against a local HTTP server on 127.0.0.1.
// libcurl blocks the calling thread, so the server runs in a worker thread.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Worker } = require('node:worker_threads');
const omni = require('..');

function header(message, name) {
  const headers = message.headers || {};
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  const hit = entries.find(([k]) => k.toLowerCase() === name.toLowerCase());
  return hit ? hit[1] : undefined;
}

function bodyOf(message) {
  if (message.bodyBase64 !== undefined) return Buffer.from(message.bodyBase64, 'base64');
  return Buffer.from(message.body ?? '', 'utf8');
}

test('scripted transport: send and sent()', () => {
  const t = omni.Transport.scripted([
    { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' },
    { status: 503, body: 'busy' },
    { error: 'TIMEOUT', message: 'carrier did not answer' },
  ]);
  const resp = t.send({
    method: 'POST',
    url: 'https://api.example.com/v1/messages',
    headers: [['Authorization', 'Bearer t'], ['X-Id', '1']],
    body: '{"to":"+15551234567"}',
    timeoutMs: 2500,
  });
  assert.equal(resp.status, 200);
  assert.equal(header(resp, 'content-type'), 'application/json');
  assert.deepEqual(JSON.parse(bodyOf(resp)), { ok: true });

  const busy = t.send({ method: 'GET', url: 'https://api.example.com/busy' });
  assert.equal(busy.status, 503); // an HTTP error status is a response
  assert.equal(bodyOf(busy).toString(), 'busy');

  assert.throws(() => t.send({ method: 'GET', url: 'https://api.example.com/slow' }), (e) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.equal(e.retryable, true);
    assert.match(e.message, /carrier did not answer/);
    return true;
  });
  assert.throws(() => t.send({ method: 'GET', url: 'https://api.example.com/more' }), {
    code: 'SCRIPT_EXHAUSTED',
  });

  const sent = t.sent();
  assert.deepEqual(sent.slice(0, 3).map((r) => r.url), [
    'https://api.example.com/v1/messages',
    'https://api.example.com/busy',
    'https://api.example.com/slow',
  ]);
  assert.equal(sent[0].method, 'POST');
  assert.equal(header(sent[0], 'authorization'), 'Bearer t');
  assert.equal(header(sent[0], 'x-id'), '1');
  assert.deepEqual(JSON.parse(bodyOf(sent[0])), { to: '+15551234567' });
  assert.equal(sent[0].timeoutMs, 2500);
  t.close();
  t.close();
  assert.throws(() => t.sent(), { code: 'INVALID_ARGUMENT', message: 'transport is closed' });
});

test('scripted transport: binary bodies', () => {
  const t = omni.Transport.scripted([{ status: 204 }]);
  t.send({ method: 'PUT', url: 'https://x.example/b', body: Buffer.from([0, 0xff, 1]) });
  assert.deepEqual(bodyOf(t.sent()[0]), Buffer.from([0, 0xff, 1]));
  t.close();
});

test('request and script errors', () => {
  assert.throws(() => omni.Transport.scripted('[not json'), (e) =>
    ['INVALID_JSON', 'INVALID_CONFIG'].includes(e.code),
  );
  assert.throws(() => omni.Transport.scripted('{"status":200}'), (e) =>
    ['INVALID_ARGUMENT', 'INVALID_JSON', 'INVALID_CONFIG'].includes(e.code),
  );
  assert.throws(() => omni.Transport.scripted([{ status: 99 }]), (e) =>
    ['INVALID_ARGUMENT', 'INVALID_JSON', 'INVALID_CONFIG'].includes(e.code),
  );
  const t = omni.Transport.scripted([]);
  assert.throws(() => t.send({ method: 'get', url: 'https://x.example/' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => t.send({ method: 'GET', url: 'ftp://x.example/' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(
    () => t.send({ method: 'GET', url: 'https://x.example/', headers: { 'X-Bad': 'a\r\nInjected: 1' } }),
    { code: 'INVALID_ARGUMENT' },
  );
  assert.throws(() => t.send({ method: 'GET', url: 'https://x.example/', body: 42 }), TypeError);
  assert.deepEqual(t.sent(), []);
  t.close();
});

test('engine with a scripted transport', () => {
  const engine = new omni.Engine({ transport: { type: 'scripted', responses: [{ status: 202, body: 'ok' }] } });
  const t = engine.transport;
  assert.ok(t instanceof omni.Transport);
  assert.equal(t.send({ method: 'GET', url: 'https://x.example/' }).status, 202);
  assert.equal(t.sent().length, 1);
  engine.close();
  assert.equal(t.closed, true);
  assert.throws(() => t.sent(), { code: 'INVALID_ARGUMENT' });
});

const SERVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const reply = (status, type, data) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': data.length, 'X-Served-By': 'node-test' });
      res.end(data);
    };
    if (req.url.startsWith('/slow')) return setTimeout(() => reply(200, 'text/plain', Buffer.from('late')), 1500);
    if (req.url.startsWith('/missing')) return reply(404, 'text/plain', Buffer.from('no such thing'));
    if (req.url.startsWith('/big')) return reply(200, 'text/plain', Buffer.alloc(100000, 'x'));
    if (req.url.startsWith('/binary')) return reply(200, 'application/octet-stream', Buffer.from([0, 0xff, 0xfe, 1]));
    reply(200, 'application/json', Buffer.from(JSON.stringify({
      method: req.method, path: req.url, headers: req.headers, body: body.toString('utf8'),
    })));
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', (m) => { if (m === 'stop') { server.closeAllConnections(); server.close(); parentPort.close(); } });
`;

async function startServer() {
  const worker = new Worker(SERVER, { eval: true });
  const port = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('curl transport against a local server', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const transport = omni.Transport.curl({ timeoutMs: 5000, userAgent: 'omni-node-test' });
  try {
    const resp = transport.send({
      method: 'POST',
      url: `${server.base}/v1/send?x=1`,
      headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc' },
      body: '{"hello":"wörld"}',
    });
    assert.equal(resp.status, 200);
    assert.equal(header(resp, 'x-served-by'), 'node-test');
    const echo = JSON.parse(bodyOf(resp));
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/v1/send?x=1');
    assert.equal(echo.headers['x-trace'], 'abc');
    assert.equal(echo.headers['user-agent'], 'omni-node-test');
    assert.deepEqual(JSON.parse(echo.body), { hello: 'wörld' });

    for (let i = 0; i < 3; i++) {
      const r = transport.send({ method: 'GET', url: `${server.base}/n/${i}` });
      assert.equal(JSON.parse(bodyOf(r)).path, `/n/${i}`);
    }
    const missing = transport.send({ method: 'GET', url: `${server.base}/missing` });
    assert.equal(missing.status, 404);
    assert.equal(bodyOf(missing).toString(), 'no such thing');
    const binary = transport.send({ method: 'GET', url: `${server.base}/binary` });
    assert.deepEqual(bodyOf(binary), Buffer.from([0, 0xff, 0xfe, 1]));
  } finally {
    transport.close();
  }
});

test('curl transport errors', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const transport = omni.Transport.curl({ maxResponseBytes: 1000 });
  try {
    assert.throws(() => transport.send({ method: 'GET', url: `${server.base}/big` }), {
      code: 'RESPONSE_TOO_LARGE',
      retryable: false,
    });
    assert.throws(() => transport.send({ method: 'GET', url: `${server.base}/slow`, timeoutMs: 300 }), {
      code: 'TIMEOUT',
      retryable: true,
    });
    const port = await freePort();
    assert.throws(() => transport.send({ method: 'GET', url: `http://127.0.0.1:${port}/` }), {
      code: 'CONNECT_FAILED',
      retryable: true,
    });
    assert.throws(() => transport.sent(), { code: 'INVALID_ARGUMENT' }); // not scripted
  } finally {
    transport.close();
  }
  assert.throws(() => omni.Transport.curl({ noSuchOption: 1 }), { code: 'INVALID_CONFIG' });
});
