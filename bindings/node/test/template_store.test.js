'use strict';
// The template store through an Engine: create, update (versions kept), get, list,
// render with the locale fallback chain, delete.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };

function shipped() {
  return {
    templateId: 'order.shipped',
    name: 'Order shipped',
    category: 'order',
    channels: ['sms', 'email'],
    content: {
      subject: 'Order {{orderId}} shipped',
      body: 'Hi {{name}}, order {{orderId}} shipped. Total {{formatCurrency total "INR"}}',
      htmlBody: '<p>Hi {{name}}, order <b>{{orderId}}</b> shipped.</p>',
    },
    variables: [{ name: 'name', required: true }, { name: 'orderId' }, { name: 'total' }],
    localizations: {
      kn: { body: 'ನಮಸ್ಕಾರ {{name}}, ಆರ್ಡರ್ {{orderId}}: {{formatCurrency total "INR"}}' },
      hi: { body: 'नमस्ते {{name}}, ऑर्डर {{orderId}}: {{formatCurrency total "INR"}}' },
    },
  };
}

const DATA = { name: 'Asha', orderId: 'A-17', total: 1234567.5 };

test('create, update keeps version 1 readable, get, list, delete', () => {
  const engine = new omni.Engine(FIXED);
  const created = engine.templateCreate(shipped());
  assert.equal(created.version, 1);
  assert.equal(created.isActive, true);
  assert.equal(created.defaultLocale, 'en');
  assert.equal(created.createdAt, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(engine.templateGet('order.shipped'), created);
  assert.throws(() => engine.templateCreate(shipped()), { code: 'ALREADY_EXISTS' });

  const doc = shipped();
  doc.content.body = 'v2: Hi {{name}}';
  const updated = engine.templateUpdate(doc);
  assert.equal(updated.version, 2);
  assert.equal(updated.createdAt, created.createdAt);
  assert.equal(engine.templateGet('order.shipped', { version: 1 }).content.body, shipped().content.body);
  assert.equal(engine.templateGet('order.shipped').content.body, 'v2: Hi {{name}}');
  assert.throws(() => engine.templateUpdate(doc, { expectedVersion: 1 }), (err) => {
    assert.equal(err.code, 'VERSION_CONFLICT');
    assert.equal(err.retryable, true);
    return true;
  });
  assert.equal(engine.templateUpdate(JSON.stringify(doc), { expectedVersion: 2 }).version, 3);
  assert.throws(() => engine.templateGet('order.shipped', { version: 9 }), { code: 'NOT_FOUND' });
  assert.throws(() => engine.templateGet('order.shipped', { version: -1 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => engine.templateGet('order.shipped', { version: 2 ** 32 }), { code: 'INVALID_ARGUMENT' });

  engine.templateCreate({
    templateId: 'payment.due',
    name: 'Payment due',
    category: 'payment',
    channels: ['sms'],
    content: { body: 'Pay {{amount}}' },
  });
  let page = engine.templateList();
  assert.deepEqual(page.items.map((t) => t.templateId), ['order.shipped', 'payment.due']);
  assert.equal(page.next, null);
  page = engine.templateList({ filter: { category: 'payment' } });
  assert.deepEqual(page.items.map((t) => t.templateId), ['payment.due']);
  page = engine.templateList({ limit: 1 });
  assert.equal(page.items.length, 1);
  assert.ok(page.next);
  page = engine.templateList({ after: page.next, limit: 1 });
  assert.deepEqual(page.items.map((t) => t.templateId), ['payment.due']);
  assert.throws(() => engine.templateList({ filter: { colour: 'red' } }), { code: 'INVALID_ARGUMENT' });

  engine.templateDelete('payment.due');
  assert.throws(() => engine.templateGet('payment.due'), { code: 'NOT_FOUND' });
  assert.throws(() => engine.templateDelete('payment.due'), { code: 'NOT_FOUND' });
  engine.close();
  assert.throws(() => engine.templateGet('order.shipped'), { message: 'engine is closed' });
});

test('render by id with the locale fallback chain', () => {
  const engine = new omni.Engine(FIXED);
  engine.templateCreate(shipped());
  // kn-IN -> kn (a localization); kn groups by threes (CLDR)
  let r = engine.templateRender('order.shipped', { locale: 'kn-IN', channel: 'sms', data: DATA });
  assert.equal(r.locale, 'kn');
  assert.equal(r.version, 1);
  assert.equal(r.body, 'ನಮಸ್ಕಾರ Asha, ಆರ್ಡರ್ A-17: ₹1,234,567.50');
  assert.equal(r.sms.encoding, 'UCS-2');
  // hi-IN -> hi, Indian grouping
  r = engine.templateRender('order.shipped', { locale: 'hi-IN', data: DATA });
  assert.deepEqual([r.locale, r.body], ['hi', 'नमस्ते Asha, ऑर्डर A-17: ₹12,34,567.50']);
  // ta-IN -> ta -> en (the content)
  r = engine.templateRender('order.shipped', { locale: 'ta-IN', data: DATA });
  assert.equal(r.locale, 'en');
  assert.match(r.body, /^Hi Asha, order A-17 shipped\./);
  // the account default comes before the template's
  r = engine.templateRender('order.shipped', { locale: 'fr', defaultLocale: 'kn', data: DATA });
  assert.equal(r.locale, 'kn');
  // email: subject and escaped HTML body
  r = engine.templateRender('order.shipped', { locale: 'kn-IN', channel: 'email', data: { ...DATA, orderId: '<A&17>' } });
  assert.equal(r.subject, 'Order <A&17> shipped');
  assert.equal(r.htmlBody, '<p>Hi Asha, order <b>&lt;A&amp;17&gt;</b> shipped.</p>');
  assert.equal(r.sms, undefined);
  // data as JSON text; no data
  assert.equal(engine.templateRender('order.shipped', { locale: 'en', data: '{"name":"R"}' }).body, 'Hi R, order  shipped. Total ');
  assert.equal(engine.templateRender('order.shipped').locale, 'en');
  assert.throws(() => engine.templateRender('order.shipped', { channel: 'push', data: DATA }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => engine.templateRender('nope', { locale: 'en' }), { code: 'NOT_FOUND' });
  assert.throws(() => engine.templateRender('order.shipped', { data: '{bad' }), { code: 'INVALID_JSON' });
  engine.close();
});

test('validation errors on create', () => {
  const engine = new omni.Engine(FIXED);
  const doc = shipped();
  doc.localizations.hi.body = 'नमस्ते {{name';
  assert.throws(() => engine.templateCreate(doc), (err) => {
    assert.equal(err.code, 'TEMPLATE_SYNTAX_ERROR');
    assert.equal(err.details.path, 'localizations.hi.body');
    return true;
  });
  assert.throws(() => engine.templateCreate({ ...shipped(), bogus: 1 }), {
    code: 'INVALID_ARGUMENT',
    details: { path: 'bogus' },
  });
  assert.throws(() => engine.templateCreate('{not json'), { code: 'INVALID_JSON' });
  assert.throws(() => engine.templateUpdate(shipped()), { code: 'NOT_FOUND' });
  assert.throws(() => engine.templateGet(42), TypeError);
  engine.close();
});
