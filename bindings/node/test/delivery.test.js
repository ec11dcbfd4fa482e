'use strict';
// omni.Delivery (omni/delivery.h) against a real HTTP server on 127.0.0.1 answering like
// Twilio's Messages API: sends exactly once, duplicates, stored retries sent by tick(), dead
// letters (list, get, redrive, purge), the sans-I/O job API (hand-fed responses and transport
// errors, or the engine's transport) and the errors. send() blocks the event loop (libcurl),
// so the server runs in a worker thread; scripted answers are acknowledged before a send.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { Worker } = require('node:worker_threads');
const omni = require('..');

const T0 = 1767225600000; // 2026-01-01T00:00:00Z, the engines' frozen clock
const SID = 'AC00000000000000000000000000000001';
const SECRET = 'tw-node-secret-0001';
const MESSAGES_PATH = `/2010-04-01/Accounts/${SID}/Messages.json`;

const SERVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const requests = [];
const script = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests.push({ path: req.url, body: Buffer.concat(chunks).toString('utf8') });
    const answer = script.shift() ||
      { status: 201, headers: {}, doc: { sid: 'SM' + String(requests.length).padStart(4, '0'), status: 'queued' } };
    const data = Buffer.from(JSON.stringify(answer.doc));
    res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...answer.headers });
    res.end(data);
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.cmd === 'push') { script.push(m.answer); parentPort.postMessage({ ok: true }); }
  else if (m.cmd === 'requests') parentPort.postMessage({ requests });
  else if (m.cmd === 'stop') { server.closeAllConnections(); server.close(); parentPort.close(); }
});
`;

async function startServer() {
  const worker = new Worker(SERVER, { eval: true });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      if (msg) worker.postMessage(msg);
    });
  const { port } = await ask(null);
  return {
    url: `http://127.0.0.1:${port}`,
    push: (status, doc, headers = {}) => ask({ cmd: 'push', answer: { status, doc, headers } }),
    requests: async () => (await ask({ cmd: 'requests' })).requests,
    count: async () => (await ask({ cmd: 'requests' })).requests.length,
    stop: async () => {
      worker.postMessage({ cmd: 'stop' });
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

function engineConfig({ store = 'memory:', transport = true } = {}) {
  const cfg = { storage: store, clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 7 } };
  if (transport) cfg.transport = { type: 'curl', timeoutMs: 3000, connectTimeoutMs: 3000 };
  return cfg;
}

const providers = (url) => ({ twilio: { accountSid: SID, authToken: SECRET, baseUrl: url } });
const FAST = { retryPolicy: { maxRetries: 2, initialBackoff: 10, maxBackoff: 10 } };

function sms(corr = 'corr-1', to = '+14155550100') {
  return {
    correlationId: corr,
    messageType: 'reply',
    recipient: { customerId: 'c1', channelIdentifier: to, carrier: 'twilio', channel: 'sms' },
    message: { content: 'Hello from Node', contentType: 'text' },
    routing: { accountId: 'acc-1', conversationId: 'conv-1', fromNumber: '+14155550199' },
  };
}

// A server plus engine, outbound and delivery, closed after the test.
async function setup(t, { delivery = FAST, engine = {} } = {}) {
  const server = await startServer();
  const e = new omni.Engine(engineConfig(engine));
  const ob = new omni.Outbound(providers(server.url));
  const d = new omni.Delivery(e, ob, delivery);
  t.after(async () => {
    d.close();
    ob.close();
    e.close();
    await server.stop();
  });
  return { server, engine: e, outbound: ob, d };
}

