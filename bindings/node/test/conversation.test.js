'use strict';
// Conversations (omni/conversation.h): the state machine, steps over a store, history,
// delivery status, settings, the WhatsApp service window and the DynamoDB Streams
// converter. Time passes by opening engines with different fixed clocks over one
// SQLite file.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const omni = require('..');

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60 * 1000;
const HOUR = 60 * MIN;

function code(c) {
  return (e) => {
    assert.ok(e instanceof omni.OmniError, `expected OmniError, got ${e}`);
    assert.equal(e.code, c);
    return true;
  };
}

const dirs = [];
test.after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// A fresh SQLite store; clock(ms) opens an engine on it whose clock is fixed at ms
// (every engine gets its own random seed so ids never collide).
let seed = 1;
function world() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-conv-'));
  dirs.push(dir);
  const storage = 'sqlite:' + path.join(dir, 'conversations.db');
  const engines = [];
  const clock = (ms) => {
    const e = new omni.Engine({
      storage,
      clock: { fixed: new Date(ms).toISOString() },
      random: { seed: seed++ },
    });
    engines.push(e);
    return e;
  };
  clock.close = () => engines.forEach((e) => e.close());
  return clock;
}

// A BiDirectionalEvent of customer `customerId` on account acc-1.
function message(id, { carrier = 'twilio', channelType = 'sms', customerId = 'cust-1',
  accountId = 'acc-1', contentType = 'text', ...extra } = {}) {
  return {
    correlationId: 'corr-' + id,
    identity: { customerId },
    routing: { accountId, businessUnitId: 'bu-1', tenantId: 't-1' },
    enrichedMessage: {
      id,
      carrier,
      channelType,
      content: 'hello ' + id,
      contentType,
      timestamp: '2026-01-01T00:00:00Z',
    },
    ...extra,
  };
}

const wa = (id, extra = {}) => message(id, { carrier: 'whatsapp', channelType: 'chat', ...extra });

const types = (r) => r.events.map((e) => e.detailType);

// ---- the pure state machine ---------------------------------------------------------

test('status and event names', () => {
  assert.deepEqual(omni.CONVERSATION_STATUSES,
    ['new', 'active', 'resolved', 'escalated', 'expired', 'reopened']);
  assert.deepEqual(omni.CONVERSATION_EVENTS, ['inbound_message', 'outbound_message',
    'agent_assigned', 'agent_transferred', 'agent_left', 'bot_handover', 'escalate', 'resolve',
    'inactivity_timeout', 'reopen', 'set_metadata']);
  assert.ok(Object.isFrozen(omni.CONVERSATION_STATUSES));
  assert.ok(Object.isFrozen(omni.CONVERSATION_EVENTS));
});

// The transition table of omni/conversation.h, row by row (columns: new, active,
// resolved, escalated, expired, reopened; '-' is INVALID_TRANSITION).
const TABLE = {
  inbound_message: ['active', 'active', 'reopened', 'escalated', 'reopened', 'active'],
  outbound_message: ['active', 'active', 'reopened', 'escalated', 'reopened', 'active'],
  agent_assigned: ['active', 'active', '-', 'escalated', '-', 'active'],
  agent_transferred: ['-', 'active', '-', 'escalated', '-', 'active'],
  agent_left: ['-', 'active', '-', 'escalated', '-', 'active'],
  bot_handover: ['active', 'active', '-', 'active', '-', 'active'],
  escalate: ['escalated', 'escalated', '-', '-', '-', 'escalated'],
  resolve: ['resolved', 'resolved', '-', 'resolved', '-', 'resolved'],
  inactivity_timeout: ['expired', 'expired', 'expired', 'expired', '-', 'expired'],
  reopen: ['-', '-', 'reopened', 'reopened', 'reopened', '-'],
  set_metadata: ['new', 'active', 'resolved', 'escalated', 'expired', 'reopened'],
};

test('conversationNextStatus follows the whole table', () => {
  let cells = 0;
  for (const [event, row] of Object.entries(TABLE)) {
    omni.CONVERSATION_STATUSES.forEach((status, i) => {
      cells++;
      if (row[i] === '-') {
        assert.throws(() => omni.conversationNextStatus(status, event), (e) => {
          assert.equal(e.code, 'INVALID_TRANSITION');
          assert.equal(e.status, omni.Status.ETRANSITION);
          assert.ok(e.message.includes(event), e.message);
          return true;
        }, `${event} in ${status}`);
      } else {
        assert.equal(omni.conversationNextStatus(status, event), row[i], `${event} in ${status}`);
      }
    });
  }
  assert.equal(cells, 66);
  // numbers work too (resolved = 2, inbound_message = 0)
  assert.equal(omni.conversationNextStatus(2, 0), 'reopened');
  assert.equal(omni.Status.ETRANSITION, -36);
});

test('conversationNextStatus errors', () => {
  assert.throws(() => omni.conversationNextStatus('New', 'inbound_message'), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus('new', 'nope'), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus(6, 0), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus(0, -1), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus(2 ** 40, 0), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus(1.5, 0), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationNextStatus(null, 'resolve'), TypeError);
  assert.throws(() => omni.conversationNextStatus('new', {}), TypeError);
});

