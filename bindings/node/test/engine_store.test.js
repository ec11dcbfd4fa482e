'use strict';
// Engine (clock, random, store) and the key/value store with compare-and-swap.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

const FIXED = { clock: { fixed: '2026-01-01T00:00:00Z' }, random: { seed: 1 } };
const FIXED_MS = 1767225600000;

test('engine with a fixed clock and seed is deterministic', () => {
  const e1 = new omni.Engine(FIXED);
  assert.equal(e1.nowMs(), FIXED_MS);
  assert.equal(e1.nowMs(), FIXED_MS);
  const r1 = e1.random(40);
  assert.ok(Buffer.isBuffer(r1));
  assert.equal(r1.length, 40);
  assert.equal(e1.random(0).length, 0);
  const e2 = new omni.Engine(JSON.stringify(FIXED));
  assert.deepEqual(e2.random(40), r1);
  const e3 = new omni.Engine({ random: { seed: 7 } });
  assert.notDeepEqual(e3.random(40), r1);
  for (const e of [e1, e2, e3]) e.close();
});

test('engine defaults', () => {
  const e = new omni.Engine();
  assert.ok(Math.abs(e.nowMs() - Date.now()) < 5000);
  assert.notDeepEqual(e.random(16), e.random(16));
  assert.equal(e.transport, null);
  assert.throws(() => e.random(-1), { code: 'INVALID_ARGUMENT' });
  e.close();
});

test('close is idempotent; closed objects throw; GC of open objects is safe', () => {
  const e = new omni.Engine();
  const store = e.store;
  assert.equal(e.closed, false);
  assert.equal(store.closed, false);
  e.close();
  e.close();
  assert.equal(e.closed, true);
  assert.equal(store.closed, true);
  assert.throws(() => e.nowMs(), { code: 'INVALID_ARGUMENT', message: 'engine is closed' });
  assert.throws(() => store.get('ns', 'k'), { code: 'INVALID_ARGUMENT', message: 'store is closed' });
  assert.throws(() => omni.uuid7(e), { code: 'INVALID_ARGUMENT' });
  for (let i = 0; i < 50; i++) {
    new omni.Engine(FIXED).store.put('a', 'b', 1);
    omni.Store.open();
    omni.Transport.scripted([]);
  }
  if (global.gc) global.gc();
});

test('an engine store is borrowed and uses the engine clock', () => {
  let engine = new omni.Engine(FIXED);
  const store = engine.store;
  assert.equal(engine.store, store);
  engine = null; // the store keeps the engine alive
  if (global.gc) global.gc();
  assert.equal(store.put('session', 's1', { a: 1 }, { expiresAtMs: FIXED_MS + 1000 }), 1);
  assert.deepEqual(store.get('session', 's1'), { value: { a: 1 }, version: 1, expiresAtMs: FIXED_MS + 1000 });
  // Expiry is judged with the engine's frozen clock unless nowMs is given.
  assert.equal(store.get('session', 's1', { nowMs: FIXED_MS + 1000 }), null);
  assert.equal(store.get('session', 's1', { nowMs: new Date(FIXED_MS + 999) }).version, 1);
  store.close(); // detaches only
  assert.equal(store.closed, true);
  assert.throws(() => store.get('session', 's1'), { code: 'INVALID_ARGUMENT' });
});

test('closing a borrowed store only detaches it', () => {
  const engine = new omni.Engine(FIXED);
  const store = engine.store;
  store.put('ns', 'k', 'v');
  store.close();
  assert.throws(() => store.get('ns', 'k'), { code: 'INVALID_ARGUMENT', message: 'store is closed' });
  assert.equal(engine.store.get('ns', 'k').value, 'v'); // the engine's store lives on
  engine.close();
  assert.throws(() => engine.store, { code: 'INVALID_ARGUMENT', message: 'engine is closed' });
});

