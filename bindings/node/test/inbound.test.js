'use strict';
// Inbound webhooks (omni/carrier.h): signed Twilio and WhatsApp requests, Meta's GET
// handshake, signature failures and the request forms the binding accepts.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const omni = require('..');

const TWILIO_TOKEN = 'twilio-test-auth-token';
const META_SECRET = 'meta-app-secret';
const VERIFY_TOKEN = 'verify-me';
const BASE = 'https://hooks.example.com';
const CONFIG = {
  publicBaseUrl: BASE,
  defaultRegion: 'US',
  carriers: {
    twilio: { authToken: TWILIO_TOKEN },
    whatsapp: { appSecret: META_SECRET, verifyToken: VERIFY_TOKEN },
  },
};
const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };

// Twilio's documented scheme: HMAC-SHA1 over the full URL followed by each POST
// parameter's name and value, sorted by name; Base64.
function twilioSignature(url, params, token = TWILIO_TOKEN) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return crypto.createHmac('sha1', token).update(data).digest('base64');
}

const TWILIO_PARAMS = {
  MessageSid: 'SM0123456789abcdef0123456789abcdef',
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  From: '+14155550100',
  To: '+14155550199',
  Body: 'Hello from the test',
  NumMedia: '0',
};

function twilioRequest(params, signature) {
  const headers = {
    Host: 'internal.local',
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  if (signature !== undefined) headers['X-Twilio-Signature'] = signature;
  return {
    method: 'POST',
    url: '/webhooks/twilio',
    headers,
    body: new URLSearchParams(params).toString(),
  };
}

const WHATSAPP_BODY = Buffer.from(JSON.stringify({
  object: 'whatsapp_business_account',
  entry: [{
    id: '102290129340398',
    changes: [{
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
        contacts: [{ profile: { name: 'Kerry' }, wa_id: '919876543210' }],
        messages: [{
          from: '919876543210',
          id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
          timestamp: '1767225600',
          type: 'text',
          text: { body: 'Namaste' },
        }],
      },
    }],
  }],
}));

function metaSignature(body, secret = META_SECRET) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

test('a signed Twilio form webhook gives one message event', () => {
  const inbound = new omni.Inbound(CONFIG);
  const engine = new omni.Engine(FIXED);
  const sig = twilioSignature(BASE + '/webhooks/twilio', TWILIO_PARAMS);
  const result = inbound.handle('twilio', twilioRequest(TWILIO_PARAMS, sig), { engine });
  assert.equal(result.carrier, 'twilio');
  assert.equal(result.response.status, 200);
  assert.ok(result.response.body.includes('<Response/>'));
  assert.equal(result.events.length, 1);
  const [event] = result.events;
  assert.equal(event.kind, 'message');
  assert.deepEqual(event.senderIdentifier, { phoneNumber: '+14155550100' });
  assert.deepEqual(event.recipientIdentifier, { phoneNumber: '+14155550199' });
  assert.equal(event.message.id, TWILIO_PARAMS.MessageSid);
  assert.equal(event.message.content, 'Hello from the test');
  assert.equal(event.message.timestamp, '2026-01-01T00:00:00.000Z'); // the engine's clock
  assert.equal(event.rawPayload.Body, 'Hello from the test');
  assert.equal(
    event.correlationId,
    omni.uuid5(omni.CARRIER_MESSAGE_NAMESPACE, 'twilio:' + TWILIO_PARAMS.MessageSid),
  );
  inbound.verify('twilio', twilioRequest(TWILIO_PARAMS, sig));
  // The engine may also be passed as it is.
  const again = inbound.handle('twilio', twilioRequest(TWILIO_PARAMS, sig), engine);
  assert.equal(again.events[0].message.timestamp, '2026-01-01T00:00:00.000Z');
  engine.close();
  inbound.close();
});

