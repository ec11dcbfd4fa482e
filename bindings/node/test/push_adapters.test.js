'use strict';
// omni.Push: the push platform adapters (omni/push.h) against the golden files in
// tests/data/push/ (APNs, FCM HTTP v1, Web Push), FCM's token flow and the errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const omni = require('..');

const DATA = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'push');
const APNS_KEY = fs.readFileSync(path.join(DATA, 'apns', 'AuthKey_TEST123456.p8'), 'utf8');
const FCM_SA = fs.readFileSync(path.join(DATA, 'fcm', 'service_account.json'), 'utf8');
const TOKEN = 'ya29.test-access-token';
process.env.OMNI_TEST_APNS_KEY = APNS_KEY;
process.env.OMNI_TEST_FCM_SA = FCM_SA;

const load = (dir, name) => JSON.parse(fs.readFileSync(path.join(DATA, dir, name), 'utf8'));
const goldens = (dir) => fs.readdirSync(path.join(DATA, dir))
  .filter((n) => n.endsWith('.json') && n !== 'responses.json' && n !== 'service_account.json')
  .sort();
const b64d = (s) => Buffer.from(s, 'base64url');
const hdrs = (h) => (Array.isArray(h) ? Object.fromEntries(h) : h);
const without = (o, k) => Object.fromEntries(Object.entries(o).filter(([n]) => n !== k));
const tokenAnswer = (expiresIn = 3600) => ({
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ access_token: TOKEN, expires_in: expiresIn, token_type: 'Bearer' }),
});

// An ES256 JWT's signature (RFC 7518 section 3.4: r || s) checked with key.
function es256(jwt, key) {
  const [h, c, s] = jwt.split('.');
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' },
    b64d(s)));
  return [JSON.parse(b64d(h)), JSON.parse(b64d(c))];
}

for (const name of goldens('apns')) {
  test(`APNs golden ${name}`, () => {
    const g = load('apns', name);
    const push = new omni.Push(g.config);
    const req = push.build(g.message, g.now);
    const want = g.request;
    assert.equal(req.method, want.method);
    assert.equal(req.url, want.url);
    const got = hdrs(req.headers);
    assert.deepEqual(without(got, 'authorization'), without(hdrs(want.headers), 'authorization'));
    const pub = crypto.createPublicKey(crypto.createPrivateKey(APNS_KEY));
    const [header, claims] = es256(got.authorization.slice('bearer '.length), pub);
    assert.deepEqual(header, g.jwt.header);
    assert.deepEqual(claims, g.jwt.claims);
    assert.equal(req.body, want.body);
    push.close();
    assert.ok(push.closed);
  });
}

for (const name of goldens('fcm')) {
  test(`FCM golden ${name} with the token flow`, () => {
    const g = load('fcm', name);
    const push = new omni.Push(JSON.stringify(g.config));
    assert.throws(() => push.build(g.message, g.now), { code: 'TOKEN_EXPIRED' });
    const treq = push.tokenRequest(g.now);
    assert.equal(treq.method, 'POST');
    assert.equal(treq.url, g.config.fcm.tokenUrl ?? JSON.parse(FCM_SA).token_uri);
    assert.match(treq.body, /assertion=/);
    push.tokenResponse(tokenAnswer(), g.now);
    assert.equal(push.tokenRequest(g.now), null);
    const req = push.build(g.message, g.now);
    assert.equal(req.method, g.request.method);
    assert.equal(req.url, g.request.url);
    assert.deepEqual(hdrs(req.headers), hdrs(g.request.headers));
    assert.equal(req.body, g.request.body);
    push.close();
  });
}