test('send delivers once and a repeat is a duplicate', async (t) => {
  const { server, d } = await setup(t);
  const first = d.send(sms('corr-1'));
  assert.equal(first.success, true);
  assert.equal(first.correlationId, 'corr-1');
  assert.equal(first.duplicate, undefined);
  assert.equal(first.delivery.status, 'queued');
  assert.equal(first.delivery.carrierMessageId, 'SM0001');
  assert.equal(first.delivery.attempts, 1);
  assert.equal(first.delivery.timestamp, '2026-01-01T00:00:00.000Z');
  assert.match(first.delivery.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(first.tracking.trackingId, first.delivery.messageId);
  const reqs = await server.requests();
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].path, MESSAGES_PATH);
  assert.match(reqs[0].body, /Body=Hello\+from\+Node/);

  const again = d.send(JSON.stringify(sms('corr-1')));
  assert.equal(again.duplicate, true);
  assert.equal(again.delivery.messageId, first.delivery.messageId);
  assert.equal(again.delivery.carrierMessageId, 'SM0001');
  assert.equal(await server.count(), 1);

  const a = d.send(sms('corr-2'), { idempotencyKey: 'order-5' });
  const b = d.send(sms('corr-3'), { idempotencyKey: 'order-5' });
  assert.equal(a.duplicate, undefined);
  assert.equal(b.duplicate, true);
  assert.equal(b.correlationId, 'corr-2');
  assert.equal(await server.count(), 2);

  const rec = d.get(first.delivery.messageId);
  assert.equal(rec.state, 'delivered');
  assert.deepEqual(rec.attempts.map((x) => x.outcome), ['accepted']);
  assert.equal(rec.attempts[0].httpStatus, 201);
  assert.ok(!JSON.stringify(rec).includes(SECRET));
});

test('a rate-limited send stays pending until tick() at its due time', async (t) => {
  const { server, d } = await setup(t);
  await server.push(429, { code: 20429, message: 'Too Many Requests', status: 429 }, { 'Retry-After': '30' });
  const r = d.send(sms('corr-429'));
  assert.equal(r.success, false);
  assert.equal(r.delivery.status, 'pending');
  assert.equal(r.delivery.nextAttemptAt, '2026-01-01T00:00:30.000Z');
  assert.equal(r.error.code, 'RATE_LIMITED');
  assert.equal(r.error.retryable, true);

  const early = d.tick({ now: T0 + 29999 });
  assert.equal(early.processed, 0);
  assert.equal(early.nextDueAt, '2026-01-01T00:00:30.000Z');
  assert.equal(d.tick().processed, 0); // the engine's frozen clock
  assert.equal(await server.count(), 1);
  const due = d.tick({ now: '2026-01-01T00:00:30Z', limit: 5 });
  assert.equal(due.processed, 1);
  assert.equal(due.sent, 1);
  assert.equal(due.nextDueAt, null);
  assert.equal(await server.count(), 2);
  const rec = d.get(r.delivery.messageId);
  assert.equal(rec.state, 'delivered');
  assert.deepEqual(rec.attempts.map((x) => x.outcome), ['retry', 'accepted']);
});

test('deadlineMs waits for a retry inline', async (t) => {
  const { server, d } = await setup(t);
  await server.push(503, { code: 20503, message: 'Service unavailable', status: 503 });
  const r = d.send(sms('corr-503'), { deadlineMs: 5000 });
  assert.equal(r.success, true);
  assert.equal(r.delivery.attempts, 2);
  assert.equal(await server.count(), 2);
});