test('a wrong Twilio signature is SIGNATURE_INVALID', () => {
  const inbound = new omni.Inbound(CONFIG);
  const bad = twilioSignature(BASE + '/webhooks/twilio', TWILIO_PARAMS, 'wrong-token');
  for (const call of ['handle', 'verify']) {
    assert.throws(() => inbound[call]('twilio', twilioRequest(TWILIO_PARAMS, bad)), (e) => {
      assert.equal(e.code, 'SIGNATURE_INVALID');
      assert.equal(e.status, omni.Status.ESIGNATURE);
      assert.ok(!e.message.includes(TWILIO_TOKEN));
      return true;
    });
  }
  const sig = twilioSignature(BASE + '/webhooks/twilio', TWILIO_PARAMS);
  const tampered = { ...TWILIO_PARAMS, Body: 'Send money' };
  assert.throws(() => inbound.handle('twilio', twilioRequest(tampered, sig)), code('SIGNATURE_INVALID'));
  assert.throws(() => inbound.handle('twilio', twilioRequest(TWILIO_PARAMS)), code('SIGNATURE_INVALID'));
  inbound.close();
});

test('a signed WhatsApp Cloud text webhook (Buffer body, header pairs)', () => {
  const inbound = new omni.Inbound(CONFIG);
  const req = {
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: [
      ['Host', 'hooks.example.com'],
      ['Content-Type', 'application/json'],
      ['X-Hub-Signature-256', metaSignature(WHATSAPP_BODY)],
    ],
    body: WHATSAPP_BODY,
  };
  const result = inbound.handle('whatsapp', req);
  assert.equal(result.events.length, 1);
  const [event] = result.events;
  assert.equal(event.kind, 'message');
  assert.equal(event.carrier, 'whatsapp');
  assert.equal(event.senderIdentifier.phoneNumber, '+919876543210');
  assert.equal(event.message.content, 'Namaste');
  assert.equal(event.message.timestamp, '2026-01-01T00:00:00.000Z');
  assert.equal(event.senderName, 'Kerry');
  // Map headers work too.
  const viaMap = { ...req, headers: new Map(req.headers) };
  assert.equal(inbound.handle('whatsapp', viaMap).events.length, 1);
  const changed = { ...req, body: Buffer.from(WHATSAPP_BODY.toString().replace('Namaste', 'Namaskar')) };
  assert.throws(() => inbound.handle('whatsapp', changed), code('SIGNATURE_INVALID'));
  inbound.close();
});

test("Meta's GET handshake answers the challenge", () => {
  const inbound = new omni.Inbound(CONFIG);
  const query = new URLSearchParams({
    'hub.mode': 'subscribe',
    'hub.verify_token': VERIFY_TOKEN,
    'hub.challenge': '1158201444',
  }).toString();
  const req = { method: 'GET', url: '/webhooks/whatsapp?' + query, headers: { Host: 'hooks.example.com' } };
  inbound.verify('whatsapp', req);
  const result = inbound.handle('whatsapp', req);
  assert.deepEqual(result.events, []);
  assert.equal(result.response.status, 200);
  assert.equal(result.response.body, '1158201444');
  const wrong = { ...req, url: req.url.replace(VERIFY_TOKEN, 'not-it') };
  assert.throws(() => inbound.verify('whatsapp', wrong), code('SIGNATURE_INVALID'));
  inbound.close();
});

test('a request as JSON text', () => {
  const inbound = new omni.Inbound(JSON.stringify(CONFIG));
  const sig = twilioSignature(BASE + '/webhooks/twilio', TWILIO_PARAMS);
  const req = twilioRequest(TWILIO_PARAMS, sig);
  assert.equal(inbound.handle('twilio', JSON.stringify(req)).events.length, 1);
  const b64 = {
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: [['X-Hub-Signature-256', metaSignature(WHATSAPP_BODY)]],
    bodyBase64: WHATSAPP_BODY.toString('base64'),
  };
  assert.equal(inbound.handle('whatsapp', Buffer.from(JSON.stringify(b64))).events.length, 1);
  assert.throws(() => inbound.handle('twilio', '{"method": "POST"'), code('INVALID_JSON'));
  assert.throws(
    () => inbound.handle('twilio', '{"method": "POST", "url": "/x", "bogus": 1}'),
    code('MALFORMED_WEBHOOK'),
  );
  inbound.close();
});

