'use strict';
// omni.Config (omni/config.h) from Node: the full document of tests/data/config/full.json
// and its accessors, every error by path in OmniError.details, Config.check without
// throwing, apply idempotent on a memory engine and an SQLite file, accounts by address,
// secrets from the environment never echoed, and closing.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const omni = require('..');

const FULL = path.join(__dirname, '..', '..', '..', 'tests', 'data', 'config', 'full.json');
const NOW = '2026-03-02T06:00:00Z';

function full() {
  return JSON.parse(fs.readFileSync(FULL, 'utf8'));
}

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

test('the full document and its accessors', () => {
  const cfg = new omni.Config(fs.readFileSync(FULL));
  assert.deepEqual(cfg.accountIds, ['acc-retail', 'acc-india']);
  assert.equal(cfg.storage, 'memory:');
  assert.deepEqual(cfg.transport, { type: 'curl', timeoutMs: 10000, connectTimeoutMs: 5000 });
  assert.deepEqual(cfg.engineConfig, { storage: 'memory:', transport: cfg.transport });
  assert.equal(cfg.delivery.retryPolicy.maxRetries, 3);
  assert.deepEqual(cfg.steps.map((s) => s.stepId), [
    'workFlowIdentityLookup', 'workFlowBiDirectional', 'workFlowPreRoute',
    'publishOutbound', 'pushNotification']);
  const pre = cfg.step('workFlowPreRoute');
  assert.equal(pre.timeout, 45000);
  assert.deepEqual(pre.retryPolicy, { maxRetries: 3, backoffMultiplier: 2, maxBackoff: 15000, initialBackoff: 1000 });
  assert.deepEqual(pre.nextSteps.map((n) => n.condition), ['auto_response_enabled', 'route_to_agent', 'blocked']);
  assert.equal(cfg.step('terminate'), null);
  assert.equal(cfg.summary.valid, true);
  assert.deepEqual(cfg.summary.carriers, ['bandwidth', 'twilio', 'whatsapp']);
  // from an object and from text too
  assert.deepEqual(new omni.Config(full()).accountIds, cfg.accountIds);
  assert.deepEqual(new omni.Config(fs.readFileSync(FULL, 'utf8')).summary, cfg.summary);
  cfg.close();
  assert.equal(cfg.closed, true);
  assert.throws(() => cfg.accountIds, code('INVALID_ARGUMENT'));
  cfg.close();
});

test('accounts by address', () => {
  const cfg = new omni.Config(full());
  const acc = cfg.account('+1 (415) 555-0100');
  assert.equal(acc.accountId, 'acc-retail');
  assert.equal(acc.businessUnitId, 'bu-retail');
  assert.deepEqual(acc.outbound, ['twilio', 'whatsapp']);
  assert.equal(cfg.accountId('waba:109876543210987'), 'acc-india');
  const india = cfg.accountSettings('acc-india');
  assert.equal(india.locale, 'hi');
  assert.equal(india.timeZone, 'Asia/Kolkata');
  assert.deepEqual(india.addresses.phoneNumbers, ['+918045678901']);
  assert.equal(cfg.account('+14155550199'), null);
  assert.throws(() => cfg.account('shortcode:1'), code('INVALID_ARGUMENT'));
  assert.throws(() => cfg.accountSettings('nobody'), code('NOT_FOUND'));
  assert.throws(() => cfg.accountId(5), TypeError);
});

