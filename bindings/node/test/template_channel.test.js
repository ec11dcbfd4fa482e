'use strict';
// Channel-aware text: SMS segments, template validation, and formatting compared with
// node's own Intl.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

const HINDI = 'नमस्ते आशा, आपका ऑर्डर #4521 भेज दिया गया है और कल तक पहुँच जाएगा। धन्यवाद!';

test('SMS: GSM-7 160 and 161', () => {
  // 3GPP TS 23.038: 160 septets single, 153 per part of a concatenated message
  assert.deepEqual(omni.smsCount('a'.repeat(160)), { encoding: 'GSM-7', segments: 1, units: 160 });
  assert.deepEqual(omni.smsSegments('a'.repeat(160)), {
    encoding: 'GSM-7',
    segments: 1,
    units: 160,
    parts: ['a'.repeat(160)],
  });
  const r = omni.smsSegments('a'.repeat(161));
  assert.deepEqual([r.encoding, r.segments, r.units], ['GSM-7', 2, 161]);
  assert.deepEqual(r.parts, ['a'.repeat(153), 'a'.repeat(8)]);
  assert.deepEqual(omni.smsCount('€'.repeat(80)), { encoding: 'GSM-7', segments: 1, units: 160 });
  assert.equal(omni.smsCount('€'.repeat(81)).segments, 2);
  assert.deepEqual(omni.smsSegments(''), { encoding: 'GSM-7', segments: 1, units: 0, parts: [''] });
  assert.deepEqual(omni.smsCount(Buffer.from('abc')), { encoding: 'GSM-7', segments: 1, units: 3 });
});

test('SMS: UCS-2 70 and 71, surrogate pairs never split', () => {
  assert.deepEqual(omni.smsCount('ы'.repeat(70)), { encoding: 'UCS-2', segments: 1, units: 70 });
  const r = omni.smsSegments('ы'.repeat(71));
  assert.deepEqual([r.encoding, r.segments, r.units], ['UCS-2', 2, 71]);
  assert.deepEqual(r.parts, ['ы'.repeat(67), 'ы'.repeat(4)]);
  assert.deepEqual(omni.smsCount('😀'.repeat(35)), { encoding: 'UCS-2', segments: 1, units: 70 });
  const e = omni.smsSegments('😀'.repeat(36));
  assert.equal(e.units, 72);
  assert.deepEqual(e.parts, ['😀'.repeat(33), '😀'.repeat(3)]);
});

test('SMS: a Hindi text', () => {
  const units = HINDI.length; // JavaScript strings are UTF-16: Devanagari is all BMP
  assert.ok(units > 70);
  const r = omni.smsSegments(HINDI);
  assert.equal(r.encoding, 'UCS-2');
  assert.equal(r.units, units);
  assert.equal(r.segments, Math.ceil(units / 67));
  assert.equal(r.parts.join(''), HINDI);
  assert.ok(r.parts.every((p) => p.length <= 67));
  assert.deepEqual(omni.smsCount(HINDI), { encoding: 'UCS-2', segments: r.segments, units });
});

test('SMS errors', () => {
  assert.throws(() => omni.smsCount(Buffer.from([0x6f, 0x6b, 0xff])), { code: 'INVALID_ENCODING' });
  assert.throws(() => omni.smsSegments('a'.repeat(64 * 1024 + 1)), { code: 'PAYLOAD_TOO_LARGE' });
  assert.throws(() => omni.smsCount(12), TypeError);
});

const codes = (r) => new Set(r.findings.map((f) => f.code));

test('validation findings', () => {
  let r = omni.templateValidate('Hi {{name}}, <b>sale</b>', 'sms', { data: { name: 'Asha' } });
  assert.equal(r.valid, true);
  assert.equal(r.channel, 'sms');
  assert.deepEqual([...codes(r)], ['HTML_IN_TEXT_CHANNEL']);
  assert.deepEqual(r.sms.parts, ['Hi Asha, <b>sale</b>']);

  const doc = {
    templateId: 'promo.1',
    name: 'Sale',
    category: 'promotional',
    channels: ['sms'],
    content: { body: 'Big sale {{pct}}% off ' + 'x'.repeat(200) },
    variables: [{ name: 'code', required: true }],
  };
  r = omni.templateValidate(doc, 'sms', { data: { pct: 20 }, maxSmsSegments: 1 });
  assert.equal(r.valid, false);
  for (const c of ['SMS_MISSING_OPT_OUT', 'SMS_TOO_MANY_SEGMENTS', 'MISSING_VARIABLE', 'UNKNOWN_VARIABLE']) {
    assert.ok(codes(r).has(c), c);
  }
  assert.deepEqual(
    omni.templateValidate(JSON.stringify(doc), 'sms', { data: { pct: 20 }, maxSmsSegments: 1 }).findings,
    r.findings,
  );

  r = omni.templateValidate('Hi {{a}}, {{b}}', 'whatsapp', { whatsappParameters: 3 });
  assert.deepEqual([...codes(r)], ['WHATSAPP_PARAMETER_COUNT']);
  assert.equal(omni.templateValidate('Hi {{a}}, {{b}}', 'whatsapp', { whatsappParameters: 2 }).valid, true);

  r = omni.templateValidate('Hi {{a}', 'push');
  assert.deepEqual([...codes(r)], ['SYNTAX_ERROR']);
  r = omni.templateValidate('{{x}}', 'push', { data: { x: 'y'.repeat(5000) } });
  assert.ok(codes(r).has('PAYLOAD_TOO_LARGE'));
  assert.ok(r.push.apnsBytes > 4096);

  assert.ok(codes(omni.templateValidate('Body only', 'email')).has('MISSING_SUBJECT'));
});