test('dead letters: list, get, redrive + tick, purge', async (t) => {
  const { server, d } = await setup(t);
  await server.push(400, { code: 21211, message: "Invalid 'To' Phone Number", status: 400 });
  const r = d.send(sms('corr-400'));
  assert.equal(r.delivery.status, 'failed');
  assert.equal(r.error.code, 'INVALID_RECIPIENT');
  assert.equal(r.error.retryable, false);
  const id = r.delivery.messageId;

  const page = d.dlqList();
  assert.equal(page.next, null);
  assert.deepEqual(page.items.map((i) => i.messageId), [id]);
  const item = page.items[0];
  assert.equal(item.reason.code, 'INVALID_RECIPIENT');
  assert.equal(item.carrier, 'twilio');
  assert.equal(item.deadAt, '2026-01-01T00:00:00.000Z');
  assert.equal(item.event.correlationId, 'corr-400');
  assert.deepEqual(d.dlqGet(id), item);

  const red = d.dlqRedrive(id);
  assert.equal(red.delivery.messageId, id);
  assert.equal(red.delivery.status, 'pending');
  assert.deepEqual(d.dlqList().items, []);
  const tick = d.tick();
  assert.equal(tick.processed, 1);
  assert.equal(tick.sent, 1);
  assert.equal(await server.count(), 2);
  assert.equal(d.get(id).state, 'delivered');
  assert.throws(() => d.dlqGet(id), { code: 'NOT_FOUND', status: omni.Status.ENOTFOUND });

  const ids = [];
  for (let i = 0; i < 3; i++) {
    await server.push(400, { code: 21211, message: "Invalid 'To' Phone Number", status: 400 });
    ids.push(d.send(sms(`corr-p${i}`)).delivery.messageId);
  }
  const first = d.dlqList({ limit: 2 });
  assert.equal(first.items.length, 2);
  assert.ok(first.next);
  const second = d.dlqList({ limit: 2, cursor: first.next });
  assert.equal(second.items.length, 1);
  assert.equal(second.next, null);
  assert.deepEqual([...first.items, ...second.items].map((i) => i.messageId).sort(), [...ids].sort());
  assert.equal(d.dlqPurge(ids[0]), 1);
  assert.throws(() => d.dlqPurge(ids[0]), { code: 'NOT_FOUND' });
  assert.equal(d.dlqPurge(), 2);
  assert.deepEqual(d.dlqList(), { items: [], next: null });
  assert.equal(d.get(ids[1]).state, 'dead');
});

test('job API: hand-fed responses and transport errors, without a transport', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const e = new omni.Engine(engineConfig({ transport: false }));
  const ob = new omni.Outbound(providers(server.url));
  const d = new omni.Delivery(e, ob, FAST);
  try {
    assert.throws(() => d.send(sms('corr-none')), { code: 'UNSUPPORTED' });
    let job = d.publish(sms('corr-job'), null, { now: T0 });
    let step = job.next(T0);
    assert.equal(step.action, 'send');
    assert.equal(step.waitUntilMs, null);
    assert.equal(step.request.method, 'POST');
    assert.equal(step.request.url, server.url + MESSAGES_PATH);
    assert.match(step.request.body, /Body=Hello\+from\+Node/);
    assert.equal(job.result().delivery.status, 'sending');
    assert.throws(() => job.next(T0), { code: 'INVALID_ARGUMENT' }); // not fed yet

    job.feed({
      response: {
        status: 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
        body: '{"code":20503,"message":"Service unavailable"}',
      },
      now: T0,
    });
    step = job.next(T0);
    assert.deepEqual(step, { action: 'wait', request: null, waitUntilMs: T0 + 1000 });
    assert.equal(job.result().error.code, 'PROVIDER_UNAVAILABLE');
    assert.throws(() => job.feed({ transportError: 'TIMEOUT', now: T0 }), { code: 'INVALID_ARGUMENT' });

    step = job.next(new Date(T0 + 1000));
    assert.equal(step.action, 'send');
    job.feed({ transportError: 'TIMEOUT', now: T0 + 1000 });
    const pending = job.result();
    assert.equal(pending.error.code, 'TIMEOUT');
    assert.equal(pending.delivery.status, 'pending');
    const until = omni.timeParse(pending.delivery.nextAttemptAt);
    assert.ok(until >= T0 + 1000 && until <= T0 + 1010, `${until}`);
    const id = pending.delivery.messageId;
    job.close();
    assert.equal(job.closed, true);
    assert.throws(() => job.result(), { code: 'INVALID_ARGUMENT', message: 'delivery job is closed' });

    job = d.resume(id, { now: until });
    assert.equal(job.next(until).action, 'send');
    job.feed({
      response: {
        status: 201,
        headers: [['Content-Type', 'application/json']],
        body: Buffer.from('{"sid":"SMhand","status":"queued"}'),
      },
      now: until,
    });
    assert.deepEqual(job.next(until), { action: 'done', request: null, waitUntilMs: null });
    const done = job.result();
    assert.equal(done.success, true);
    assert.equal(done.delivery.carrierMessageId, 'SMhand');
    assert.equal(done.delivery.attempts, 3);
    assert.deepEqual(d.get(id).attempts.map((a) => a.outcome), ['retry', 'retry', 'accepted']);
    job.close();
    assert.equal(await server.count(), 0);
  } finally {
    d.close();
    ob.close();
    e.close();
  }
});