const DOC = {
  conversationId: '019b76da-a800-715c-8289-ec2d0a9167ec',
  customerId: 'cust-1',
  accountId: 'acc-1',
  channel: { type: 'sms', carrier: 'twilio' },
  status: 'new',
  assignedTo: null,
  participants: [],
  metadata: {
    startedAt: '2026-01-01T00:00:00.000Z',
    lastActivityAt: '2026-01-01T00:00:00.000Z',
    messageCount: 0,
    topics: [],
    priority: 'normal',
  },
  lastInboundAt: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

test('conversationApply: pure transitions', () => {
  const t1 = T0 + HOUR;
  const a = omni.conversationApply(DOC, { event: 'agent_assigned', agentId: 'agent-1' }, t1);
  assert.equal(a.conversation.status, 'active');
  assert.equal(a.conversation.assignedTo, 'agent-1');
  assert.deepEqual(a.conversation.participants, [
    { id: 'agent-1', type: 'agent', joinedAt: '2026-01-01T01:00:00.000Z', status: 'active' },
  ]);
  assert.equal(a.conversation.updatedAt, '2026-01-01T01:00:00.000Z');
  assert.deepEqual(types(a), ['conversation.status_changed', 'conversation.assigned']);
  assert.deepEqual(a.events[1], {
    source: 'omni.workflow',
    detailType: 'conversation.assigned',
    detail: { conversationId: DOC.conversationId, previousAssignee: null,
      newAssignee: 'agent-1', assignedAt: '2026-01-01T01:00:00.000Z' },
  });

  // chained: the output document is valid input (JSON text and Buffers too)
  const b = omni.conversationApply(JSON.stringify(a.conversation),
    Buffer.from('{"event": "agent_transferred", "agentId": "agent-2"}'), new Date(t1 + MIN));
  assert.equal(b.conversation.assignedTo, 'agent-2');
  const byId = Object.fromEntries(b.conversation.participants.map((p) => [p.id, p.status]));
  assert.deepEqual(byId, { 'agent-1': 'transferred', 'agent-2': 'active' });
  assert.deepEqual(types(b), ['conversation.assigned']);

  const left = omni.conversationApply(b.conversation, { event: 'agent_left' }, BigInt(t1 + 2 * MIN));
  assert.equal(left.conversation.assignedTo, null);
  assert.equal(left.conversation.status, 'active');

  // message events update the activity fields
  const m = omni.conversationApply(DOC, { event: 'inbound_message' }, t1);
  assert.equal(m.conversation.metadata.messageCount, 1);
  assert.equal(m.conversation.lastInboundAt, '2026-01-01T01:00:00.000Z');
  assert.equal(m.conversation.metadata.lastActivityAt, '2026-01-01T01:00:00.000Z');

  // set_metadata: no status change, no events
  const md = omni.conversationApply(DOC,
    { event: 'set_metadata', priority: 'urgent', topics: ['billing'], sentiment: 'negative' }, t1);
  assert.equal(md.conversation.status, 'new');
  assert.equal(md.conversation.metadata.priority, 'urgent');
  assert.deepEqual(md.conversation.metadata.topics, ['billing']);
  assert.deepEqual(md.events, []);

  // inactivity_timeout: only after lastActivityAt + the timeout ("at" wins over nowMs)
  assert.throws(() => omni.conversationApply(DOC, { event: 'inactivity_timeout' }, t1),
    code('INVALID_TRANSITION'));
  const exp = omni.conversationApply(DOC, { event: 'inactivity_timeout', at: '2026-01-02T00:00:00Z' }, 0);
  assert.equal(exp.conversation.status, 'expired');
  const short = omni.conversationApply(DOC, { event: 'inactivity_timeout', inactivityTimeoutMs: HOUR }, t1);
  assert.equal(short.conversation.status, 'expired');

  // default nowMs: the system clock
  const before = Date.now();
  const r = omni.conversationApply(DOC, { event: 'resolve' });
  assert.ok(Date.parse(r.conversation.updatedAt) >= before - 1);
});

test('conversationApply errors', () => {
  const t1 = T0 + HOUR;
  assert.throws(() => omni.conversationApply(DOC, { event: 'agent_left' }, t1), code('INVALID_TRANSITION'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'agent_transferred', agentId: 'a' }, t1),
    code('INVALID_TRANSITION'));
  assert.throws(() => omni.conversationApply({ ...DOC, status: 'expired' }, { event: 'escalate' }, t1),
    (e) => e.code === 'INVALID_TRANSITION' && e.status === -36);
  assert.throws(() => omni.conversationApply(DOC, { event: 'agent_assigned' }, t1), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'set_metadata' }, t1), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'frobnicate' }, t1), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'resolve', at: 'yesterday' }, t1),
    code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply({ ...DOC, status: 'weird' }, { event: 'resolve' }, t1),
    code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply('{', { event: 'resolve' }, t1), code('INVALID_JSON'));
  assert.throws(() => omni.conversationApply(DOC, '{"event": ', t1), code('INVALID_JSON'));
  assert.throws(() => omni.conversationApply({ ...DOC, pad: 'x'.repeat(300 * 1024) }, { event: 'resolve' }, t1),
    code('PAYLOAD_TOO_LARGE'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'resolve' }, 1.5), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.conversationApply(DOC, { event: 'resolve' }, '0'), TypeError);
});

// ---- steps over a store -------------------------------------------------------------------

