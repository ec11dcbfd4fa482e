'use strict';
// AWS Signature Version 4 (omni/aws.h) from Node: AWS's published suite cases
// (tests/data/sigv4), S3's presigned-URL example, errors that never show secrets.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const omni = require('..');

const SUITE = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'sigv4');
const CRED = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function read(name, ext) {
  return fs.readFileSync(path.join(SUITE, name, name + ext), 'utf8');
}

function request(name) {
  const text = read(name, '.req');
  const cut = text.indexOf('\n\n');
  const head = cut >= 0 ? text.slice(0, cut) : text;
  const body = cut >= 0 ? text.slice(cut + 2) : '';
  const lines = head.split('\n');
  const [method, target] = lines[0].split(' ');
  const headers = lines.slice(1).filter(Boolean).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1)];
  });
  const host = headers.find(([k]) => k.toLowerCase() === 'host')[1];
  const req = { method, url: `https://${host}${target}`, headers };
  if (body) req.body = body;
  return req;
}

for (const name of ['get-vanilla', 'get-vanilla-query-order-key-case', 'post-x-www-form-urlencoded']) {
  test(`sigv4 suite: ${name}`, () => {
    const opts = { ...CRED, region: 'us-east-1', service: 'service' };
    const texts = omni.awsSigv4Canonical(request(name), opts);
    assert.equal(texts.canonicalRequest, read(name, '.creq'));
    assert.equal(texts.stringToSign, read(name, '.sts'));
    const signed = omni.awsSigv4Sign(request(name), opts);
    const pairs = Array.isArray(signed.headers) ? signed.headers : Object.entries(signed.headers);
    assert.deepEqual(pairs.filter(([k]) => k.toLowerCase() === 'authorization').map(([, v]) => v),
      [read(name, '.authz')]);
  });
}

test('sigv4: Buffer body, session token, presign, errors', () => {
  const signed = omni.awsSigv4Sign(
    { method: 'POST', url: 'https://email.us-east-1.amazonaws.com/v2/email/outbound-emails',
      headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}') },
    { ...CRED, sessionToken: 'tok', region: 'us-east-1', service: 'ses', now: '2026-01-02T03:04:05Z' });
  const h = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(h['x-amz-date'], '20260102T030405Z');
  assert.equal(h['x-amz-security-token'], 'tok');
  assert.match(h.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/us-east-1\/ses\/aws4_request, /);
  // Amazon S3's documented presigned-URL example
  const url = omni.awsSigv4Presign('GET', 'https://examplebucket.s3.amazonaws.com/test.txt', {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1', service: 's3', expires: 86400, now: '2013-05-24T00:00:00Z',
  });
  assert.ok(url.endsWith('X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'));
  const secret = 'very-secret-key-value';
  assert.throws(() => omni.awsSigv4Sign({ method: 'GET', url: 'https://x.amazonaws.com/' },
    { accessKeyId: 'AKID', secretAccessKey: secret, region: 'US EAST', service: 's3' }), (e) => {
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.ok(!e.message.includes(secret));
    return true;
  });
});

test('outbound: golden Twilio request, a 429 result, whatsapp window closed', () => {
  const DATA = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'outbound');
  const g = JSON.parse(fs.readFileSync(path.join(DATA, 'twilio', 'sms_text.json'), 'utf8'));
  const ob = new omni.Outbound(g.config);
  const req = ob.build(g.event, { now: g.now });
  assert.equal(req.url, g.request.url);
  assert.deepEqual(req.headers, g.request.headers);
  assert.equal(req.body, g.request.body);
  const res = ob.parse('twilio', { status: 429, headers: { 'Retry-After': '2' }, body: '{"code":20429,"message":"Too Many Requests","status":429}' });
  assert.equal(res.success, false);
  assert.equal(res.error.retryable, true);
  assert.equal(res.retryAfterMs, 2000);
  assert.throws(() => ob.build(g.event, { carrier: 'pigeon' }), (e) => e.code === 'UNKNOWN_CARRIER');
  ob.close();
  const w = JSON.parse(fs.readFileSync(path.join(DATA, 'whatsapp', 'text.json'), 'utf8'));
  const wa = new omni.Outbound(w.config);
  assert.throws(() => wa.build({ ...w.event, serviceWindow: { open: false } }),
    (e) => e.code === 'SERVICE_WINDOW_CLOSED');
});

test('outbound: golden smtp request and SMTP replies', () => {
  const DATA = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'outbound');
  const g = JSON.parse(fs.readFileSync(path.join(DATA, 'smtp', 'non_ascii.json'), 'utf8'));
  const ob = new omni.Outbound(g.config);
  const req = ob.build(g.event, { now: g.now });
  assert.equal(req.method, 'SEND');
  assert.equal(req.url, g.request.url);
  assert.deepEqual(req.headers, g.request.headers);
  assert.equal(req.body, g.request.body);
  const ok = ob.parse('smtp', { status: 250, body: '250 OK id=1rXyZa-000AbC-2B\r\n' });
  assert.deepEqual(ok, { success: true, carrier: 'smtp', carrierMessageId: '1rXyZa-000AbC-2B',
    status: 'accepted' });
  const res = ob.parse('smtp', { status: 421, body: '421 4.7.0 Try again later\r\n' });
  assert.equal(res.error.code, 'PROVIDER_UNAVAILABLE');
  assert.equal(res.error.retryable, true);
  assert.throws(() => ob.build({ ...g.event, message: { ...g.event.message, templateId: 'x' } }),
    (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('message.templateId'));
  ob.close();
});
