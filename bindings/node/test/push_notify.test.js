'use strict';
// Delivery with a Push: notify() (pushNotification, omni/push.h) and push jobs, against a
// real HTTP server on 127.0.0.1 answering like APNs (410 Unregistered for one token). The
// calls block the event loop (libcurl), so the server runs in a worker thread.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const omni = require('..');

const KEY = fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'tests', 'data', 'push', 'apns', 'AuthKey_TEST123456.p8'), 'utf8');
const GOOD = 'a1'.repeat(32);
const DEAD = 'dd'.repeat(32);

const SERVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const paths = [];
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    paths.push(req.url);
    if (req.url.endsWith('${DEAD}')) {
      const body = '{"reason":"Unregistered","timestamp":1}';
      res.writeHead(410, { 'Content-Length': body.length });
      res.end(body);
    } else {
      res.writeHead(200, { 'apns-id': 'apns-' + paths.length, 'Content-Length': 0 });
      res.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.cmd === 'paths') parentPort.postMessage({ paths });
  else if (m.cmd === 'stop') { server.closeAllConnections(); server.close(); parentPort.close(); }
});
`;

async function setup(t) {
  const worker = new Worker(SERVER, { eval: true });
  const ask = (msg) => new Promise((resolve) => {
    worker.once('message', resolve);
    if (msg) worker.postMessage(msg);
  });
  const { port } = await ask(null);
  const engine = new omni.Engine({ storage: 'memory:', clock: { fixed: '2026-01-01T00:00:00Z' },
    transport: { type: 'curl', timeoutMs: 3000 } });
  const outbound = new omni.Outbound({});
  const push = new omni.Push({ apns: { teamId: 'ABCDE12345', keyId: 'TEST123456', privateKey: KEY,
    topic: 'com.example.app', baseUrl: `http://127.0.0.1:${port}` } });
  const d = new omni.Delivery(engine, outbound, null, { push });
  t.after(async () => {
    d.close();
    push.close();
    outbound.close();
    engine.close();
    worker.postMessage({ cmd: 'stop' });
    await new Promise((resolve) => worker.once('exit', resolve));
  });
  return { engine, push, d, paths: async () => (await ask({ cmd: 'paths' })).paths };
}

const event = (corr, recipients, options = { priority: 'high' }) => ({
  correlationId: corr, notificationType: 'escalation', recipients,
  payload: { title: 'Escalated', body: 'A VIP is waiting' }, options,
});

test('notify sends to registry devices and removes a refused one', async (t) => {
  const { engine, push, d, paths } = await setup(t);
  assert.equal(d.push, push);
  for (const token of [GOOD, DEAD]) engine.deviceRegister({ userId: 'agent-1', deviceToken: token, platform: 'ios' });
  const res = d.notify(event('c1', [{ userId: 'agent-1' }]));
  assert.deepEqual(res.summary, { total: 2, sent: 1, failed: 1, skipped: 0, pending: 0 });
  const failed = res.deliveryResults.find((r) => r.status === 'failed');
  assert.equal(failed.errorCode, 'INVALID_TOKEN');
  assert.deepEqual(res.events.map((e) => e.detailType), ['device.invalidated']);
  assert.throws(() => engine.deviceGet('ios', DEAD), (e) => e.code === 'NOT_FOUND');
  const again = d.notify(JSON.stringify(event('c1', [{ userId: 'agent-1' }])));
  assert.equal(again.deliveryResults[0].duplicate, true);
  assert.equal((await paths()).length, 2);
});

test('quiet hours skip unless critical; a push job runs', async (t) => {
  const { d, paths } = await setup(t);
  const rec = [{ userId: 'u', deviceTokens: [{ token: GOOD, platform: 'ios' }],
    preferences: { quietHours: { start: '23:00', end: '01:00', timezone: 'UTC' } } }];
  assert.equal(d.notify(event('c2', rec)).deliveryResults[0].reason, 'QUIET_HOURS');
  assert.equal(d.notify(event('c3', rec, { priority: 'critical' })).deliveryResults[0].status, 'sent');
  const job = d.publish({ correlationId: 'c4', recipient: { channelIdentifier: GOOD, carrier: 'apns' },
    push: { platform: 'ios', token: GOOD, payload: { title: 't', body: 'b' } } });
  assert.equal(job.run().delivery.status, 'sent');
  assert.equal((await paths()).length, 2);
});

test('errors', async (t) => {
  const { engine, push, d } = await setup(t);
  assert.throws(() => d.notify(event('c5', [])), (e) => e.code === 'INVALID_ARGUMENT' && /recipients/.test(e.message));
  assert.throws(() => new omni.Delivery(engine, new omni.Outbound({}), null, { push: 'apns' }), TypeError);
  push.close();
  assert.equal(d.closed, true);
  assert.throws(() => d.notify(event('c6', [{ userId: 'u' }])), /push is closed/);
  assert.throws(() => new omni.Delivery(engine, new omni.Outbound({}), null, { push }), /push is closed/);
});

test('notifyAsync fans out on Node\'s loop without blocking it', async (t) => {
  const { engine, d, paths } = await setup(t);
  const transport = new omni.AsyncTransport({ maxConcurrent: 16 });
  t.after(() => transport.close());
  const devices = [];
  for (let i = 0; i < 30; i++) devices.push({ token: (i % 2 ? 'b' : 'c') + String(i).padStart(63, '0'), platform: 'ios' });
  devices.push({ token: DEAD, platform: 'ios' });
  engine.deviceRegister({ userId: 'crowd', deviceToken: DEAD, platform: 'ios' });
  const pending = d.notifyAsync(event('c7', [{ userId: 'crowd', deviceTokens: devices }]), transport);
  assert.ok(pending instanceof Promise);
  assert.equal(transport.pending, 31, 'every send is in flight or queued: the call did not wait');
  const res = await pending;
  assert.deepEqual(res.summary, { total: 31, sent: 30, failed: 1, skipped: 0, pending: 0 });
  assert.deepEqual(res.events.map((e) => e.detailType), ['device.invalidated']);
  assert.equal((await paths()).length, 31);
  // nothing to send: resolves at once with the duplicates
  const again = await d.notifyAsync(event('c7', [{ userId: 'crowd', deviceTokens: devices }]), transport);
  assert.equal(again.summary.sent, 30);
  await assert.rejects(d.notifyAsync(event('c8', []), transport), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(d.notifyAsync(event('c9', [{ userId: 'u' }]), {}), TypeError);
  await transport.close();
  await assert.rejects(d.notifyAsync(event('c10', [{ userId: 'u', deviceTokens: devices.slice(0, 1) }]), transport),
    (e) => e.code === 'CANCELED');
});
