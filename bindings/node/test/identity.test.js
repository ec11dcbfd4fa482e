'use strict';
// Phone numbers, identifier normalization, routing, customers, identity links and
// identity lookup (omni/identity.h).
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

// Expected values agree with Google libphonenumber's E.164 format.
const PHONE_VECTORS = [
  ['(415) 555-0100', 'US', '+14155550100'],
  ['030 12345678', 'DE', '+493012345678'], // German trunk 0 removed
  ['06 1234 5678', 'IT', '+390612345678'], // Italy keeps its leading 0
  ['whatsapp:+919876543210', null, '+919876543210'],
  ['tel:+44 20 7946 0958', null, '+442079460958'],
  ['011 44 20 7946 0958', 'US', '+442079460958'], // US international prefix
  ['919876543210', undefined, '+919876543210'], // a WhatsApp wa_id
  ['+1 415 555 0100 ext. 7', null, '+14155550100'],
];

test('phoneToE164 vectors', () => {
  for (const [raw, region, expected] of PHONE_VECTORS) {
    assert.equal(omni.phoneToE164(raw, region), expected, raw);
  }
  assert.equal(omni.phoneToE164(Buffer.from('(415) 555-0100'), 'US'), '+14155550100');
});

test('phoneParse reports the extension', () => {
  const p = omni.phoneParse('+1 (415) 555-0100 ext. 123');
  assert.equal(p.e164, '+14155550100');
  assert.equal(p.countryCode, 1);
  assert.equal(p.region, 'US');
  assert.equal(p.nationalNumber, '4155550100');
  assert.equal(p.extension, '123');
  const it = omni.phoneParse('06 1234 5678', 'IT');
  assert.equal(it.region, 'IT');
  assert.equal(it.nationalNumber, '0612345678');
  assert.equal(it.extension, undefined);
});

test('phone errors', () => {
  for (const [raw, region] of [['not a number', 'US'], ['1-800-FLOWERS', 'US'], ['12', 'US'],
    ['+991 123456', null], ['555-0100', 'US']]) {
    assert.throws(() => omni.phoneToE164(raw, region), (e) => {
      assert.equal(e.code, 'INVALID_IDENTIFIER', raw);
      assert.equal(e.status, omni.Status.EIDENTIFIER);
      assert.ok(!e.message.includes(raw));
      return true;
    });
  }
  assert.throws(() => omni.phoneParse('garbage'), code('INVALID_IDENTIFIER'));
  assert.throws(() => omni.phoneToE164('415 555 0100', 'XX'), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.phoneToE164('1'.repeat(300), 'US'), code('PAYLOAD_TOO_LARGE'));
  assert.throws(() => omni.phoneToE164(4155550100, 'US'), TypeError);
  assert.throws(() => omni.phoneToE164('4155550100', 1), TypeError);
});

test('phoneIdentityKey and the Brazilian ninth digit', () => {
  assert.equal(omni.phoneIdentityKey('+551187654321'), '+551187654321');
  assert.equal(omni.phoneIdentityKey('+551187654321', { brazilNinthDigit: true }), '+5511987654321');
  assert.equal(omni.phoneIdentityKey('+551123456789', { brazilNinthDigit: true }), '+551123456789');
  assert.throws(() => omni.phoneIdentityKey('4155550100'), code('INVALID_IDENTIFIER'));
});

test('identityNormalize', () => {
  assert.equal(omni.identityNormalize('twilio', { phoneNumber: '(415) 555-0100' }, 'US'), '+14155550100');
  assert.equal(omni.identityNormalize('twilio', { phoneNumber: 'whatsapp:+919876543210' }), '+919876543210');
  assert.equal(omni.identityNormalize('whatsapp', { phoneNumber: '919876543210' }), 'wa:+919876543210');
  assert.equal(omni.identityNormalize('whatsapp', { userId: 'kerry.b' }), 'wa:id:kerry.b');
  assert.equal(omni.identityNormalize('livechat', '{"sessionId": "S123"}'), 'lc:S123');
  assert.throws(() => omni.identityNormalize('pigeon', { phoneNumber: '+14155550100' }), code('UNKNOWN_CARRIER'));
  assert.throws(() => omni.identityNormalize('twilio', {}), code('INVALID_IDENTIFIER'));
  assert.throws(() => omni.identityNormalize('twilio', '{'), code('INVALID_JSON'));
});

test('routing set / get / delete', () => {
  const engine = new omni.Engine(FIXED);
  engine.routingSet('+1 (415) 555-0199', { accountId: 'acc-1', tenantId: 't-1' });
  const doc = engine.routingGet('+14155550199'); // stored under its E.164 form
  assert.equal(doc.accountId, 'acc-1');
  assert.equal(doc.tenantId, 't-1');
  engine.routingSet('shortcode:12345', '{"accountId": "acc-2"}');
  assert.equal(engine.routingGet('shortcode:12345').accountId, 'acc-2');
  engine.routingDelete('shortcode:12345');
  assert.throws(() => engine.routingGet('shortcode:12345'), code('NOT_FOUND'));
  assert.throws(() => engine.routingDelete('shortcode:12345'), code('NOT_FOUND'));
  assert.throws(() => engine.routingSet('+14155550199', { tenantId: 'x' }), code('INVALID_ARGUMENT'));
  assert.throws(() => engine.routingSet('nonsense key', { accountId: 'a' }), code('INVALID_ARGUMENT'));
  engine.close();
  assert.throws(() => engine.routingGet('+14155550199'), code('INVALID_ARGUMENT'));
});