test('conversationStep creates, continues and deduplicates', () => {
  const at = world();
  const e0 = at(T0);
  const first = e0.conversationStep(message('SM1'));
  assert.equal(first.success, true);
  assert.equal(first.duplicate, false);
  assert.equal(first.correlationId, 'corr-SM1');
  assert.equal(first.nextStep, 'workFlowPreRoute');
  const cid = first.conversation.conversationId;
  assert.match(cid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(first.conversation.status, 'new');
  assert.deepEqual(first.conversation.channel, { type: 'sms', carrier: 'twilio' });
  assert.deepEqual(first.messageState, {
    messageId: first.messageState.messageId,
    sequenceNumber: 1,
    deliveryStatus: 'processing',
    direction: 'inbound',
  });
  assert.deepEqual(types(first), ['conversation.created', 'message.created']);
  assert.deepEqual(first.events[0].detail, {
    conversationId: cid, customerId: 'cust-1', accountId: 'acc-1', channel: 'sms',
    status: 'new', createdAt: '2026-01-01T00:00:00.000Z',
  });
  assert.equal(first.routing.conversationId, cid);
  assert.equal(first.routing.customerId, 'cust-1');
  assert.equal(first.routing.businessUnitId, 'bu-1');
  assert.equal(first.routing.channel, 'sms');

  // a second message (as JSON text, with options) continues the conversation
  const e5 = at(T0 + 5 * MIN);
  const second = e5.conversationStep(JSON.stringify(message('SM2')), { dedupeWindowMs: 0 });
  assert.equal(second.conversation.conversationId, cid);
  assert.equal(second.conversation.status, 'active');
  assert.equal(second.messageState.sequenceNumber, 2);
  assert.deepEqual(types(second), ['conversation.status_changed', 'message.created']);
  assert.equal(second.conversation.metadata.messageCount, 2);

  // the same message again: the first result, duplicate, no events, nothing changed
  const again = at(T0 + 10 * MIN).conversationStep(Buffer.from(JSON.stringify(message('SM1'))));
  assert.equal(again.duplicate, true);
  assert.deepEqual(again.events, []);
  assert.deepEqual(again.messageState, first.messageState);
  assert.equal(again.conversation.conversationId, cid);
  const doc = e5.conversationGet(cid);
  assert.equal(doc.metadata.messageCount, 2);
  assert.equal(doc.status, 'active');
  assert.equal(doc.customerId, 'cust-1');
  assert.equal(doc.updatedAt, '2026-01-01T00:05:00.000Z');
  assert.equal(e5.conversationHistory(cid).items.length, 2);

  // the same id outbound is another message
  const out = e5.conversationStep(message('SM1', { direction: 'outbound' }));
  assert.equal(out.duplicate, false);
  assert.equal(out.messageState.sequenceNumber, 3);
  assert.equal(out.messageState.deliveryStatus, 'pending');
  assert.equal(out.messageState.direction, 'outbound');
  at.close();
});

test('conversationStep: channels and reopening', () => {
  const at = world();
  const e = at(T0);
  const lc = e.conversationStep(message('lc-1', { carrier: 'livechat', channelType: 'chat' }));
  assert.deepEqual(lc.conversation.channel, { type: 'livechat', carrier: 'livechat' });
  const tw = e.conversationStep(message('tw-1', { channelType: 'chat' })); // Twilio WhatsApp
  assert.equal(tw.conversation.channel.type, 'whatsapp');
  const rcs = e.conversationStep(message('rcs-1', { channel: 'rcs' }));
  assert.equal(rcs.conversation.channel.type, 'rcs');
  const sms = e.conversationStep(message('sms-1'));
  const cid = sms.conversation.conversationId;
  assert.equal(new Set([lc, tw, rcs, sms].map((r) => r.conversation.conversationId)).size, 4);

  // resolved, then the customer writes again: reopened
  const res = e.conversationTransition(cid, { event: 'resolve' });
  assert.equal(res.conversation.status, 'resolved');
  const back = at(T0 + MIN).conversationStep(message('sms-2'));
  assert.equal(back.conversation.conversationId, cid);
  assert.equal(back.conversation.status, 'reopened');
  assert.deepEqual(back.events[0].detail, {
    conversationId: cid, previousStatus: 'resolved', newStatus: 'reopened',
    changedAt: '2026-01-01T00:01:00.000Z',
  });
  // inactive for longer than the timeout (an option here): reopened as well
  const late = at(T0 + 3 * HOUR).conversationStep(message('sms-3'), { inactivityTimeoutMs: HOUR });
  assert.equal(late.conversation.status, 'reopened');
  assert.equal(late.messageState.sequenceNumber, 3);
  at.close();
});

test('outbound free text needs the WhatsApp service window', () => {
  const at = world();
  const e0 = at(T0);
  const first = e0.conversationStep(wa('wamid.1'));
  const cid = first.conversation.conversationId;
  assert.deepEqual(first.conversation.serviceWindow, { open: true, expiresAt: '2026-01-02T00:00:00.000Z' });
  assert.deepEqual(e0.conversationWindow(cid), { open: true, expiresAtMs: T0 + 24 * HOUR });

  // inside the window: a free-text reply
  const reply = at(T0 + HOUR).conversationStep(wa('out-1', { direction: 'outbound' }));
  assert.equal(reply.messageState.deliveryStatus, 'pending');

  // 25 hours later the window is closed: text fails, templates pass
  const e25 = at(T0 + 25 * HOUR);
  assert.deepEqual(e25.conversationWindow(cid), { open: false, expiresAtMs: T0 + 24 * HOUR });
  assert.throws(() => e25.conversationStep(wa('out-2', { direction: 'outbound' })), (e) => {
    assert.ok(e instanceof omni.OmniError);
    assert.equal(e.code, 'SERVICE_WINDOW_CLOSED');
    assert.equal(e.status, omni.Status.EWINDOW);
    assert.equal(e.status, -37);
    assert.equal(e.retryable, false);
    return true;
  });
  assert.equal(e25.conversationGet(cid).metadata.messageCount, 2); // nothing recorded
  const tpl = e25.conversationStep(wa('out-3', { direction: 'outbound', contentType: 'template' }));
  assert.equal(tpl.messageState.sequenceNumber, 3);

  // the customer writes: the window opens again for 24 hours
  const back = e25.conversationStep(wa('wamid.2'));
  assert.deepEqual(back.conversation.serviceWindow,
    { open: true, expiresAt: '2026-01-03T01:00:00.000Z' });
  assert.deepEqual(e25.conversationWindow(cid), { open: true, expiresAtMs: T0 + 49 * HOUR });
  e25.conversationStep(wa('out-4', { direction: 'outbound' }));

  // other channels: always open, no expiry
  const sms = e25.conversationStep(message('SM1'));
  assert.deepEqual(e25.conversationWindow(sms.conversation.conversationId), { open: true, expiresAtMs: 0 });
  assert.equal(sms.conversation.serviceWindow, undefined);
  assert.throws(() => e25.conversationWindow('no-such-conversation'), code('NOT_FOUND'));
  assert.throws(() => e25.conversationWindow('bad id'), code('INVALID_ARGUMENT'));
  at.close();
});

test('conversationTransition: valid and invalid', () => {
  const at = world();
  const e = at(T0);
  const cid = e.conversationStep(message('SM1')).conversation.conversationId;
  const e1 = at(T0 + MIN);

  const assigned = e1.conversationTransition(cid, { event: 'agent_assigned', agentId: 'agent-1' });
  assert.equal(assigned.conversation.status, 'active');
  assert.equal(assigned.conversation.assignedTo, 'agent-1');
  assert.deepEqual(types(assigned), ['conversation.status_changed', 'conversation.assigned']);
  assert.equal(assigned.events[1].detail.assignedAt, '2026-01-01T00:01:00.000Z');
  assert.equal(e1.conversationGet(cid).assignedTo, 'agent-1'); // stored

  assert.throws(() => e1.conversationTransition(cid, { event: 'agent_transferred', agentId: 'agent-1' }),
    code('INVALID_TRANSITION'));
  const moved = e1.conversationTransition(cid, '{"event": "agent_transferred", "agentId": "agent-2"}');
  assert.equal(moved.conversation.assignedTo, 'agent-2');

  const bot = e1.conversationTransition(cid, { event: 'bot_handover', botId: 'bot-1' });
  assert.equal(bot.conversation.assignedTo, 'bot-1');
  const esc = e1.conversationTransition(cid, { event: 'escalate', reason: 'angry' });
  assert.equal(esc.conversation.status, 'escalated');
  assert.equal(esc.conversation.assignedTo, null);
  assert.throws(() => e1.conversationTransition(cid, { event: 'escalate' }), code('INVALID_TRANSITION'));

  const resolved = e1.conversationTransition(cid, { event: 'resolve' });
  assert.equal(resolved.conversation.status, 'resolved');
  assert.throws(() => e1.conversationTransition(cid, { event: 'agent_assigned', agentId: 'agent-1' }),
    (e) => e.code === 'INVALID_TRANSITION' && e.status === omni.Status.ETRANSITION);
  assert.equal(e1.conversationGet(cid).status, 'resolved'); // unchanged by the failures

  const reopened = e1.conversationTransition(cid, { event: 'reopen' });
  assert.equal(reopened.conversation.status, 'reopened');

  // the account's timeout: not inactive yet at +1 min, expired after a day
  assert.throws(() => e1.conversationTransition(cid, { event: 'inactivity_timeout' }),
    code('INVALID_TRANSITION'));
  const expired = at(T0 + 25 * HOUR).conversationTransition(cid, { event: 'inactivity_timeout' });
  assert.equal(expired.conversation.status, 'expired');

  // messages go through conversationStep; errors
  assert.throws(() => e1.conversationTransition(cid, { event: 'inbound_message' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e1.conversationTransition(cid, { event: 'frobnicate' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e1.conversationTransition(cid, '{'), code('INVALID_JSON'));
  assert.throws(() => e1.conversationTransition('no-such-id', { event: 'resolve' }), code('NOT_FOUND'));
  assert.throws(() => e1.conversationTransition(42, { event: 'resolve' }), TypeError);
  at.close();
});

test('conversationHistory: pagination and filters', () => {
  const at = world();
  const plan = [
    [0, 'SM1', 'inbound', 'text'],
    [5, 'SM2', 'inbound', 'image'],
    [10, 'OUT1', 'outbound', 'text'],
    [20, 'SM3', 'inbound', 'text'],
    [30, 'OUT2', 'outbound', 'template'],
    [40, 'SM4', 'inbound', 'text'],
    [50, 'SM5', 'inbound', 'image'],
  ];
  let cid;
  for (const [min, id, direction, contentType] of plan) {
    const r = at(T0 + min * MIN).conversationStep(message(id, { direction, contentType }));
    cid = r.conversation.conversationId;
  }
  const e = at(T0 + HOUR);

  const all = e.conversationHistory(cid);
  assert.equal(all.next, null);
  assert.deepEqual(all.items.map((m) => m.sequenceNumber), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(all.items.map((m) => m.carrierMessageId), plan.map((p) => p[1]));
  const m2 = all.items[1];
  assert.equal(m2.conversationId, cid);
  assert.equal(m2.direction, 'inbound');
  assert.equal(m2.carrier, 'twilio');
  assert.equal(m2.contentType, 'image');
  assert.equal(m2.deliveryStatus, 'processing');
  assert.equal(m2.createdAt, '2026-01-01T00:05:00.000Z');
  assert.equal(m2.correlationId, 'corr-SM2');
  assert.equal(m2.message.content, 'hello SM2');
  assert.equal(all.items[2].deliveryStatus, 'pending');

  // pages of 3 (the cursor goes back as it came; a query may be JSON text)
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = cursor === null ? { limit: 3 } : JSON.stringify({ limit: 3, cursor });
    const page = e.conversationHistory(cid, q);
    assert.ok(page.items.length <= 3);
    seen.push(...page.items.map((m) => m.sequenceNumber));
    cursor = page.next;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(pages >= 3);

  const seqs = (q) => e.conversationHistory(cid, q).items.map((m) => m.sequenceNumber);
  assert.deepEqual(seqs({ direction: 'outbound' }), [3, 5]);
  assert.deepEqual(seqs({ direction: 'inbound', contentType: 'image' }), [2, 7]);
  assert.deepEqual(seqs({ contentType: 'template' }), [5]);
  // since inclusive, until exclusive
  assert.deepEqual(seqs({ since: '2026-01-01T00:10:00Z', until: '2026-01-01T00:40:00Z' }), [3, 4, 5]);
  assert.deepEqual(seqs({ since: '2026-01-01T00:45:00Z' }), [7]);
  assert.deepEqual(seqs({ until: '2026-01-01T00:00:00Z' }), []);
  // a filtered page carries on from its cursor
  const p1 = e.conversationHistory(cid, { direction: 'inbound', limit: 2 });
  assert.deepEqual(p1.items.map((m) => m.sequenceNumber), [1, 2]);
  const rest = [];
  for (let c = p1.next; c !== null;) {
    const p = e.conversationHistory(cid, { direction: 'inbound', limit: 2, cursor: c });
    rest.push(...p.items.map((m) => m.sequenceNumber));
    c = p.next;
  }
  assert.deepEqual(rest, [4, 6, 7]);

  assert.throws(() => e.conversationHistory(cid, { limit: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, { limit: 1001 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, { direction: 'sideways' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, { since: 'tuesday' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, { cursor: 'garbage' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, { unknown: 1 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationHistory(cid, '{'), code('INVALID_JSON'));
  assert.throws(() => e.conversationHistory('no-such-id'), code('NOT_FOUND'));
  at.close();
});

test('conversationList', () => {
  const at = world();
  const e = at(T0);
  const sms = e.conversationStep(message('SM1', { customerId: 'cust-L' }));
  const whatsapp = e.conversationStep(wa('wamid.1', { customerId: 'cust-L' }));
  const other = e.conversationStep(message('SM2', { customerId: 'cust-L', accountId: 'acc-2' }));
  e.conversationStep(message('SM3', { customerId: 'cust-M' }));
  e.conversationTransition(sms.conversation.conversationId, { event: 'resolve' });

  const all = e.conversationList('cust-L');
  assert.equal(all.next, null);
  const ids = all.items.map((c) => c.conversationId).sort();
  assert.deepEqual(ids, [sms, whatsapp, other].map((r) => r.conversation.conversationId).sort());
  assert.ok(all.items.every((c) => c.customerId === 'cust-L'));

  const got = [];
  let cursor = null;
  do {
    const page = e.conversationList('cust-L', cursor === null ? { limit: 1 } : { limit: 1, cursor });
    got.push(...page.items.map((c) => c.conversationId));
    cursor = page.next;
  } while (cursor !== null && got.length < 10);
  assert.deepEqual(got, all.items.map((c) => c.conversationId));

  const resolved = e.conversationList('cust-L', { status: 'resolved' });
  assert.deepEqual(resolved.items.map((c) => c.conversationId), [sms.conversation.conversationId]);
  assert.equal(e.conversationList('cust-L', '{"status": "new"}').items.length, 2);
  assert.deepEqual(e.conversationList('nobody'), { items: [], next: null });

  assert.throws(() => e.conversationList('cust-L', { status: 'bogus' }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationList('cust-L', { limit: -1 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationList('bad id!'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationList(null), TypeError);
  at.close();
});

test('conversationDelivery never moves backwards', () => {
  const at = world();
  const e = at(T0);
  const out = e.conversationStep(wa('wamid.in'));
  const cid = out.conversation.conversationId;
  e.conversationStep(wa('wamid.out-1', { direction: 'outbound' }));
  e.conversationStep(wa('wamid.out-2', { direction: 'outbound' }));
  const e1 = at(T0 + MIN);

  const sent = e1.conversationDelivery({ conversationId: cid, sequenceNumber: 2, status: 'sent' });
  assert.equal(sent.changed, true);
  assert.equal(sent.message.deliveryStatus, 'sent');
  assert.equal(sent.message.updatedAt, '2026-01-01T00:01:00.000Z');
  assert.deepEqual(sent.events, [{
    source: 'omni.workflow',
    detailType: 'message.delivery_updated',
    detail: { messageId: sent.message.messageId, conversationId: cid, previousStatus: 'pending',
      newStatus: 'sent', updatedAt: '2026-01-01T00:01:00.000Z' },
  }]);

  // backwards: not an error, nothing changes
  const back = e1.conversationDelivery({ conversationId: cid, sequenceNumber: 2, status: 'queued' });
  assert.equal(back.changed, false);
  assert.equal(back.message.deliveryStatus, 'sent');
  assert.deepEqual(back.events, []);

  // a carrier status event finds the message by its carrier id
  const delivered = e1.conversationDelivery({
    kind: 'status', carrier: 'whatsapp', carrierMessageId: 'wamid.out-1', status: 'delivered',
    timestamp: '2026-01-01T00:01:00Z',
  });
  assert.equal(delivered.changed, true);
  assert.equal(delivered.message.sequenceNumber, 2);
  assert.equal(delivered.events[0].detail.previousStatus, 'sent');
  const read = e1.conversationDelivery(JSON.stringify({ conversationId: cid, sequenceNumber: 2, status: 'read' }));
  assert.equal(read.changed, true);
  // read is final
  for (const status of ['failed', 'delivered', 'sent', 'undelivered']) {
    const r = e1.conversationDelivery({ conversationId: cid, sequenceNumber: 2, status });
    assert.equal(r.changed, false, status);
    assert.equal(r.message.deliveryStatus, 'read');
  }
  // failed from pending, with the carrier's error; final too
  const failed = e1.conversationDelivery({ conversationId: cid, sequenceNumber: 3, status: 'failed',
    errorCode: 131047, errorMessage: 'Re-engagement message' });
  assert.equal(failed.changed, true);
  assert.equal(failed.message.errorCode, 131047);
  assert.equal(e1.conversationDelivery({ conversationId: cid, sequenceNumber: 3, status: 'delivered' }).changed,
    false);
  const history = e1.conversationHistory(cid).items.map((m) => m.deliveryStatus);
  assert.deepEqual(history, ['processing', 'read', 'failed']);

  assert.throws(() => e1.conversationDelivery({ conversationId: cid, sequenceNumber: 9, status: 'sent' }),
    code('NOT_FOUND'));
  // an unknown carrier id is parked, not an error
  assert.deepEqual(e1.conversationDelivery({ carrier: 'whatsapp', carrierMessageId: 'nope', status: 'sent' }),
    { changed: false, parked: true, message: null, events: [] });
  assert.throws(() => e1.conversationDelivery({ conversationId: cid, sequenceNumber: 2, status: 'bogus' }),
    code('INVALID_ARGUMENT'));
  assert.throws(() => e1.conversationDelivery({}), code('INVALID_ARGUMENT'));
  assert.throws(() => e1.conversationDelivery('{'), code('INVALID_JSON'));
  at.close();
});

test('conversationDelivery attaches the provider id and applies parked statuses', () => {
  const at = world();
  const e = at(T0);
  const out = e.conversationStep(message('idem-1', { direction: 'outbound' }));
  const cid = out.conversation.conversationId;
  const seq = out.messageState.sequenceNumber;
  // the carrier's callbacks come before the provider's answer was attached
  for (const status of ['delivered', 'sent']) {
    assert.deepEqual(e.conversationDelivery({ kind: 'status', carrier: 'twilio', carrierMessageId: 'SM9', status }),
      { changed: false, parked: true, message: null, events: [] });
  }
  const attach = { conversationId: cid, sequenceNumber: seq, carrier: 'twilio', carrierMessageId: 'SM9',
    status: 'queued' };
  const r = e.conversationDelivery(attach);
  assert.equal(r.changed, true);
  assert.equal(r.parked, false);
  assert.equal(r.message.carrierMessageId, 'SM9');
  assert.equal(r.message.steppedMessageId, 'idem-1');
  assert.equal(r.message.deliveryStatus, 'delivered');
  assert.deepEqual(r.events.map((ev) => [ev.detail.previousStatus, ev.detail.newStatus]),
    [['pending', 'queued'], ['queued', 'delivered']]);
  assert.equal(e.conversationDelivery(JSON.stringify(attach)).changed, false);
  const read = e.conversationDelivery({ carrier: 'twilio', carrierMessageId: 'SM9', status: 'read' });
  assert.equal(read.message.deliveryStatus, 'read');
  // errors
  assert.throws(() => e.conversationDelivery({ ...attach, sequenceNumber: 9 }), code('NOT_FOUND'));
  const other = e.conversationStep(message('idem-2', { direction: 'outbound' }));
  assert.throws(() => e.conversationDelivery({ ...attach, sequenceNumber: other.messageState.sequenceNumber }),
    code('ALREADY_EXISTS'));
  assert.throws(() => e.conversationDelivery({ ...attach, carrier: 'Twilio' }), code('INVALID_ARGUMENT'));
  at.close();
});

test('conversationDelete', () => {
  const at = world();
  const e = at(T0);
  const first = e.conversationStep(message('SM1'));
  const cid = first.conversation.conversationId;
  e.conversationStep(message('SM2'));
  const e1 = at(T0 + MIN);
  const del = e1.conversationDelete(cid);
  assert.deepEqual(del, { events: [{
    source: 'omni.workflow',
    detailType: 'conversation.deleted',
    detail: { conversationId: cid, deletedAt: '2026-01-01T00:01:00.000Z' },
  }] });
  assert.throws(() => e1.conversationGet(cid), code('NOT_FOUND'));
  assert.throws(() => e1.conversationHistory(cid), code('NOT_FOUND'));
  assert.throws(() => e1.conversationDelete(cid), code('NOT_FOUND'));
  assert.deepEqual(e1.conversationList('cust-1').items, []);
  // the next message starts a new conversation
  const next = e1.conversationStep(message('SM3'));
  assert.notEqual(next.conversation.conversationId, cid);
  assert.equal(next.messageState.sequenceNumber, 1);
  assert.deepEqual(types(next), ['conversation.created', 'message.created']);
  assert.throws(() => e1.conversationDelete('bad id'), code('INVALID_ARGUMENT'));
  assert.throws(() => e1.conversationDelete(undefined), TypeError);
  at.close();
});

test('conversation settings', () => {
  const at = world();
  const e = at(T0);
  assert.throws(() => e.conversationSettingsGet('acc-S'), code('NOT_FOUND'));
  assert.equal(e.conversationSettingsSet('acc-S', { inactivityTimeoutMs: 10 * MIN, dedupeWindowMs: HOUR }),
    undefined);
  assert.deepEqual(e.conversationSettingsGet('acc-S'), { inactivityTimeoutMs: 10 * MIN, dedupeWindowMs: HOUR });

  // the account's inactivity timeout reopens a conversation after 10 minutes ...
  const m = (id) => message(id, { accountId: 'acc-S' });
  const cid = e.conversationStep(m('SM1')).conversation.conversationId;
  assert.equal(at(T0 + 5 * MIN).conversationStep(m('SM2')).conversation.status, 'active');
  const late = at(T0 + 20 * MIN).conversationStep(m('SM3'));
  assert.equal(late.conversation.conversationId, cid);
  assert.equal(late.conversation.status, 'reopened');
  // ... and its dedupe window forgets a message id after an hour
  assert.equal(at(T0 + 30 * MIN).conversationStep(m('SM1')).duplicate, true);
  const later = at(T0 + 2 * HOUR).conversationStep(m('SM1'));
  assert.equal(later.duplicate, false);
  assert.equal(later.messageState.sequenceNumber, 4);

  // set replaces the document
  e.conversationSettingsSet('acc-S', '{"dedupeWindowMs": 0}');
  assert.deepEqual(e.conversationSettingsGet('acc-S'), { dedupeWindowMs: 0 });
  e.conversationSettingsSet('acc-S', {});
  assert.deepEqual(e.conversationSettingsGet('acc-S'), {});

  assert.throws(() => e.conversationSettingsSet('acc-S', { maxAttempts: 3 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsSet('acc-S', { inactivityTimeoutMs: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsSet('acc-S', { dedupeWindowMs: 2 ** 41 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsSet('acc-S', '[]'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsSet('acc-S', '{'), code('INVALID_JSON'));
  assert.throws(() => e.conversationSettingsSet('bad id!', {}), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsGet('bad id!'), code('INVALID_ARGUMENT'));
  assert.deepEqual(e.conversationSettingsGet('acc-S'), {}); // unchanged by the failures
  at.close();
});

test('conversationStep errors', () => {
  const at = world();
  const e = at(T0);
  assert.throws(() => e.conversationStep('{'), code('INVALID_JSON'));
  assert.throws(() => e.conversationStep({}), code('INVALID_ARGUMENT'));
  const without = message('SM1');
  delete without.identity;
  assert.throws(() => e.conversationStep(without), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1', { customerId: 'bad id' })), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1', { accountId: '' })), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1', { direction: 'up' })), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1', { channel: 'SMS!' })), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('x'.repeat(257))), code('INVALID_ARGUMENT'));
  const big = message('SM1');
  big.enrichedMessage.content = 'x'.repeat(257 * 1024);
  assert.throws(() => e.conversationStep(big), code('PAYLOAD_TOO_LARGE'));
  assert.throws(() => e.conversationStep({ ...message('SM1'), pad: 'x'.repeat(1024 * 1024) }),
    code('PAYLOAD_TOO_LARGE'));
  assert.throws(() => e.conversationStep(message('SM1'), { maxAttempts: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1'), { maxAttempts: 65 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1'), { inactivityTimeoutMs: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1'), { bogus: 1 }), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationStep(message('SM1'), '{'), code('INVALID_JSON'));
  assert.throws(() => e.conversationStep(message('SM1'), 7), code('INVALID_ARGUMENT')); // "7"
  assert.throws(() => e.conversationStep(() => {}), TypeError);
  // nothing was recorded by the failures
  assert.deepEqual(e.conversationList('cust-1'), { items: [], next: null });
  assert.throws(() => e.conversationGet('no-such-id'), code('NOT_FOUND'));
  assert.throws(() => e.conversationGet(''), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationGet('a\u0000b'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationGet(42), TypeError);

  // a closed engine
  e.close();
  assert.throws(() => e.conversationStep(message('SM1')), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationWindow('x'), code('INVALID_ARGUMENT'));
  assert.throws(() => e.conversationSettingsSet('acc-1', {}), code('INVALID_ARGUMENT'));
  at.close();
});

test('steps from worker threads record every message exactly once', async () => {
  const { Worker } = require('node:worker_threads');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-conv-'));
  dirs.push(dir);
  const storage = 'sqlite:' + path.join(dir, 'conversations.db');
  const src = `
    const { workerData, parentPort } = require('node:worker_threads');
    const omni = require(workerData.module);
    const e = new omni.Engine({ storage: workerData.storage, random: { seed: workerData.seed },
                                clock: { fixed: '2026-01-01T00:00:00Z' } });
    const seqs = [];
    for (let i = 0; i < workerData.count; i++) {
      const id = 'W' + workerData.seed + '-' + i;
      const ev = { correlationId: id, identity: { customerId: 'cust-race' },
                   routing: { accountId: 'acc-1' },
                   enrichedMessage: { id, carrier: 'twilio', channelType: 'sms', content: 'x',
                                      contentType: 'text', timestamp: '2026-01-01T00:00:00Z' } };
      for (let attempt = 0; ; attempt++) {
        try {
          seqs.push(e.conversationStep(ev, { maxAttempts: 64 }).messageState.sequenceNumber);
          break;
        } catch (err) {
          if (!err.retryable || attempt > 50) throw err;
        }
      }
    }
    e.close();
    parentPort.postMessage(seqs);`;
  const workers = [11, 12, 13, 14].map((s) => new Promise((resolve, reject) => {
    const w = new Worker(src, {
      eval: true,
      workerData: { module: path.join(__dirname, '..'), storage, seed: s, count: 8 },
    });
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const all = (await Promise.all(workers)).flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 32 }, (_, i) => i + 1));
  const e = new omni.Engine({ storage });
  const list = e.conversationList('cust-race');
  assert.equal(list.items.length, 1);
  assert.equal(list.items[0].metadata.messageCount, 32);
  e.close();
});

// ---- DynamoDB Streams ------------------------------------------------------------------------

test('dynamodbUnmarshall', () => {
  const item = {
    id: { S: 'conv-1' },
    big: { N: '12345678901234567890123456789012345678' },
    neg: { N: '-1.5E3' },
    bin: { B: 'AQID' },
    ok: { BOOL: true },
    none: { NULL: true },
    map: { M: { a: { S: 'x' }, n: { N: '0' } } },
    list: { L: [{ N: '1' }, { S: 'two' }, { L: [] }] },
    ss: { SS: ['a', 'b'] },
    ns: { NS: ['1', '2.5'] },
    bs: { BS: ['AQ=='] },
  };
  const plain = omni.dynamodbUnmarshall(item);
  assert.deepEqual({ ...plain, big: undefined }, {
    id: 'conv-1', big: undefined, neg: -1500, bin: 'AQID', ok: true, none: null,
    map: { a: 'x', n: 0 }, list: [1, 'two', []], ss: ['a', 'b'], ns: [1, 2.5], bs: ['AQ=='],
  });
  // N keeps its 38 digits in the text
  const text = omni.dynamodbUnmarshall(JSON.stringify(item), { raw: true });
  assert.equal(typeof text, 'string');
  assert.ok(text.includes('12345678901234567890123456789012345678'), text);
  assert.deepEqual(omni.dynamodbUnmarshall({}), {});

  assert.throws(() => omni.dynamodbUnmarshall({ a: { S: 'x', N: '1' } }), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall({ a: {} }), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall({ a: { X: 'x' } }), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall({ a: { N: 'abc' } }), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall({ a: { S: 1 } }), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall([1]), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbUnmarshall('{'), code('INVALID_JSON'));
  let deep = { S: 'x' };
  for (let i = 0; i < 200; i++) deep = { M: { a: deep } };
  assert.throws(() => omni.dynamodbUnmarshall({ a: deep }), code('NESTING_TOO_DEEP'));
});

const ARN = (table) =>
  `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`;

test('dynamodbStreamEvents', () => {
  const NOW = Date.parse('2026-02-01T00:00:00Z');
  const record = (eventID, eventName, table, dynamodb) =>
    ({ eventID, eventName, eventSourceARN: ARN(table), dynamodb });
  const event = {
    Records: [
      record('1', 'INSERT', 'conversations', {
        ApproximateCreationDateTime: 1767225600,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        Keys: { conversationId: { S: 'conv-1' } },
        NewImage: {
          conversationId: { S: 'conv-1' }, customerId: { S: 'cust-1' }, accountId: { S: 'acc-1' },
          channel: { M: { type: { S: 'sms' } } }, status: { S: 'new' },
          createdAt: { S: '2026-01-01T00:00:00.000Z' },
        },
      }),
      record('2', 'MODIFY', 'conversations', {
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        OldImage: { id: { S: 'conv-1' }, status: { S: 'new' }, assignedTo: { NULL: true } },
        NewImage: { id: { S: 'conv-1' }, status: { S: 'active' }, assignedTo: { S: 'agent-1' } },
      }),
      record('3', 'INSERT', 'messages', {
        NewImage: {
          messageId: { S: 'm-1' }, conversationId: { S: 'conv-1' }, sequenceNumber: { N: '1' },
          direction: { S: 'inbound' }, createdAt: { S: '2026-01-01T00:00:00.000Z' },
        },
      }),
      record('4', 'MODIFY', 'messages', {
        ApproximateCreationDateTime: 1767225660,
        OldImage: { messageId: { S: 'm-1' }, conversationId: { S: 'conv-1' }, deliveryStatus: { S: 'sent' } },
        NewImage: { messageId: { S: 'm-1' }, conversationId: { S: 'conv-1' }, deliveryStatus: { S: 'delivered' } },
      }),
      record('5', 'INSERT', 'other-table', { NewImage: { id: { S: 'x' } } }),
      record('6', 'MODIFY', 'conversations', { StreamViewType: 'KEYS_ONLY', Keys: { id: { S: 'conv-1' } } }),
      record('7', 'INSERT', 'conversations', { NewImage: { conversationId: { N: 'nope' } } }),
      record('8', 'REMOVE', 'conversations', {
        ApproximateCreationDateTime: 1767225720,
        OldImage: { id: { S: 'conv-1' }, status: { S: 'active' } },
      }),
      record('9', 'MODIFY', 'conversations', {
        OldImage: { id: { S: 'conv-2' }, status: { S: 'new' } },
        NewImage: { id: { S: 'conv-2' }, status: { S: 'new' } },
      }),
    ],
  };
  const out = omni.dynamodbStreamEvents(event, NOW);
  assert.deepEqual(out.records.map((r) => [r.eventID, r.status]), [
    ['1', 'success'], ['2', 'success'], ['3', 'success'], ['4', 'success'], ['5', 'skipped'],
    ['6', 'skipped'], ['7', 'failed'], ['8', 'success'], ['9', 'skipped'],
  ]);
  assert.equal(typeof out.records[6].error, 'string');
  assert.ok(out.records[6].error.length > 0);
  assert.deepEqual(out.events, [
    { source: 'omni.workflow', detailType: 'conversation.created', detail: {
      conversationId: 'conv-1', customerId: 'cust-1', accountId: 'acc-1', channel: { type: 'sms' },
      status: 'new', createdAt: '2026-01-01T00:00:00.000Z' } },
    { source: 'omni.workflow', detailType: 'conversation.status_changed', detail: {
      conversationId: 'conv-1', previousStatus: 'new', newStatus: 'active',
      changedAt: '2026-02-01T00:00:00.000Z' } }, // no ApproximateCreationDateTime: nowMs
    { source: 'omni.workflow', detailType: 'conversation.assigned', detail: {
      conversationId: 'conv-1', previousAssignee: null, newAssignee: 'agent-1',
      assignedAt: '2026-02-01T00:00:00.000Z' } },
    { source: 'omni.workflow', detailType: 'message.created', detail: {
      messageId: 'm-1', conversationId: 'conv-1', sequenceNumber: 1, direction: 'inbound',
      createdAt: '2026-01-01T00:00:00.000Z' } },
    { source: 'omni.workflow', detailType: 'message.delivery_updated', detail: {
      messageId: 'm-1', conversationId: 'conv-1', previousStatus: 'sent', newStatus: 'delivered',
      updatedAt: '2026-01-01T00:01:00.000Z' } },
    { source: 'omni.workflow', detailType: 'conversation.deleted', detail: {
      conversationId: 'conv-1', deletedAt: '2026-01-01T00:02:00.000Z' } },
  ]);
  // JSON text and a Date work as well
  assert.deepEqual(omni.dynamodbStreamEvents(JSON.stringify(event), new Date(NOW)), out);
  assert.deepEqual(omni.dynamodbStreamEvents({ Records: [] }), { events: [], records: [] });

  const bad = omni.dynamodbStreamEvents({ Records: [1] }, NOW);
  assert.equal(bad.records[0].status, 'failed');
  assert.throws(() => omni.dynamodbStreamEvents({}, NOW), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbStreamEvents({ Records: {} }, NOW), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbStreamEvents([], NOW), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbStreamEvents('{', NOW), code('INVALID_JSON'));
  assert.throws(() => omni.dynamodbStreamEvents({ Records: [] }, 1.5), code('INVALID_ARGUMENT'));
  assert.throws(() => omni.dynamodbStreamEvents({ Records: [], pad: 'x'.repeat(6 * 1024 * 1024) }, NOW),
    code('PAYLOAD_TOO_LARGE'));
});
