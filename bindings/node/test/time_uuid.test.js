'use strict';
// RFC 3339 timestamps and UUIDs (RFC 9562).
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };
const FIXED_MS = 1767225600000;

test('RFC 3339 section 5.8 examples', () => {
  assert.equal(omni.timeParse('1985-04-12T23:20:50.52Z'), 482196050520);
  assert.equal(omni.timeParse('1996-12-19T16:39:57-08:00'), 851042397000);
  // Leap second: read as second 59 with fraction .999 (omni/datetime.h).
  assert.equal(omni.timeParse('1990-12-31T23:59:60Z'), 662687999999);
  assert.equal(omni.timeParse('1990-12-31T15:59:60-08:00'), 662687999999);
  assert.equal(omni.timeParse('1937-01-01T12:00:27.87+00:20'), -1041337172130);
  assert.equal(omni.timeParse('2026-01-01t00:00:00z'), FIXED_MS);
  assert.equal(omni.timeParse('1970-01-01T00:00:00.123456789Z'), 123);
  assert.equal(omni.timeParse(Buffer.from('1985-04-12T23:20:50.52Z')), 482196050520);
});

test('timeFormat matches Date.prototype.toISOString', () => {
  for (const ms of [0, 482196050520, FIXED_MS, 1234567890123, -1041337172130]) {
    assert.equal(omni.timeFormat(ms), new Date(ms).toISOString());
  }
  assert.equal(omni.timeFormat(new Date(FIXED_MS)), '2026-01-01T00:00:00.000Z');
  assert.equal(omni.timeFormat(BigInt(FIXED_MS)), '2026-01-01T00:00:00.000Z');
  assert.throws(() => omni.timeFormat(253402300800000), { code: 'INVALID_ARGUMENT' }); // year 10000
  assert.throws(() => omni.timeFormat(1.5), { code: 'INVALID_ARGUMENT' });
});

test('timeParse errors', () => {
  for (const bad of [
    '',
    '2026-13-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01 00:00:00',
    '2026-01-01T00:00:00+24:00',
    'yesterday',
  ]) {
    assert.throws(() => omni.timeParse(bad), { code: 'INVALID_TIMESTAMP', retryable: false }, bad);
  }
  assert.throws(() => omni.timeParse('2026-01-01T00:00:00.' + '1'.repeat(80) + 'Z'), {
    code: 'PAYLOAD_TOO_LARGE',
  });
});

test('uuid5: RFC 9562 appendix A.4 vector', () => {
  assert.equal(omni.uuid5(omni.NAMESPACE_DNS, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(omni.uuid5(omni.NAMESPACE_DNS, Buffer.from('www.example.com')), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(omni.uuid5(omni.NAMESPACE_URL, 'x'), omni.uuid5(omni.NAMESPACE_URL.toUpperCase(), 'x'));
  assert.notEqual(omni.uuid5(omni.NAMESPACE_OID, 'x'), omni.uuid5(omni.NAMESPACE_X500, 'x'));
  assert.throws(() => omni.uuid5('not-a-uuid', 'x'), { code: 'INVALID_ARGUMENT' });
});

test('uuidParse / uuidFormat', () => {
  const text = '2ed6657d-e927-568b-95e1-2665a8aea6a2';
  const raw = omni.uuidParse(text.toUpperCase());
  assert.equal(raw.toString('hex'), text.replace(/-/g, ''));
  assert.deepEqual(omni.uuidParse(`urn:uuid:${text}`), raw);
  assert.deepEqual(omni.uuidParse(`{${text}}`), raw);
  assert.equal(omni.uuidFormat(raw), text);
  assert.throws(() => omni.uuidParse(text.slice(1)), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.uuidFormat(Buffer.alloc(15)), { code: 'INVALID_ARGUMENT' });
});

test('uuid7 from the system clock and random', () => {
  const a = omni.uuid7();
  const b = omni.uuid7();
  for (const u of [a, b]) {
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(u.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(Math.abs(ms - Date.now()) < 60000);
  }
  assert.notEqual(a, b);
});

test('uuid7 is deterministic with a fixed clock and seed', () => {
  const e1 = new omni.Engine(FIXED);
  const e2 = new omni.Engine(FIXED);
  const first = Array.from({ length: 5 }, () => omni.uuid7(e1));
  const second = Array.from({ length: 5 }, () => omni.uuid7(e2));
  assert.deepEqual(first, second);
  assert.deepEqual([...first].sort(), first); // strictly increasing
  assert.equal(new Set(first).size, 5);
  for (const u of first) {
    // RFC 9562 section 5.7: the first 48 bits are the Unix milliseconds.
    assert.equal(u.replace(/-/g, '').slice(0, 12), FIXED_MS.toString(16).padStart(12, '0'));
    assert.equal(u[14], '7');
  }
  const e3 = new omni.Engine({ ...FIXED, random: { seed: 2 } });
  assert.notEqual(omni.uuid7(e3), first[0]);
  e1.close();
  e2.close();
  e3.close();
});
