'use strict';
// Version, limits, statuses and the OmniError object.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

test('version matches the header', () => {
  assert.equal(omni.version(), '0.1.0');
  assert.equal(omni.versionNumber(), 100);
  assert.match(omni.addonPath, /omni_node\.node$/);
});

test('limits', () => {
  // Values from omni/omni.h, omni/hooks.h, omni/http.h, omni/crypto.h, omni/encoding.h.
  assert.equal(omni.limit(omni.Limit.JSON_BYTES), 4 * 1024 * 1024);
  assert.equal(omni.limit('json_depth'), 64);
  assert.equal(omni.limit('STORE_NS'), 64);
  assert.equal(omni.LIMITS.STORE_KEY, 1024);
  assert.equal(omni.LIMITS.HTTP_HEADERS, 128);
  assert.equal(omni.LIMITS.JWT_BYTES, 64 * 1024);
  assert.equal(omni.LIMITS.CODEC_BYTES, 64 * 1024 * 1024);
  assert.equal(omni.limit(999), 0);
  assert.equal(omni.limit('nope'), 0);
  assert.deepEqual(Object.keys(omni.LIMITS), Object.keys(omni.Limit));
});

test('strerror and status codes', () => {
  assert.equal(omni.strerror(0), 'success');
  assert.equal(omni.strerror(omni.Status.EINVAL), 'invalid argument');
  assert.equal(omni.statusCode(omni.Status.ECONFLICT), 'VERSION_CONFLICT');
  assert.equal(omni.statusCode(-1000), 'UNKNOWN_ERROR');
  for (const status of Object.values(omni.Status)) {
    assert.notEqual(omni.statusCode(status), 'UNKNOWN_ERROR');
  }
});

test('Status matches the table in omni/common.h', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const text = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'include', 'omni', 'common.h'), 'utf8');
  const rows = [...text.matchAll(/XX\((\w+), (-?\d+), "(\w+)"/g)];
  assert.ok(rows.length >= 28);
  assert.deepEqual(Object.fromEntries(rows.map((m) => [m[1], Number(m[2])])), { ...omni.Status });
  for (const m of rows) assert.equal(omni.statusCode(Number(m[2])), m[3]);
});

test('errors are OmniError objects with the library fields', () => {
  let err;
  try {
    omni.base64Decode('Zm9v!A==');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof omni.OmniError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'OmniError');
  assert.equal(err.code, 'INVALID_ENCODING');
  assert.equal(err.status, omni.Status.EENCODING);
  assert.equal(err.retryable, false);
  assert.match(err.message, /4/); // names the byte offset
  assert.equal(err.details, null);
  assert.ok(err.stack.includes('OmniError'));
  assert.deepEqual(JSON.parse(JSON.stringify(err)), {
    code: 'INVALID_ENCODING',
    message: err.message,
    retryable: false,
  });
});

test('engine configuration errors carry details', () => {
  assert.throws(() => new omni.Engine({ bogus: 1 }), (e) => {
    assert.ok(e instanceof omni.OmniError);
    assert.equal(e.code, 'INVALID_CONFIG');
    assert.deepEqual(e.details, { path: 'bogus' });
    assert.deepEqual(e.toJSON().details, { path: 'bogus' });
    return true;
  });
  assert.throws(() => new omni.Engine('{not json'), { code: 'INVALID_JSON' });
});

test('wrong argument types are TypeErrors', () => {
  assert.throws(() => omni.base64Encode(42), TypeError);
  assert.throws(() => omni.base64Encode({}), TypeError);
  assert.throws(() => omni.uuid5(null, 'x'), TypeError);
  assert.throws(() => omni.timeFormat('soon'), TypeError);
  assert.throws(() => omni.uuid7({}), TypeError);
});