test('unknown carrier and bad requests', () => {
  const inbound = new omni.Inbound(CONFIG);
  const req = { method: 'POST', url: '/webhooks/nope', body: 'x=1' };
  for (const call of ['handle', 'verify']) {
    assert.throws(() => inbound[call]('carrier-pigeon', req), (e) => {
      assert.equal(e.code, 'UNKNOWN_CARRIER');
      assert.equal(e.status, omni.Status.ECARRIER);
      return true;
    });
  }
  assert.throws(() => inbound.handle('twilio', { method: 'post', url: '/x' }), code('INVALID_ARGUMENT'));
  assert.throws(
    () => inbound.handle('twilio', { method: 'POST', url: '/x', headers: { 'Bad Name': 'v' } }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(() => inbound.handle('twilio', { url: '/x' }), code('INVALID_ARGUMENT'));
  assert.throws(() => inbound.handle('twilio', { method: 'POST', url: '/x', extra: 1 }), code('INVALID_ARGUMENT'));
  assert.throws(() => inbound.handle('twilio', { method: 'POST', url: '/x', headers: ['oops'] }), TypeError);
  assert.throws(() => inbound.handle('twilio', { method: 'POST', url: '/x', headers: [['a', 1]] }), TypeError);
  assert.throws(() => inbound.handle('twilio', { method: 'POST', url: '/x', body: 42 }), TypeError);
  assert.throws(() => inbound.handle('twilio', 42), TypeError);
  assert.throws(() => inbound.handle('twilio', req, { engine: {} }), TypeError);
  assert.throws(() => inbound.handle(7, req), TypeError);
  const small = new omni.Inbound({ maxBodyBytes: 16, carriers: { twilio: { authToken: 't' } } });
  assert.throws(
    () => small.handle('twilio', { method: 'POST', url: '/x', body: Buffer.alloc(17, 97) }),
    code('PAYLOAD_TOO_LARGE'),
  );
  small.close();
  inbound.close();
});

test('configuration errors and close()', () => {
  assert.throws(() => new omni.Inbound({ carriers: { twilio: { authToken: 's3cret', bogus: 1 } } }), (e) => {
    assert.equal(e.code, 'INVALID_CONFIG');
    assert.deepEqual(e.details, { path: 'carriers.twilio.bogus' });
    assert.ok(!e.message.includes('s3cret'));
    return true;
  });
  assert.throws(() => new omni.Inbound('{'), code('INVALID_JSON'));
  assert.throws(() => new omni.Inbound(), TypeError);
  const inbound = new omni.Inbound({ carriers: {} });
  inbound.close();
  inbound.close();
  assert.equal(inbound.closed, true);
  assert.throws(() => inbound.handle('twilio', { method: 'GET', url: '/' }), code('INVALID_ARGUMENT'));
  // An engine closed before the call is refused too.
  const engine = new omni.Engine();
  engine.close();
  const other = new omni.Inbound(CONFIG);
  assert.throws(() => other.handle('twilio', { method: 'GET', url: '/' }, { engine }), code('INVALID_ARGUMENT'));
  other.close();
});

test('every carrier.h and identity.h function is wrapped by the addon', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const include = path.join(__dirname, '..', '..', '..', 'include', 'omni');
  const addon = fs.readFileSync(path.join(__dirname, '..', 'src', 'addon.c'), 'utf8');
  // Accessors and host adapter functions the binding does not need to call.
  const notWrapped = new Set([
    'omni_webhook_method', 'omni_webhook_url', 'omni_webhook_header',
    'omni_webhook_header_count', 'omni_webhook_header_name', 'omni_webhook_header_value',
    'omni_webhook_body', 'omni_event_emit', 'omni_carrier_adapter_init', 'omni_carriers_new',
    'omni_carriers_register', 'omni_carriers_free', 'omni_carriers_list',
    'omni_identity_namespace',
  ]);
  const names = new Set();
  for (const header of ['carrier.h', 'identity.h']) {
    const text = fs.readFileSync(path.join(include, header), 'utf8');
    for (const m of text.matchAll(/OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(/g)) names.add(m[1]);
  }
  assert.ok(names.size >= 35);
  const missing = [...names].filter((n) => !notWrapped.has(n) && !new RegExp(`\\b${n}\\b`).test(addon));
  assert.deepEqual(missing, []);
  for (const n of notWrapped) assert.ok(names.has(n), `${n} is no longer in the headers`);
});