test('validation errors', () => {
  assert.throws(() => omni.templateValidate('x', 'fax'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.templateValidate('x', 'sms', { maxSmsSegments: 0 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.templateValidate('x', 42), TypeError);
});

test('formatCurrency equals Intl.NumberFormat (en-IN INR, en-US USD)', () => {
  const values = [
    0, 1, -1, 0.5, 0.005, 0.015, 1.005, 2.675, 12.345, 999.995, 1000, 1234.5, -1234.5, 99999.99,
    100000, 1234567.891, -9876543.21, 12345678901.25, 1e15, 0.1 + 0.2, 123456.789, -0.004,
  ];
  for (const [locale, currency] of [['en-IN', 'INR'], ['en-US', 'USD']]) {
    const intl = new Intl.NumberFormat(locale, { style: 'currency', currency });
    for (const v of values) {
      assert.equal(omni.formatCurrency(v, currency, locale), intl.format(v), `${locale} ${currency} ${v}`);
      assert.equal(omni.formatCurrency(v, currency, { locale }), intl.format(v));
    }
  }
  assert.equal(omni.formatCurrency(1234567.891, 'INR', 'en-IN'), '₹12,34,567.89');
  assert.equal(omni.formatCurrency(-1234.5, 'USD', 'en-US'), '-$1,234.50');
  assert.throws(() => omni.formatCurrency(1, 'RUPEE'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.formatCurrency('1', 'INR'), TypeError);
});

test('formatNumber equals Intl.NumberFormat', () => {
  const values = [0, 1.005, 2.675, 1234567.891, -1234.5, 0.000123, 1e21];
  for (const locale of ['en', 'en-IN', 'hi']) {
    for (const opts of [{}, { minimumFractionDigits: 2, maximumFractionDigits: 2 }, { maximumFractionDigits: 0 }]) {
      const intl = new Intl.NumberFormat(locale, opts);
      for (const v of values) {
        assert.equal(omni.formatNumber(v, { locale, ...opts }), intl.format(v), `${locale} ${JSON.stringify(opts)} ${v}`);
      }
    }
  }
  assert.equal(omni.formatNumber(1234567.891, 'en-IN'), '12,34,567.891');
  assert.equal(omni.formatNumber(NaN), 'NaN');
  assert.throws(() => omni.formatNumber(1, { minimumFractionDigits: 3, maximumFractionDigits: 1 }), {
    code: 'INVALID_ARGUMENT',
  });
  assert.throws(() => omni.formatNumber(1, 'not a locale!'), { code: 'INVALID_ARGUMENT' });
});

test('formatDate', () => {
  const when = '2026-03-08T07:05:00Z';
  assert.equal(omni.formatDate(when), 'Mar 8, 2026');
  assert.equal(omni.formatDate(when, 'full'), 'Sunday, March 8, 2026');
  assert.equal(omni.formatDate(new Date(when), { pattern: 'long', locale: 'hi' }), '8 मार्च 2026');
  assert.equal(
    omni.formatDate(Date.parse(when), { pattern: "EEEE, d MMMM yyyy 'at' h:mm a z", timeZone: 'America/New_York', locale: 'en-GB' }),
    'Sunday, 8 March 2026 at 3:05 am GMT-4',
  );
  for (const dateStyle of ['short', 'medium', 'long', 'full']) {
    for (const locale of ['en', 'en-GB', 'en-IN', 'hi']) {
      const intl = new Intl.DateTimeFormat(locale, { dateStyle, timeZone: 'Asia/Kolkata' });
      assert.equal(
        omni.formatDate(when, { pattern: dateStyle, timeZone: 'Asia/Kolkata', locale }),
        intl.format(new Date(when)),
        `${dateStyle} ${locale}`,
      );
    }
  }
  assert.throws(() => omni.formatDate('yesterday'), { code: 'INVALID_TIMESTAMP' });
  assert.throws(() => omni.formatDate(when, { timeZone: 'Mars/Olympus' }), { code: 'NOT_FOUND' });
  assert.throws(() => omni.formatDate(when, 'QQQ'), { code: 'INVALID_ARGUMENT' });
});
