'use strict';
// Hashes, HMAC, constant-time comparison and JWT, cross-checked with node:crypto.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const omni = require('..');

const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };
const NOW_S = 1767225600; // 2026-01-01T00:00:00Z

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fromB64url = (text) => Buffer.from(text, 'base64url');

const rsa = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const ec = crypto.generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

test('hash vectors (FIPS 180-2, message "abc")', () => {
  assert.equal(omni.hashDigest('sha1', 'abc').toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(
    omni.hashDigest('sha256', Buffer.from('abc')).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(
    omni.hashDigest('SHA-512', 'abc').toString('hex'),
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a' +
      '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  );
  assert.deepEqual(omni.hashDigest('sha256', ''), crypto.createHash('sha256').update('').digest());
  assert.deepEqual(['sha1', 'sha256', 'sha512', 'md5'].map(omni.hashSize), [20, 32, 64, 0]);
  assert.throws(() => omni.hashDigest('md5', 'abc'), { code: 'INVALID_ARGUMENT' });
});

test('HMAC RFC 4231 test cases 1 and 2, RFC 2202 case 2', () => {
  const data = 'what do ya want for nothing?';
  // RFC 4231 section 4.3 (test case 2): key "Jefe".
  assert.equal(
    omni.hmac('sha256', 'Jefe', data).toString('hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  assert.equal(
    omni.hmac('sha512', Buffer.from('Jefe'), Buffer.from(data)).toString('hex'),
    '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554' +
      '9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  );
  // RFC 4231 section 4.2 (test case 1).
  assert.equal(
    omni.hmac('sha256', Buffer.alloc(20, 0x0b), 'Hi There').toString('hex'),
    'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
  );
  // RFC 2202 section 3 (test case 2).
  assert.equal(omni.hmac('sha1', 'Jefe', data).toString('hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
});

test('ctEqual', () => {
  assert.equal(omni.ctEqual('abc', Buffer.from('abc')), true);
  assert.equal(omni.ctEqual('', ''), true);
  assert.equal(omni.ctEqual('abc', 'abd'), false);
  assert.equal(omni.ctEqual('abc', 'abcd'), false);
});

test('JWT HS256 round trip, signature cross-checked with node:crypto', () => {
  const secret = 'a secret of some length';
  const claims = { sub: 'user-1', iat: NOW_S, name: 'Zoë' };
  const token = omni.jwtSign({ alg: 'HS256', key: secret, claims, header: { kid: 'k1' } });
  const [head, payload, sig] = token.split('.');
  const header = JSON.parse(fromB64url(head));
  assert.equal(header.alg, 'HS256');
  assert.equal(header.typ, 'JWT');
  assert.equal(header.kid, 'k1');
  assert.deepEqual(JSON.parse(fromB64url(payload)), claims);
  const expected = crypto.createHmac('sha256', secret).update(`${head}.${payload}`).digest();
  assert.deepEqual(fromB64url(sig), expected);
  assert.deepEqual(omni.jwtVerify(token, { alg: 'HS256', key: secret }), claims);
  assert.deepEqual(omni.jwtVerify(Buffer.from(token), { alg: 'HS256', key: Buffer.from(secret) }), claims);
});

test('JWT errors: wrong key, wrong alg, malformed token, unknown alg', () => {
  const token = omni.jwtSign({ alg: 'HS256', key: 'right', claims: { a: 1 } });
  assert.throws(() => omni.jwtVerify(token, { alg: 'HS256', key: 'wrong' }), (e) => {
    assert.equal(e.code, 'SIGNATURE_INVALID');
    assert.equal(e.retryable, false);
    assert.ok(!e.message.includes('wrong') && !e.message.includes('right'));
    return true;
  });
  assert.throws(() => omni.jwtVerify(token, { alg: 'RS256', key: rsa.publicKey }), (e) =>
    ['SIGNATURE_INVALID', 'INVALID_KEY'].includes(e.code),
  );
  assert.throws(() => omni.jwtVerify('not-a-token', { alg: 'HS256', key: 'k' }), (e) =>
    ['INVALID_ENCODING', 'INVALID_JSON'].includes(e.code),
  );
  assert.throws(() => omni.jwtSign({ alg: 'none', key: 'k', claims: {} }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => omni.jwtSign({ alg: 'RS256', key: 'not a pem', claims: {} }), { code: 'INVALID_KEY' });
});

test('JWT exp / nbf against the engine clock', () => {
  const engine = new omni.Engine(FIXED);
  try {
    const expired = omni.jwtSign({ alg: 'HS256', key: 's', claims: { exp: NOW_S - 30 } });
    assert.throws(() => omni.jwtVerify(expired, { alg: 'HS256', key: 's', engine }), (e) => {
      assert.ok(e instanceof omni.OmniError);
      assert.equal(e.code, 'TOKEN_EXPIRED');
      assert.equal(e.status, omni.Status.EEXPIRED);
      assert.equal(e.retryable, false);
      return true;
    });
    assert.equal(omni.jwtVerify(expired, { alg: 'HS256', key: 's', engine, leeway: 60 }).exp, NOW_S - 30);
    const early = omni.jwtSign({ alg: 'HS256', key: 's', claims: { nbf: NOW_S + 300 } });
    assert.throws(() => omni.jwtVerify(early, { alg: 'HS256', key: 's', engine }), {
      code: 'TOKEN_NOT_YET_VALID',
    });
    const valid = omni.jwtSign({ alg: 'HS256', key: 's', claims: { exp: NOW_S + 30, nbf: NOW_S - 30 } });
    assert.equal(omni.jwtVerify(valid, { alg: 'HS256', key: 's', engine }).exp, NOW_S + 30);
  } finally {
    engine.close();
  }
  assert.throws(() => omni.jwtVerify('a.b.c', { alg: 'HS256', key: 's', engine }), {
    code: 'INVALID_ARGUMENT',
    message: 'engine is closed',
  });
});

test('JWT RS256: libomni <-> node:crypto both ways', () => {
  const claims = { iss: 'omni', iat: NOW_S };
  const token = omni.jwtSign({ alg: 'RS256', key: rsa.privateKey, claims });
  assert.deepEqual(omni.jwtVerify(token, { alg: 'RS256', key: rsa.publicKey }), claims);
  assert.deepEqual(omni.jwtVerify(token, { alg: 'RS256', key: rsa.privateKey }), claims);
  // RFC 7518 section 3.3: RSASSA-PKCS1-v1_5 with SHA-256.
  const [head, body, sig] = token.split('.');
  assert.ok(crypto.verify('sha256', Buffer.from(`${head}.${body}`), rsa.publicKey, fromB64url(sig)));

  const h = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const b = b64url(JSON.stringify({ sub: 'from-node' }));
  const s = crypto.sign('sha256', Buffer.from(`${h}.${b}`), rsa.privateKey);
  assert.deepEqual(omni.jwtVerify(`${h}.${b}.${b64url(s)}`, { alg: 'RS256', key: rsa.publicKey }), {
    sub: 'from-node',
  });
  // The traditional PKCS#1 private key form signs too.
  const pkcs1 = crypto.createPrivateKey(rsa.privateKey).export({ type: 'pkcs1', format: 'pem' });
  const t2 = omni.jwtSign({ alg: 'RS256', key: pkcs1, claims });
  assert.deepEqual(omni.jwtVerify(t2, { alg: 'RS256', key: rsa.publicKey }), claims);
});

test('JWT ES256: raw R||S signatures, libomni <-> node:crypto both ways', () => {
  const claims = { iss: 'TEAMID1234', iat: NOW_S };
  const token = omni.jwtSign({ alg: 'ES256', key: ec.privateKey, claims, header: { kid: 'ABC123DEFG' } });
  const [head, body, sig] = token.split('.');
  assert.equal(fromB64url(sig).length, 64); // RFC 7518 section 3.4
  assert.deepEqual(omni.jwtVerify(token, { alg: 'ES256', key: ec.publicKey }), claims);
  assert.ok(
    crypto.verify('sha256', Buffer.from(`${head}.${body}`), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, fromB64url(sig)),
  );

  const h = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'k' }));
  const b = b64url(JSON.stringify({ sub: 'from-node', exp: NOW_S + 60 }));
  const s = crypto.sign('sha256', Buffer.from(`${h}.${b}`), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const engine = new omni.Engine(FIXED);
  assert.equal(omni.jwtVerify(`${h}.${b}.${b64url(s)}`, { alg: 'ES256', key: ec.publicKey, engine }).sub, 'from-node');
  engine.close();

  // The SEC1 ("BEGIN EC PRIVATE KEY") form signs too.
  const sec1 = crypto.createPrivateKey(ec.privateKey).export({ type: 'sec1', format: 'pem' });
  const t2 = omni.jwtSign({ alg: 'ES256', key: sec1, claims });
  assert.deepEqual(omni.jwtVerify(t2, { alg: 'ES256', key: ec.publicKey }), claims);

  // A tampered signature fails.
  const bad = Buffer.from(fromB64url(sig));
  bad[10] ^= 1;
  assert.throws(() => omni.jwtVerify(`${head}.${body}.${b64url(bad)}`, { alg: 'ES256', key: ec.publicKey }), {
    code: 'SIGNATURE_INVALID',
  });
  // An RSA key is not an ES256 key.
  assert.throws(() => omni.jwtSign({ alg: 'ES256', key: rsa.privateKey, claims }), { code: 'INVALID_KEY' });
});
