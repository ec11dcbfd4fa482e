'use strict';
// Pre-routing (omni/rules.h, omni/analyze.h, omni/preroute.h) from Node: rules in both
// formats, facts as objects, JSON text and Data, compile errors with rule ids and
// paths, the built-in analyzer, a JavaScript analyzer hook, a preroute run with
// auto-responses and the opt-out ledger.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

const RULES = [
  {
    id: 'vip-customer-rule', priority: 100,
    conditions: [{ field: 'identity.profile.tags', operator: 'contains', value: 'vip' }],
    actions: [{ type: 'route_to_queue', queueId: 'vip-support', priority: 'high' }],
  },
  {
    id: 'billing-intent-rule', priority: 80,
    conditions: [{ field: 'contentAnalysis.intent', operator: 'contains', value: 'billing' }],
    actions: [{ type: 'route_to_queue', queueId: 'billing-team' }, { type: 'add_tag', tag: 'billing-inquiry' }],
  },
  {
    id: 'agent-rule', priority: 80,
    conditions: { any: [{ field: 'message.content', operator: 'matches', value: '(?i)\\bagent\\b' }] },
    actions: [{ type: 'route_to_agent', agentId: 'a-7', agentName: 'Grace', skills: ['billing'] }],
  },
];

const FACTS = {
  identity: { profile: { tags: ['vip'] } },
  contentAnalysis: { intent: ['billing'] },
  message: { content: 'I need an AGENT' },
};

test('rules: match order, actions, destination, explain', () => {
  const rules = new omni.Rules(RULES);
  assert.deepEqual(rules.ids, ['vip-customer-rule', 'billing-intent-rule', 'agent-rule']);
  const r = rules.eval(FACTS, { explain: true });
  assert.deepEqual(r.matched, ['vip-customer-rule', 'billing-intent-rule', 'agent-rule']);
  assert.equal(r.destination.id, 'vip-support');
  assert.deepEqual(r.tags, ['billing-inquiry']);
  assert.equal(r.priority, 'high');
  assert.equal(r.explain[0].ruleId, 'vip-customer-rule');
  assert.equal(r.explain[0].conditions[0].result, true);
  const data = new omni.Data(FACTS);
  assert.deepEqual(rules.match(data), r.matched);
  assert.deepEqual(rules.match(JSON.stringify(FACTS)), r.matched);
  assert.deepEqual(rules.match({ message: { content: 'agents' } }), []);
  const agent = rules.eval({ message: { content: 'agent please' } });
  assert.deepEqual(agent.destination, {
    type: 'agent', id: 'a-7', name: 'Grace', metadata: { skillSet: ['billing'] },
  });
  data.close();
  rules.close();
  assert.equal(rules.closed, true);
  assert.throws(() => rules.match(FACTS), code('INVALID_ARGUMENT'));
});

test('rules: json-rules-engine format and time facts', () => {
  const jre = new omni.Rules([{
    conditions: { all: [{ fact: 'account', path: '$.tier', operator: 'in', value: ['gold', 'platinum'] }] },
    event: { type: 'route_to_queue', params: { queueId: 'gold' } },
  }]);
  assert.deepEqual(jre.ids, ['#0']);
  const r = jre.eval({ account: { tier: 'gold' } });
  assert.deepEqual(r.matched, ['#0']);
  assert.equal(r.destination.id, 'gold');
  const office = new omni.Rules([{
    id: 'office', actions: [],
    conditions: [{ field: 'time.hour', operator: 'greaterThanOrEqual', value: 9 }],
  }], { timeZone: 'Asia/Kolkata' });
  assert.deepEqual(office.match({}, { now: '2026-01-05T04:00:00Z' }), ['office']); // 09:30 IST
  assert.deepEqual(office.match({}, { now: '2026-01-05T03:00:00Z' }), []);
});