test('job API through the engine transport, and transport error forms', async (t) => {
  const { server, engine, outbound, d } = await setup(t);
  const job = d.publish(sms('corr-drive'));
  assert.equal(job.delivery, d);
  const step = job.next();
  assert.equal(step.action, 'send');
  job.feed({ response: engine.transport.send(step.request) });
  assert.equal(job.next().action, 'done');
  assert.equal(job.result().delivery.carrierMessageId, 'SM0001');
  job.close();
  const dup = d.publish(sms('corr-drive'));
  assert.deepEqual(dup.next(), { action: 'done', request: null, waitUntilMs: null });
  assert.equal(dup.result().duplicate, true);
  dup.close();
  assert.equal(await server.count(), 1);

  const d2 = new omni.Delivery(engine, outbound, { circuitBreaker: { failureThreshold: 1000 } });
  const forms = [
    [omni.Status.ECONNECT, 'CONNECTION_FAILED'],
    ['ETIMEOUT', 'TIMEOUT'],
    ['TRANSPORT_ERROR', 'TRANSPORT_ERROR'],
    [new omni.OmniError('refused', { code: 'CONNECT_FAILED', status: omni.Status.ECONNECT }), 'CONNECTION_FAILED'],
  ];
  forms.forEach(([form, code], i) => {
    const j = d2.publish(sms(`corr-f${i}`));
    assert.equal(j.next().action, 'send');
    j.feed({ transportError: form });
    assert.equal(j.result().error.code, code);
    j.close();
  });
  const j = d2.publish(sms('corr-fx'));
  assert.equal(j.next().action, 'send');
  assert.throws(() => j.feed({ transportError: 'NO_SUCH_CODE' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => j.feed({ transportError: 0 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => j.feed({ transportError: {} }), TypeError);
  assert.throws(() => j.feed({}), TypeError);
  assert.throws(() => j.feed({ response: { status: 200 }, transportError: 'TIMEOUT' }), TypeError);
  assert.throws(() => j.feed({ response: 'HTTP/1.1 200 OK' }), TypeError);
  assert.throws(() => j.feed({ response: { status: 99 } }), (err) =>
    ['INVALID_ARGUMENT', 'INVALID_JSON'].includes(err.code));
  j.feed({ response: { status: 201, body: '{"sid":"SMok","status":"queued"}' } });
  assert.equal(j.result().success, true);
  j.close();
  d2.close();
  assert.equal(await server.count(), 1);
});

test('errors are OmniErrors with the library codes', async (t) => {
  const { server, engine, outbound, d } = await setup(t);
  const code = (fn) => {
    let caught;
    assert.throws(fn, (err) => {
      caught = err;
      return err instanceof omni.OmniError;
    });
    assert.ok(!caught.message.includes(SECRET));
    return caught.code;
  };
  assert.equal(code(() => new omni.Delivery(engine, outbound, { colour: 'blue' })), 'INVALID_CONFIG');
  assert.equal(code(() => new omni.Delivery(engine, outbound, { retryPolicy: { maxRetries: 99 } })), 'INVALID_CONFIG');
  assert.equal(code(() => new omni.Delivery(engine, outbound, { fallback: { twilio: ['pigeon'] } })), 'INVALID_CONFIG');
  assert.equal(code(() => new omni.Delivery(engine, outbound, '{oops')), 'INVALID_JSON');
  assert.throws(() => new omni.Delivery({}, outbound), TypeError);
  assert.throws(() => new omni.Delivery(engine, providers(server.url)), TypeError);
  assert.equal(code(() => d.send('{not json')), 'INVALID_JSON');
  assert.equal(code(() => d.send({ correlationId: 'c' })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.send(sms(), { deadlineMs: -1 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.get('no-such-message')), 'NOT_FOUND');
  assert.equal(code(() => d.dlqGet('no-such-message')), 'NOT_FOUND');
  assert.equal(code(() => d.dlqRedrive('no-such-message')), 'NOT_FOUND');
  assert.equal(code(() => d.resume('no-such-message')), 'NOT_FOUND');
  assert.equal(code(() => d.tick({ limit: 0 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.tick({ limit: 1001 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.tick({ limit: -1 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.tick({ limit: 1.5 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => d.tick({ now: 'yesterday' })), 'INVALID_TIMESTAMP');
  assert.equal(code(() => d.dlqList({ limit: 0 })), 'INVALID_ARGUMENT');
  assert.throws(() => d.get(7), TypeError);
  assert.throws(() => d.dlqList({ cursor: 5 }), TypeError);
  assert.throws(() => d.tick({ now: {} }), TypeError);
  assert.throws(() => d.send(Symbol('x')), TypeError);
  assert.equal(await server.count(), 0);
});

test('closing the engine, the outbound or the delivery', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const e = new omni.Engine(engineConfig());
  const ob = new omni.Outbound(providers(server.url));
  const d = new omni.Delivery(e, ob);
  assert.equal(d.engine, e);
  assert.equal(d.outbound, ob);
  const job = d.publish(sms('corr-life'));
  assert.equal(d.closed, false);
  assert.equal(job.closed, false);
  ob.close();
  assert.equal(d.closed, true);
  assert.equal(job.closed, true);
  assert.throws(() => d.tick(), { code: 'INVALID_ARGUMENT', message: 'outbound is closed' });
  assert.throws(() => job.next(), { code: 'INVALID_ARGUMENT', message: 'outbound is closed' });
  e.close();
  assert.throws(() => d.get('x'), { message: 'engine is closed' });
  d.close();
  d.close();
  assert.throws(() => d.dlqList(), { message: 'delivery is closed' });
  assert.throws(() => job.result(), { message: 'delivery is closed' });
  job.close();
  assert.throws(() => job.result(), { message: 'delivery job is closed' });
  assert.throws(() => new omni.Delivery(e, ob), { message: 'engine is closed' });
  if (typeof Symbol.dispose === 'symbol') {
    const e2 = new omni.Engine(engineConfig());
    const ob2 = new omni.Outbound(providers(server.url));
    const d2 = new omni.Delivery(e2, ob2);
    d2[Symbol.dispose]();
    assert.equal(d2.closed, true);
    e2.close();
    ob2.close();
  }
});

test('a refused connection is a pending result, not an error', async () => {
  const port = await new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const e = new omni.Engine(engineConfig());
  const ob = new omni.Outbound(providers(`http://127.0.0.1:${port}`));
  const d = new omni.Delivery(e, ob, { retryPolicy: { initialBackoff: 1000 } });
  try {
    const r = d.send(sms('corr-down'));
    assert.equal(r.success, false);
    assert.equal(r.delivery.status, 'pending');
    assert.equal(r.error.code, 'CONNECTION_FAILED');
  } finally {
    d.close();
    ob.close();
    e.close();
  }
});