test('every error with its path', () => {
  const doc = {
    version: 1, storage: 5,
    accounts: [
      { accountId: 'a0', addresses: { shortCodes: ['12'] } },
      { accountId: 'a1', outbound: { twilio: { accountSid: 'AC00000000000000000000000000000001' } } },
    ],
    templates: [{ templateId: 't', name: 'T', category: 'system', channels: ['sms'], content: { body: '{{#if x}}open' } }],
    workflow: { steps: [{ stepId: 'workFlowIdentityLookup', nextSteps: [{ stepId: 'nowhere' }] }] },
  };
  let err;
  assert.throws(() => new omni.Config(doc), (e) => { err = e; return code('INVALID_CONFIG')(e); });
  assert.equal(err.details.count, 5);
  const paths = err.details.errors.map((e) => e.path);
  assert.deepEqual(new Set(paths), new Set([
    'storage', 'accounts[0].addresses.shortCodes[0]', 'accounts[1].outbound.twilio.authToken',
    'templates[0].content.body', 'workflow.steps[0].nextSteps[0].stepId']));
  const report = omni.Config.check(doc);
  assert.equal(report.valid, false);
  assert.deepEqual(report.errors.map((e) => e.path), paths);
  assert.equal(report.accounts, 2);
  const bad = '{"version":1,\n "storage": }';
  const r2 = omni.Config.check(bad);
  assert.equal(r2.errors[0].code, 'INVALID_JSON');
  assert.equal(r2.errors[0].line, 2);
  assert.throws(() => new omni.Config(bad), code('INVALID_JSON'));
  assert.throws(() => new omni.Config(), TypeError);
  assert.equal(omni.Config.check({ version: 1 }).valid, true);
});

test('apply is idempotent on a memory engine', () => {
  const cfg = new omni.Config(full());
  const engine = cfg.engine({ clock: { fixed: NOW } });
  assert.deepEqual(cfg.apply(engine), {
    routing: { written: 7, unchanged: 0 },
    conversationSettings: { written: 2, unchanged: 0 },
    templates: { written: 6, unchanged: 0 },
  });
  assert.deepEqual(cfg.apply(engine), {
    routing: { written: 0, unchanged: 7 },
    conversationSettings: { written: 0, unchanged: 2 },
    templates: { written: 0, unchanged: 6 },
  });
  assert.throws(() => cfg.apply(null), TypeError);
  engine.close();
});

test('apply on an SQLite file from two engines', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-config-'));
  try {
    const doc = full();
    doc.storage = 'sqlite:' + path.join(dir, 'store.db');
    delete doc.transport;
    const cfg = new omni.Config(doc);
    const e1 = cfg.engine();
    assert.equal(cfg.apply(e1).templates.written, 6);
    e1.close();
    const e2 = cfg.engine();
    const out = cfg.apply(e2);
    assert.deepEqual(out.routing, { written: 0, unchanged: 7 });
    assert.deepEqual(out.templates, { written: 0, unchanged: 6 });
    e2.close();
    cfg.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets from the environment are never echoed', () => {
  const doc = {
    version: 1,
    inbound: { carriers: { twilio: { authToken: { env: 'OMNI_NODE_CFG_TW' } } } },
    accounts: [{
      accountId: 'a', addresses: { phoneNumbers: ['+14155550100'] },
      outbound: { whatsapp: { accessToken: 'S3CR3T-WA', phoneNumberId: '123' } },
    }],
  };
  delete process.env.OMNI_NODE_CFG_TW;
  let err;
  assert.throws(() => new omni.Config(doc), (e) => { err = e; return code('INVALID_CONFIG')(e); });
  assert.equal(err.details.errors.length, 1);
  assert.equal(err.details.errors[0].path, 'inbound.carriers.twilio.authToken');
  assert.match(err.details.errors[0].message, /OMNI_NODE_CFG_TW/);
  process.env.OMNI_NODE_CFG_TW = 'S3CR3T-ENV';
  try {
    const cfg = new omni.Config(doc);
    const texts = [cfg.summary, cfg.accountSettings('a'), cfg.engineConfig, cfg.workflow,
      omni.Config.check(doc)].map((x) => JSON.stringify(x));
    for (const t of texts) assert.equal(t.includes('S3CR3T'), false, t);
    doc.accounts[0].outbound.whatsapp.phoneNumberId = 'S3CR3T-not-numeric';
    assert.throws(() => new omni.Config(doc), (e) => {
      assert.equal(e.message.includes('S3CR3T'), false);
      assert.equal(JSON.stringify(e.details).includes('S3CR3T'), false);
      return true;
    });
  } finally {
    delete process.env.OMNI_NODE_CFG_TW;
  }
});
