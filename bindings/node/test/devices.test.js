'use strict';
// The push device registry (omni/push.h): register, refresh, move, remove/invalidate,
// listing by user and by platform with paging, validation errors, SQLite.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const omni = require('..');

const NOW = '2025-01-02T03:04:05Z';
const IOS = '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad';
// RFC 8291 Appendix A: the user agent's public key and auth secret.
const P256DH =
  'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
const AUTH = 'BTBZMqHH6r4Tts7J_aSIgg';
const EP = 'https://fcm.googleapis.com/fcm/send/abc:def';

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

function web(userId, endpoint = EP) {
  return {
    userId, deviceToken: endpoint, platform: 'web',
    subscription: { endpoint, expirationTime: null, keys: { p256dh: P256DH, auth: AUTH } },
  };
}

function engine() {
  return new omni.Engine({ clock: { fixed: NOW } });
}

test('register, refresh, get', () => {
  const e = engine();
  const r = e.deviceRegister({ userId: 'alice', deviceToken: IOS, platform: 'ios', locale: 'en-US' });
  assert.equal(r.created, true);
  assert.equal(r.device.registeredAt, '2025-01-02T03:04:05.000Z');
  assert.deepEqual(r.events[0], {
    source: 'omni.push', detailType: 'device.registered',
    detail: { userId: 'alice', platform: 'ios', deviceToken: IOS,
      registeredAt: '2025-01-02T03:04:05.000Z' },
  });
  const again = e.deviceRegister(JSON.stringify({ userId: 'alice', deviceToken: IOS, platform: 'ios' }));
  assert.equal(again.created, false);
  assert.equal(again.events[0].detailType, 'device.updated');
  const buf = Buffer.from(JSON.stringify({ userId: 'alice', deviceToken: IOS, platform: 'ios' }));
  assert.equal(e.deviceRegister(buf).created, false);
  assert.equal(e.deviceGet('ios', IOS).userId, 'alice');
  e.close();
});

test('a token moves, never duplicates', () => {
  const e = engine();
  e.deviceRegister(web('alice'));
  const r = e.deviceRegister(web('bob'));
  assert.equal(r.events[0].detailType, 'device.moved');
  assert.equal(r.events[0].detail.previousUserId, 'alice');
  assert.deepEqual(e.deviceList({ userId: 'alice' }).items, []);
  assert.equal(e.deviceList({ userId: 'bob' }).items.length, 1);
  assert.equal(e.deviceList({ platform: 'web' }).items.length, 1);
  e.close();
});

test('remove and invalidate', () => {
  const e = engine();
  e.deviceRegister(web('carol'));
  const r = e.deviceRemove('web', EP, '410 Gone');
  assert.equal(r.events[0].detailType, 'device.invalidated');
  assert.equal(r.events[0].detail.reason, '410 Gone');
  assert.throws(() => e.deviceGet('web', EP), code('NOT_FOUND'));
  assert.throws(() => e.deviceRemove('web', EP), code('NOT_FOUND'));
  e.deviceRegister(web('carol'));
  assert.equal(e.deviceRemove('web', EP).events[0].detailType, 'device.unregistered');
  e.close();
});

test('paging and the platform filter', () => {
  const e = engine();
  for (let i = 0; i < 5; i++) {
    e.deviceRegister({ userId: 'dave', deviceToken: `0${i}aabb`, platform: 'ios' });
  }
  e.deviceRegister(web('dave'));
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const page = e.deviceList({ userId: 'dave', limit: 4, cursor });
    seen.push(...page.items.map((d) => d.deviceToken));
    cursor = page.next;
    pages++;
  } while (cursor !== null);
  assert.equal(seen.length, 6);
  assert.equal(new Set(seen).size, 6);
  assert.equal(pages, 2);
  const webOnly = e.deviceList({ userId: 'dave', platform: 'web' }).items;
  assert.deepEqual(webOnly.map((d) => d.platform), ['web']);
  const p = e.deviceList({ platform: 'ios', limit: 2 });
  assert.deepEqual(p.items.map((d) => d.deviceToken), ['00aabb', '01aabb']);
  assert.ok(p.next);
  e.close();
});

test('errors', () => {
  const e = engine();
  assert.throws(() => e.deviceRegister({ userId: 'u', platform: 'ios' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.deviceRegister('{'), code('INVALID_JSON'));
  const bad = web('u');
  bad.subscription.keys.p256dh = 'AAAA';
  assert.throws(() => e.deviceRegister(bad), (err) => code('INVALID_ARGUMENT')(err) &&
    /p256dh/.test(err.message));
  assert.throws(() => e.deviceGet('mac', 'aa'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.deviceGet('ios', 'a\0a'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.deviceGet('ios', 5), TypeError);
  assert.throws(() => e.deviceList({}), code('INVALID_ARGUMENT'));
  assert.throws(() => e.deviceList({ userId: 'u', limit: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.deviceRemove('ios', 'aa', ''), code('INVALID_ARGUMENT'));
  e.close();
  assert.throws(() => e.deviceGet('ios', 'aa'));
});

test('SQLite keeps the registry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-devices-'));
  try {
    const storage = `sqlite:${path.join(dir, 'd.db')}`;
    const a = new omni.Engine({ storage });
    a.deviceRegister({ userId: 'erin', deviceToken: IOS, platform: 'ios' });
    a.close();
    const b = new omni.Engine({ storage });
    assert.equal(b.deviceGet('ios', IOS).userId, 'erin');
    b.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
