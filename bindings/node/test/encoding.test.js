'use strict';
// Encodings: base64 / base64url (RFC 4648), percent-encoding (RFC 3986), forms, UTF-8.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

// RFC 4648 section 10 test vectors.
const RFC4648 = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

test('base64 RFC 4648 vectors', () => {
  for (const [raw, text] of RFC4648) {
    assert.equal(omni.base64Encode(Buffer.from(raw)), text);
    assert.equal(omni.base64Encode(raw), text); // strings are UTF-8 bytes
    assert.deepEqual(omni.base64Decode(text), Buffer.from(raw));
    assert.equal(omni.base64urlEncode(raw), text.replace(/=+$/, ''));
    assert.deepEqual(omni.base64urlDecode(text.replace(/=+$/, '')), Buffer.from(raw));
    assert.deepEqual(omni.base64urlDecode(text), Buffer.from(raw)); // padding optional
  }
});

test('bytes from Buffer, Uint8Array, DataView, ArrayBuffer, string', () => {
  const bytes = Buffer.from('foobar');
  const u8 = new Uint8Array([0, 0x66, 0x6f, 0x6f, 0x62, 0x61, 0x72, 0]).subarray(1, 7);
  assert.equal(omni.base64Encode(u8), 'Zm9vYmFy');
  assert.equal(omni.base64Encode(new DataView(u8.buffer, 1, 6)), 'Zm9vYmFy');
  assert.equal(omni.base64Encode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 6)), 'Zm9vYmFy');
  assert.equal(omni.base64Encode(Buffer.alloc(0)), '');
  assert.deepEqual(omni.base64Decode(Buffer.from('Zm9vYmFy')), bytes);
});

test('base64 alphabets and binary round trip', () => {
  const raw = Buffer.from([0xfb, 0xff, 0xbf]);
  assert.equal(omni.base64Encode(raw), '+/+/');
  assert.equal(omni.base64urlEncode(raw), '-_-_');
  const blob = Buffer.alloc(768);
  for (let i = 0; i < blob.length; i++) blob[i] = i & 0xff;
  assert.deepEqual(omni.base64Decode(omni.base64Encode(blob)), blob);
  assert.deepEqual(omni.base64urlDecode(omni.base64urlEncode(blob)), blob);
  // Node's own encoder agrees.
  assert.equal(omni.base64Encode(blob), blob.toString('base64'));
  assert.equal(omni.base64urlEncode(blob), blob.toString('base64url'));
});

test('base64 decode errors', () => {
  for (const bad of ['Zm9v!A==', 'Zm9', 'Zm9v YmFy', 'Zg', 'Zh==']) {
    assert.throws(() => omni.base64Decode(bad), { code: 'INVALID_ENCODING', retryable: false });
  }
  for (const bad of ['a+b', 'a/b', 'ab c']) {
    assert.throws(() => omni.base64urlDecode(bad), { code: 'INVALID_ENCODING' });
  }
});

test('RFC 3986 percent-encoding', () => {
  assert.equal(omni.urlEncode('AZaz09-._~'), 'AZaz09-._~');
  assert.equal(omni.urlEncode('a b&c/d=e+f'), 'a%20b%26c%2Fd%3De%2Bf');
  assert.equal(omni.urlEncode('é'), '%C3%A9');
  assert.equal(omni.urlDecode('a%20b%26c%2fd+e'), 'a b&c/d+e');
  assert.equal(omni.urlDecode('%C3%A9'), 'é');
  assert.deepEqual(omni.urlDecodeBuffer('%FF%00'), Buffer.from([0xff, 0]));
  assert.throws(() => omni.urlDecode('%FF'), TypeError); // not UTF-8
  for (const bad of ['%', '%4', '%G0', 'abc%zz']) {
    assert.throws(() => omni.urlDecode(bad), { code: 'INVALID_ENCODING' });
  }
});

test('form encoding', () => {
  assert.equal(omni.formEncode([['a', '1'], ['b', 'x y'], ['a', '2']]), 'a=1&b=x+y&a=2');
  assert.equal(omni.formEncode({ q: 'a&b=c', n: 'é' }), 'q=a%26b%3Dc&n=%C3%A9');
  assert.equal(omni.formEncode(new Map([['k', 'v w']])), 'k=v+w');
  assert.equal(omni.formEncode(new URLSearchParams('x=1&x=2')), 'x=1&x=2');
  assert.deepEqual(omni.formDecode('a=1&b=x+y&a=2'), [['a', '1'], ['b', 'x y'], ['a', '2']]);
  assert.deepEqual(omni.formDecode('a=1&&b'), [['a', '1'], ['b', '']]);
  assert.deepEqual(omni.formDecode(''), []);
  const pairs = [['To', '+15551234567'], ['Body', 'Hi & bye = 100%']];
  assert.deepEqual(omni.formDecode(omni.formEncode(pairs)), pairs);
  // Agrees with URLSearchParams on decoding.
  assert.deepEqual(omni.formDecode(omni.formEncode(pairs)), [...new URLSearchParams(omni.formEncode(pairs))]);
  assert.throws(() => omni.formDecode('a=%ZZ'), { code: 'INVALID_ENCODING' });
  assert.throws(() => omni.formDecode('a=%FF'), { code: 'INVALID_ENCODING' });
});

test('UTF-8 validation (RFC 3629)', () => {
  omni.utf8Validate(Buffer.alloc(0));
  omni.utf8Validate('héllo wörld ✓ 😀');
  omni.utf8Validate(Buffer.from([0xf4, 0x8f, 0xbf, 0xbf])); // U+10FFFF
  const cases = [
    [[0x61, 0x62, 0xc0, 0xaf, 0x63], 2], // overlong '/'
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0x78, 0x79, 0x7a, 0xf4, 0x90, 0x80, 0x80], 3], // above U+10FFFF
    [[0x6f, 0x6b, 0xff], 2],
    [[0x61, 0x62, 0x63, 0xe2, 0x82], 3], // truncated
  ];
  for (const [bytes, offset] of cases) {
    assert.throws(() => omni.utf8Validate(Buffer.from(bytes)), (e) => {
      assert.equal(e.code, 'INVALID_ENCODING');
      assert.equal(e.offset, offset);
      return true;
    });
  }
});