test('store compare-and-swap', () => {
  const store = omni.Store.open('memory:');
  assert.equal(store.get('identity', 'missing'), null);
  const v1 = store.put('identity', '+15551234567', { customerId: 'c-1' });
  assert.equal(v1, 1);
  assert.equal(typeof v1, 'number');
  assert.deepEqual(store.get('identity', '+15551234567'), { value: { customerId: 'c-1' }, version: 1, expiresAtMs: 0 });

  assert.throws(() => store.put('identity', '+15551234567', { customerId: 'c-2' }), {
    code: 'ALREADY_EXISTS',
    status: omni.Status.EEXISTS,
  });
  const v2 = store.put('identity', '+15551234567', { customerId: 'c-2' }, { expectedVersion: v1 });
  assert.equal(v2, 2);
  assert.throws(
    () => store.put('identity', '+15551234567', { customerId: 'c-3' }, { expectedVersion: v1 }),
    (e) => {
      assert.ok(e instanceof omni.OmniError);
      assert.equal(e.code, 'VERSION_CONFLICT');
      assert.equal(e.status, omni.Status.ECONFLICT);
      assert.equal(e.retryable, true);
      assert.ok(e.message.length > 0);
      return true;
    },
  );
  assert.equal(store.get('identity', '+15551234567').value.customerId, 'c-2');
  // Versions may be given as BigInt too.
  assert.equal(store.put('identity', '+15551234567', [1, 'x', null], { expectedVersion: 2n }), 3);
  assert.equal(store.put('identity', '+15551234567', 'any', { expectedVersion: omni.ANY_VERSION }), 4);
  assert.throws(() => store.put('identity', 'nobody', 1, { expectedVersion: 5 }), { code: 'NOT_FOUND' });

  assert.throws(() => store.delete('identity', '+15551234567', { expectedVersion: 3 }), { code: 'VERSION_CONFLICT' });
  store.delete('identity', '+15551234567', { expectedVersion: 4 });
  assert.equal(store.get('identity', '+15551234567'), null);
  assert.throws(() => store.delete('identity', '+15551234567'), { code: 'NOT_FOUND' });

  assert.equal(omni.CREATE, 0);
  assert.equal(omni.ANY_VERSION, 2n ** 64n - 1n);
  assert.equal(omni.Store.ANY_VERSION, omni.ANY_VERSION);
  assert.equal(omni.Store.CREATE, 0);
  store.close();
  store.close();
  assert.throws(() => store.put('ns', 'k', 1), { code: 'INVALID_ARGUMENT' });
});

test('store values round trip as JSON', () => {
  const store = omni.Store.open();
  const values = [null, true, 0, -5, 1.5, 'text ✓', [], {}, { nested: { list: [1, { a: 'b' }] } }];
  values.forEach((value, i) => {
    store.put('values', `k${i}`, value);
    assert.deepEqual(store.get('values', `k${i}`).value, value);
  });
  assert.throws(() => store.put('values', 'u', undefined), TypeError);
  store.close();
});

test('store expiry', () => {
  const store = omni.Store.open();
  store.put('ttl', 'k', 'v', { expiresAtMs: 2000, nowMs: 1000 });
  assert.equal(store.get('ttl', 'k', { nowMs: 1999 }).value, 'v');
  assert.equal(store.get('ttl', 'k', { nowMs: 2000 }), null);
  assert.ok(store.put('ttl', 'k', 'w', { nowMs: 3000 }) >= 1); // expired: create works again
  store.close();
});

test('store list pages', () => {
  const store = omni.Store.open();
  for (const key of ['a/3', 'a/1', 'b/1', 'a/2', 'a/4']) store.put('ns', key, { k: key });
  const page = store.list('ns', { prefix: 'a/', limit: 3 });
  assert.deepEqual(page.items.map((i) => i.key), ['a/1', 'a/2', 'a/3']);
  assert.deepEqual(page.items[0].value, { k: 'a/1' });
  assert.equal(page.items[0].version, 1);
  assert.equal(page.items[0].expiresAt, null);
  assert.ok(page.next);
  const page2 = store.list('ns', { prefix: 'a/', after: page.next, limit: 3 });
  assert.deepEqual(page2.items.map((i) => i.key), ['a/4']);
  assert.equal(page2.next, null);
  assert.equal(store.list('ns').items.length, 5);
  assert.deepEqual(store.list('empty'), { items: [], next: null });
  store.close();
});

test('store argument errors', () => {
  const store = omni.Store.open();
  for (const ns of ['', 'Upper', 'x'.repeat(65), 'sp ace']) {
    assert.throws(() => store.put(ns, 'k', 1), { code: 'INVALID_ARGUMENT' }, ns);
  }
  assert.throws(() => store.put('ns', '', 1), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => store.put('ns', 'k'.repeat(1025), 1), (e) =>
    ['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE'].includes(e.code),
  );
  assert.throws(() => store.get('ns', 'a\0b'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => store.list('ns', { limit: 0 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => store.put('ns', 'k', 1, { expectedVersion: -1 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => store.put('ns', 'k', 1, { expectedVersion: 2n ** 64n }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => store.put('ns', 'k', 1, { nowMs: 'now' }), TypeError);
  assert.throws(() => omni.Store.open('nosuch://x'), { code: 'UNSUPPORTED' });
  store.close();
});