test('rules: compile errors carry every problem', () => {
  assert.throws(
    () => new omni.Rules([
      { id: 'x', conditions: [{ field: 'a', operator: 'eq', value: 1 }], actions: [] },
      { id: 'x', conditions: [], actions: [{ type: 'route_to_queue' }] },
    ]),
    (e) => {
      assert.equal(e.code, 'INVALID_CONFIG');
      assert.ok(e.details.errors.length >= 2);
      assert.ok(e.details.errors.some((x) => x.path === '[0].conditions[0].operator'));
      return true;
    },
  );
  assert.throws(() => new omni.Rules('[{'), code('INVALID_JSON'));
});

test('analyze: built-in and configured', () => {
  const r = omni.analyze('Please cancel my subscription, this is terrible');
  assert.ok(r.intent.includes('cancel'));
  assert.equal(r.sentiment, 'negative');
  assert.equal(r.language, 'en');
  const a = new omni.Analyzer({ entities: { order: '\\b[A-Z]{2}-\\d{6}\\b' } });
  const o = a.analyze('where is order AB-123456?');
  const order = o.entities.find((e) => e.type === 'order');
  assert.equal(order.value, 'AB-123456');
  assert.equal('where is order AB-123456?'.slice(order.start, order.end), 'AB-123456');
  assert.equal(omni.analyze({ content: 'नमस्ते, मेरा ऑर्डर कहाँ है?' }).language, 'hi');
  assert.throws(() => omni.analyze({ contentType: 'text' }), code('INVALID_ARGUMENT'));
});

const CONFIG = {
  defaults: {
    timeZone: 'UTC',
    autoResponses: { greeting: { enabled: true, templateId: 'greeting' } },
    optOut: { confirmations: { stop: 'stopped' } },
    rules: RULES,
  },
  templates: { greeting: { en: 'Hello {{identity.profile.firstName}}' }, stopped: { en: 'Bye' } },
};

function ev(content, status = 'active') {
  return {
    correlationId: 'c-1',
    conversation: { conversationId: 'conv-1', status },
    messageState: { messageId: 'm-1', sequenceNumber: 1 },
    routing: { accountId: 'acc-1' },
    identity: { customerId: 'cust-1', profile: { firstName: 'Ada', tags: [] } },
    message: { id: 'm-1', content, contentType: 'text', direction: 'inbound' },
  };
}

test('preroute: greeting, STOP ledger, analyzer hook', () => {
  const p = new omni.PreRoute(CONFIG);
  const engine = new omni.Engine({ clock: { fixed: '2026-01-05T10:00:00Z' } });
  const g = p.run(engine, ev('hi', 'new'));
  assert.equal(g.autoResponse.responseType, 'greeting');
  assert.equal(g.autoResponse.content, 'Hello Ada');
  assert.equal(g.nextStep, 'publishOutbound');
  const s = p.run(engine, ev('STOP!!!'));
  assert.equal(s.optOut.status, 'opted_out');
  assert.equal(engine.optoutGet('acc-1', 'cust-1').status, 'opted_out');
  assert.equal(engine.optoutSet('acc-1', 'cust-1', false), true);
  assert.equal(engine.optoutGet('acc-1', 'cust-1').status, 'opted_in');

  const seen = [];
  const hooked = new omni.Engine({ clock: { fixed: '2026-01-05T10:00:00Z' } }, {
    analyzer(request, builtin) {
      seen.push(request.content);
      assert.ok(Array.isArray(builtin.intent));
      return { intent: ['billing'] };
    },
  });
  const h = p.run(hooked, ev('hello there'));
  assert.deepEqual(seen, ['hello there']);
  assert.deepEqual(h.contentAnalysis.intent, ['billing']);
  assert.ok(h.matchedRules.includes('billing-intent-rule'));

  const failing = new omni.Engine(null, {
    analyzer() {
      throw new Error('model offline');
    },
  });
  assert.throws(() => p.run(failing, ev('hi')), (e) => {
    assert.equal(e.code, 'HOOK_FAILED');
    assert.match(e.message, /model offline/);
    return true;
  });
  assert.throws(() => new omni.Engine(null, { analyzer: 42 }), TypeError);
  assert.throws(() => p.run(engine, '{"correlationId":'), code('INVALID_JSON'));
});
