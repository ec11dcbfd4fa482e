'use strict';
// omni.Orchestrator (omni/orchestrator.h) against a real HTTP server on 127.0.0.1 answering like
// Twilio (one number refused with 21211) and SendGrid. The calls block the event loop
// (libcurl), so the server runs in a worker thread.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const omni = require('..');

const SID = 'AC00000000000000000000000000000001';
const BAD = '+14155550666';

const SERVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const paths = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    paths.push(req.url);
    let status = 201, doc = { sid: 'SM' + paths.length, status: 'queued' };
    if (req.url.startsWith('/v3/mail/send')) { status = 202; doc = null; }
    else if (body.includes('To=%2B14155550666')) { status = 400; doc = { code: 21211, message: 'Invalid To' }; }
    const data = doc ? JSON.stringify(doc) : '';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    res.end(data);
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
  const url = `http://127.0.0.1:${port}`;
  const engine = new omni.Engine({ storage: 'memory:', clock: { fixed: '2026-01-01T12:00:00Z' },
    transport: { type: 'curl', timeoutMs: 3000 } });
  const outbound = new omni.Outbound({
    twilio: { accountSid: SID, authToken: 'tw-secret', baseUrl: url },
    sendgrid: { apiKey: 'sg-secret', from: { email: 'ops@example.com' }, baseUrl: url } });
  const d = new omni.Delivery(engine, outbound);
  const o = new omni.Orchestrator(d, { channels: { sms: { carrier: 'twilio', from: '+14155550199' },
    email: { carrier: 'sendgrid' } } });
  t.after(async () => {
    o.close();
    d.close();
    outbound.close();
    engine.close();
    worker.postMessage({ cmd: 'stop' });
    await new Promise((resolve) => worker.once('exit', resolve));
  });
  return { engine, d, o, paths: async () => (await ask({ cmd: 'paths' })).paths };
}

const prefs = (userId, phone) => ({ userId, channels: { sms: { address: phone },
  email: { address: `${userId}@example.com` } }, preferredChannels: ['sms', 'email'] });
const request = (userId, messageType = 'important', requestId = 'r1') => ({ userId, messageType, requestId,
  content: { subject: 'Your order', body: 'Your order ships today.' } });

test('important falls back from a refused SMS to email, once', async (t) => {
  const { engine, o, paths } = await setup(t);
  assert.equal(engine.notifyPrefsPut(prefs('asha', BAD)).userId, 'asha');
  assert.equal(engine.notifyPrefsGet('asha').channels.sms.address, BAD);
  const res = o.send(request('asha'));
  assert.equal(res.success, true);
  assert.equal(res.fallbackUsed, true);
  assert.deepEqual(res.channels.map((c) => [c.channel, c.status]), [['sms', 'failed'], ['email', 'sent']]);
  o.send(request('asha'));
  assert.equal((await paths()).length, 2, 'the same requestId sends nothing again');
  const bulk = o.sendBulk({ notifications: [request('asha', 'informational', 'r2'), { userId: 'asha' }] });
  assert.equal(bulk.summary.total, 2);
  assert.equal(bulk.results[0].result.success, false, 'informational never falls back');
  assert.equal(bulk.results[1].error.code, 'INVALID_ARGUMENT');
  engine.notifyPrefsDelete('asha');
  assert.throws(() => engine.notifyPrefsGet('asha'), (e) => e.code === 'NOT_FOUND');
});

test('errors', async (t) => {
  const { engine, d, o } = await setup(t);
  assert.throws(() => o.send(request('nobody')), (e) => e.code === 'NOT_FOUND');
  assert.throws(() => engine.notifyPrefsPut({ userId: 'x', channels: { fax: {} } }), (e) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new omni.Orchestrator({}, {}), TypeError);
  assert.throws(() => new omni.Orchestrator(d, { channels: { sms: {} } }), (e) => e.code === 'INVALID_CONFIG');
  d.close();
  assert.equal(o.closed, true);
  assert.throws(() => o.send(request('nobody')), /delivery is closed/);
});