test('FCM token request: an RS256 assertion (RFC 7523)', () => {
  const sa = JSON.parse(FCM_SA);
  const push = new omni.Push({ fcm: { serviceAccount: { env: 'OMNI_TEST_FCM_SA' } } });
  const req = push.tokenRequest(new Date('2024-05-01T12:00:00Z'));
  const form = Object.fromEntries(req.body.split('&').map((kv) => kv.split('=')));
  assert.equal(form.grant_type, 'urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer');
  const [h, c, s] = form.assertion.split('.');
  const pub = fs.readFileSync(path.join(DATA, 'fcm', 'public_key.pem'));
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${c}`), pub, b64d(s)));
  assert.deepEqual(JSON.parse(b64d(c)), {
    iss: sa.client_email, scope: 'https://www.googleapis.com/auth/firebase.messaging',
    aud: sa.token_uri, iat: 1714564800, exp: 1714568400,
  });
  assert.ok(!JSON.stringify(req).includes(sa.private_key.slice(40, 80)));
  // refreshed 5 minutes before it expires
  push.tokenResponse(tokenAnswer(600), 1714564800000n);
  assert.equal(push.tokenRequest(1714564800000), null);
  assert.notEqual(push.tokenRequest(1714564800000 + 301000), null);
});

test('FCM token response errors leave the cache unchanged', () => {
  const g = load('fcm', 'token_notification.json');
  const push = new omni.Push(g.config);
  assert.throws(() => push.tokenResponse({
    status: 400, body: '{"error": "invalid_grant", "error_description": "Invalid JWT"}',
  }, g.now), (e) => e.code === 'INVALID_KEY' && !e.retryable && /invalid_grant/.test(e.message));
  assert.throws(() => push.tokenResponse({ status: 503, body: '' }, g.now),
    { code: 'TRANSPORT_ERROR' });
  assert.throws(() => push.tokenResponse({ status: 200, body: Buffer.from('{"access_token": 5}') },
    g.now), { code: 'INVALID_JSON' });
  assert.throws(() => push.build(g.message, g.now), { code: 'TOKEN_EXPIRED' });
});

for (const name of goldens('web')) {
  test(`Web Push golden ${name}`, () => {
    const g = load('web', name);
    const push = new omni.Push(Buffer.from(JSON.stringify(g.config)));
    const req = push.build(Buffer.from(JSON.stringify(g.message)), g.now);
    assert.equal(req.method, g.request.method);
    assert.equal(req.url, g.request.url);
    const got = hdrs(req.headers);
    const want = hdrs(g.request.headers);
    assert.deepEqual(without(got, 'Authorization'), without(want, 'Authorization'));
    const [t, k] = got.Authorization.slice('vapid '.length).split(', ');
    assert.equal(k, want.Authorization.split(', ')[1]);
    const pub = crypto.createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64d(k.slice(2)).subarray(1, 33).toString('base64url'),
        y: b64d(k.slice(2)).subarray(33).toString('base64url') },
      format: 'jwk',
    });
    assert.deepEqual(es256(t.slice(2), pub)[1], g.vapidClaims);
    assert.ok(Buffer.isBuffer(req.body));
    assert.equal(req.bodyBase64, undefined);
    const keys = g.message.subscription.keys;
    const plain = omni.webpushDecrypt(req.body, b64d(g.uaPrivateKey), b64d(keys.auth)).toString();
    const wantBody = g.request.body;
    if (typeof wantBody === 'string') assert.equal(plain, wantBody);
    else assert.deepEqual(JSON.parse(plain), wantBody);
  });
}

const allConfig = () => ({
  apns: load('apns', 'alert_basic.json').config.apns,
  fcm: { serviceAccount: { env: 'OMNI_TEST_FCM_SA' } },
  webpush: load('web', 'basic.json').config.webpush,
});

test('parse: every response of the tables', () => {
  const push = new omni.Push(allConfig());
  let n = 0;
  for (const [platform, dir] of [['ios', 'apns'], ['android', 'fcm'], ['web', 'web']]) {
    for (const c of load(dir, 'responses.json')) {
      const resp = c.response ?? Object.fromEntries(['status', 'headers', 'body']
        .filter((key) => key in c).map((key) => [key, c[key]]));
      let got = push.parse(platform, resp, c.now ?? '2024-05-01T12:00:00Z');
      let want = c.result;
      if ('retryAfterMs' in want && !c.now) {
        got = without(got, 'retryAfterMs');
        want = without(want, 'retryAfterMs');
      }
      assert.deepEqual(got, want, `${dir} ${c.name ?? c.comment ?? n}`);
      n++;
    }
  }
  assert.ok(n > 50);
  const r = push.parse('android',
    { status: 200, body: Buffer.from('{"name": "projects/p/messages/1"}') });
  assert.equal(r.messageId, 'projects/p/messages/1');
});

test('errors', () => {
  assert.throws(() => new omni.Push({ sms: {} }), { code: 'INVALID_CONFIG' });
  assert.throws(() => new omni.Push('{not json'), { code: 'INVALID_JSON' });
  assert.throws(() => new omni.Push(42), { code: 'INVALID_CONFIG' });
  const g = load('web', 'basic.json');
  const push = new omni.Push(g.config);
  const ios = { platform: 'ios', token: '00', payload: { title: 'a', body: 'b' } };
  assert.throws(() => push.build(ios), { code: 'INVALID_CONFIG' });
  assert.throws(() => push.tokenRequest(), { code: 'INVALID_CONFIG' });
  assert.throws(() => push.build({ ...g.message, payload: { title: 't', body: 'x'.repeat(5000) } }),
    (e) => e.code === 'PAYLOAD_TOO_LARGE' && !e.message.includes('yfWPiYE'));
  const noKeys = { ...g.message, subscription: { endpoint: g.message.subscription.endpoint } };
  assert.throws(() => push.build(noKeys), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => push.parse('bb', { status: 200 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => push.parse('web', { status: 42 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => push.parse('web\0', { status: 200 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => push.parse(7, { status: 200 }), TypeError);
  assert.throws(() => push.build(g.message, 'not a time'));
  assert.throws(() => push.parse('web', { status: 201, body: 5 }), TypeError);
  push.close();
  push.close(); // idempotent
  assert.ok(push.closed);
  for (const call of [() => push.build(g.message), () => push.parse('web', { status: 201 }),
    () => push.tokenRequest(), () => push.tokenResponse(tokenAnswer())]) {
    assert.throws(call, (e) => e.code === 'INVALID_ARGUMENT' && /closed/.test(e.message));
  }
});
