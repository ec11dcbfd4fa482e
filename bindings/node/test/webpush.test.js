'use strict';
// Web Push encryption (RFC 8291 Appendix A byte for byte), decryption, key pairs and
// VAPID headers (RFC 8292) from Node.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const omni = require('..');

const b64 = (s) => Buffer.from(s, 'base64url');
// RFC 8291 Appendix A
const RFC = {
  plaintext: 'When I grow up, I want to be a watermelon',
  uaPublic: b64('BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4'),
  uaPrivate: b64('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'),
  asPublic: b64('BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8'),
  asPrivate: b64('yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw'),
  salt: b64('DGv6ra1nlYgDCS1FRnbzlw'),
  auth: b64('BTBZMqHH6r4Tts7J_aSIgg'),
  body: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocIn' +
    'mYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNW' +
    'QexSgSxsj_Qulcy4a-fN',
};

test('RFC 8291 Appendix A byte for byte, and back', () => {
  const body = omni.webpushEncrypt(RFC.plaintext, RFC.uaPublic, RFC.auth,
    { salt: RFC.salt, senderPrivate: RFC.asPrivate });
  assert.equal(body.toString('base64url'), RFC.body);
  assert.equal(omni.webpushDecrypt(b64(RFC.body), RFC.uaPrivate, RFC.auth).toString(), RFC.plaintext);
});

test('round trips with a fresh key pair; node:crypto agrees on the public key', () => {
  const { publicKey, privateKey } = omni.webpushKeypair();
  assert.equal(publicKey.length, 65);
  assert.equal(privateKey.length, 32);
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  assert.deepEqual(ecdh.getPublicKey(), publicKey);
  for (const size of [0, 1, 200, 3993]) {
    const msg = crypto.randomBytes(size);
    const body = omni.webpushEncrypt(msg, publicKey, RFC.auth);
    assert.equal(body.length, 86 + size + 17);
    assert.deepEqual(omni.webpushDecrypt(body, privateKey, RFC.auth), msg);
  }
  const body = omni.webpushEncrypt(Buffer.alloc(83, 1), publicKey, RFC.auth, { recordSize: 100 });
  assert.equal(body.readUInt32BE(16), 100);
});

test('a seeded engine gives the same key pair', () => {
  const a = new omni.Engine({ random: { seed: 9 } });
  const b = new omni.Engine({ random: { seed: 9 } });
  assert.deepEqual(omni.webpushKeypair(a), omni.webpushKeypair(b));
  a.close();
  b.close();
});

test('errors', () => {
  assert.throws(() => omni.webpushDecrypt(b64(RFC.body), RFC.uaPrivate, Buffer.alloc(16)),
    { code: 'SIGNATURE_INVALID' });
  assert.throws(() => omni.webpushEncrypt(Buffer.alloc(3994), RFC.uaPublic, RFC.auth),
    { code: 'PAYLOAD_TOO_LARGE' });
  const bad = Buffer.from(RFC.uaPublic);
  bad[64] ^= 1;
  assert.throws(() => omni.webpushEncrypt('x', bad, RFC.auth), { code: 'INVALID_KEY' });
  assert.throws(() => omni.webpushEncrypt('x', RFC.uaPublic.subarray(1), RFC.auth),
    { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.webpushEncrypt('x', 'not bytes', RFC.auth), TypeError);
  assert.throws(() => omni.webpushDecrypt(b64(RFC.body).subarray(0, 40), RFC.uaPrivate, RFC.auth),
    { code: 'INVALID_ENCODING' });
  assert.throws(() => omni.webpushEncrypt('x', RFC.uaPublic, RFC.auth, { recordSize: 17 }),
    { code: 'INVALID_ARGUMENT' });
});

test('VAPID header', () => {
  const h = omni.webpushVapid('https://fcm.googleapis.com/fcm/send/x', 'mailto:ops@example.com',
    RFC.asPrivate, { nowMs: 1700000000000, expires: 3600 });
  assert.match(h, /^vapid t=[^,]+, k=/);
  const [jwt, k] = h.slice('vapid t='.length).split(', k=');
  assert.deepEqual(b64(k), RFC.asPublic);
  const [head, claims, sig] = jwt.split('.');
  assert.deepEqual(JSON.parse(b64(head)), { alg: 'ES256', typ: 'JWT' });
  assert.deepEqual(JSON.parse(b64(claims)),
    { aud: 'https://fcm.googleapis.com', exp: 1700003600, sub: 'mailto:ops@example.com' });
  // the signature verifies with node:crypto and the k key
  const key = crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64(k).subarray(1, 33).toString('base64url'),
      y: b64(k).subarray(33).toString('base64url') }, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(`${head}.${claims}`),
    { key, dsaEncoding: 'ieee-p1363' }, b64(sig)));
  assert.throws(() => omni.webpushVapid('http://example.com/', 'mailto:a@b.c', RFC.asPrivate),
    { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.webpushVapid('https://example.com/', 'mailto:a@b.c', RFC.asPrivate,
    { expires: 86401 }), { code: 'INVALID_ARGUMENT' });
});