test('customers and identity links', () => {
  const engine = new omni.Engine(FIXED);
  const made = engine.customerPut({ profile: { firstName: 'Asha' } });
  const cid = made.customerId;
  assert.equal(typeof cid, 'string');
  assert.deepEqual(engine.customerGet(cid).profile, { firstName: 'Asha' });
  engine.customerPut({ customerId: 'cust-7', preferences: { language: 'kn' } });
  assert.equal(engine.customerGet('cust-7').preferences.language, 'kn');
  assert.throws(() => engine.customerGet('nobody'), code('IDENTITY_NOT_FOUND'));
  assert.throws(() => engine.customerPut({ profile: 'not an object' }), code('INVALID_ARGUMENT'));
  engine.identityLink(cid, '+14155550100');
  engine.identityLink(cid, '+14155550100'); // again, same customer: fine
  assert.throws(() => engine.identityLink('cust-7', '+14155550100'), code('ALREADY_EXISTS'));
  assert.throws(() => engine.identityLink('nobody', '+14155550101'), code('IDENTITY_NOT_FOUND'));
  engine.identityUnlink('+14155550100');
  assert.throws(() => engine.identityUnlink('+14155550100'), code('NOT_FOUND'));
  engine.close();
});

function event(sender = '+14155550100', recipient = '+14155550199') {
  return {
    correlationId: '6f3de2ad-1be9-5c8a-bc3b-ff2de50adf87',
    carrier: 'twilio',
    channelType: 'sms',
    senderIdentifier: { phoneNumber: sender },
    recipientIdentifier: { phoneNumber: recipient },
    message: { id: 'SM1', content: 'hi', contentType: 'text', timestamp: '2026-01-01T00:00:00.000Z' },
  };
}

test('identity lookup: anonymous (same id twice), then known once linked', () => {
  const engine = new omni.Engine(FIXED);
  engine.routingSet('+14155550199', { accountId: 'acc-1', businessUnitId: 'bu-1' });
  const first = engine.identityLookup(event());
  assert.equal(first.success, true);
  assert.equal(first.correlationId, event().correlationId);
  assert.equal(first.identity.customerType, 'anonymous');
  assert.deepEqual(first.routing, { accountId: 'acc-1', businessUnitId: 'bu-1', tenantId: '' });
  assert.equal(first.enrichedMessage.normalizedSender, '+14155550100');
  assert.equal(first.enrichedMessage.receivedAt, '2026-01-01T00:00:00.000Z');
  assert.equal(first.nextStep, 'workFlowBiDirectional');
  const anon = first.identity.customerId;
  assert.equal(engine.identityLookup(JSON.stringify(event())).identity.customerId, anon);
  assert.equal(anon, omni.uuid5(omni.IDENTITY_NAMESPACE, '+14155550100'));

  engine.customerPut({ customerId: 'cust-1', profile: { firstName: 'Asha' }, preferences: { language: 'hi' } });
  engine.identityLink('cust-1', '+14155550100');
  const known = engine.identityLookup(event(), { defaultRegion: 'US' });
  assert.equal(known.identity.customerType, 'known');
  assert.equal(known.identity.customerId, 'cust-1');
  assert.equal(known.identity.profile.firstName, 'Asha');
  assert.equal(known.enrichedMessage.language, 'hi');
  engine.close();
});

test('identity lookup creates customers when the routing says so', () => {
  const engine = new omni.Engine(FIXED);
  engine.routingSet('+14155550199', { accountId: 'acc-1', createCustomers: true });
  const first = engine.identityLookup(event('+14155550123'));
  assert.equal(first.identity.customerType, 'new');
  const again = engine.identityLookup(event('+14155550123'));
  assert.equal(again.identity.customerType, 'known');
  assert.equal(again.identity.customerId, first.identity.customerId);
  engine.close();
});

test('identity lookup errors', () => {
  const engine = new omni.Engine(FIXED);
  assert.throws(() => engine.identityLookup(event()), (e) => {
    assert.equal(e.code, 'ROUTING_RESOLUTION_FAILED');
    assert.equal(e.status, omni.Status.EROUTING);
    assert.equal(e.retryable, true);
    return true;
  });
  engine.routingSet('+14155550199', { accountId: 'acc-1' });
  assert.throws(() => engine.identityLookup(event('garbage')), (e) => {
    assert.equal(e.code, 'INVALID_IDENTIFIER');
    assert.equal(e.retryable, false);
    return true;
  });
  assert.throws(() => engine.identityLookup(event(), { bogus: true }), code('INVALID_ARGUMENT'));
  assert.throws(() => engine.identityLookup('[1]'), (e) => ['INVALID_ARGUMENT', 'INVALID_JSON'].includes(e.code));
  const bad = event();
  delete bad.message;
  assert.throws(() => engine.identityLookup(bad), code('INVALID_ARGUMENT'));
  engine.close();
});

test('an inbound message event feeds identity lookup as it is', () => {
  const inbound = new omni.Inbound({ carriers: { twilio: { verify: false } } });
  const engine = new omni.Engine(FIXED);
  const body = 'MessageSid=SM9&AccountSid=AC1&From=%2B14155550100&To=%2B14155550199&Body=hi&MessagingServiceSid=MG1';
  const result = inbound.handle('twilio', { method: 'POST', url: '/t', headers: { Host: 'h.example' }, body }, { engine });
  assert.equal(result.events.length, 1);
  const [ev] = result.events;
  assert.throws(() => engine.identityLookup(ev), code('ROUTING_RESOLUTION_FAILED'));
  engine.routingSet('mss:MG1', { accountId: 'acc-mss' }); // rawPayload's service sid
  const looked = engine.identityLookup(ev);
  assert.equal(looked.identity.customerType, 'anonymous');
  assert.equal(looked.routing.accountId, 'acc-mss');
  assert.equal(looked.correlationId, ev.correlationId);
  engine.close();
  inbound.close();
});
