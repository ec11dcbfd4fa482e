'use strict';
// Templates: compile and render, escaping modes, partials, strict mode, syntax errors,
// inspect, Data reuse and the handle lifecycle.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

test('render with an object, JSON text, a Buffer and nothing', () => {
  const t = new omni.Template('Hi {{name}}, order {{order.id}} ships {{order.eta}}');
  const data = { name: 'Asha', order: { id: 42, eta: 'today' } };
  assert.equal(t.render(data), 'Hi Asha, order 42 ships today');
  assert.equal(t.render(JSON.stringify(data)), 'Hi Asha, order 42 ships today');
  assert.equal(t.render(Buffer.from(JSON.stringify(data))), 'Hi Asha, order 42 ships today');
  assert.equal(t.render(), 'Hi , order  ships ');
  assert.equal(t.render(null), 'Hi , order  ships ');
  const each = new omni.Template(Buffer.from('{{#each .}}{{.}};{{/each}}'));
  assert.equal(each.render([1, 'two', null, true]), '1;two;;true;');
  const utf8 = new omni.Template('नमस्ते {{name}} ✓');
  assert.equal(utf8.render({ name: 'ಕನ್ನಡ 😀' }), 'नमस्ते ಕನ್ನಡ 😀 ✓');
});

test('escaping modes', () => {
  const nasty = { x: "<a href='x'>&\"`=</a>" };
  // handlebars.js escapes & < > " ' ` =
  assert.equal(
    new omni.Template('{{x}}').render(nasty),
    '&lt;a href&#x3D;&#x27;x&#x27;&gt;&amp;&quot;&#x60;&#x3D;&lt;/a&gt;',
  );
  assert.equal(new omni.Template('{{x}}', { escape: 'none' }).render(nasty), nasty.x);
  assert.equal(new omni.Template('{{{x}}}|{{& x}}').render({ x: '<b>' }), '<b>|<b>');
  const json = new omni.Template('{"text": "{{x}}"}', { escape: 'json' });
  assert.deepEqual(JSON.parse(json.render({ x: 'say "hi"\nnext\\' })), { text: 'say "hi"\nnext\\' });
});

test('modes and options', () => {
  const m = new omni.Template('{{#a}}{{.}}{{/a}}|{{^b}}none{{/b}}', { mode: 'mustache' });
  assert.equal(m.render({ a: [1, 2], b: [] }), '12|none');
  assert.equal(new omni.Template('{{#if n}}y{{else}}n{{/if}}').render({ n: 0 }), 'n');
  assert.equal(new omni.Template('{{#if n}}y{{else}}n{{/if}}', { includeZero: true }).render({ n: 0 }), 'y');
  const t = new omni.Template('{{formatCurrency a "INR"}} {{formatDate d "long"}}', {
    locale: 'hi',
    timeZone: 'Asia/Kolkata',
  });
  assert.equal(t.render({ a: 1234567.5, d: '2026-03-08T20:00:00Z' }), '₹12,34,567.50 9 मार्च 2026');
  assert.throws(() => new omni.Template('x', { mode: 'bogus' }), { code: 'INVALID_CONFIG' });
  assert.throws(() => new omni.Template('x', { escape: 'xml' }), { code: 'INVALID_CONFIG' });
  assert.throws(() => new omni.Template(42), TypeError);
});

test('partials', () => {
  const partials = { line: '{{qty}} x {{name}}', greet: 'Hello {{who}}{{#if punct}}{{punct}}{{/if}}' };
  const t = new omni.Template(
    "{{#each items}}{{> line}}\n{{/each}}{{> greet who=customer punct='!'}}|{{> greet user}}",
    { partials },
  );
  const data = {
    items: [{ qty: 2, name: 'tea' }, { qty: 1, name: 'cake' }],
    customer: 'Ravi',
    user: { who: 'Meera' },
  };
  assert.equal(t.render(data), '2 x tea\n1 x cake\nHello Ravi!|Hello Meera');
  assert.deepEqual(t.inspect().partials.sort(), ['greet', 'line']);
  const viaMap = new omni.Template('{{> p}}', { partials: new Map([['p', 'from a map']]) });
  assert.equal(viaMap.render(), 'from a map');
  const loop = new omni.Template('{{> self}}', { partials: { self: 'x{{> self}}' } });
  assert.throws(() => loop.render({}), { code: 'NESTING_TOO_DEEP' });
  assert.throws(() => new omni.Template('{{> nope}}').render({}), omni.OmniError);
});

test('strict mode lists every missing path', () => {
  const t = new omni.Template('{{a}} {{b.c}} {{#if ok}}{{d}}{{/if}}', { strict: true });
  assert.throws(() => t.render({ b: {}, ok: true }), (err) => {
    assert.ok(err instanceof omni.OmniError);
    assert.equal(err.code, 'MISSING_VARIABLE');
    assert.equal(err.status, omni.Status.EMISSING);
    assert.deepEqual(err.details, { missing: ['a', 'b.c', 'd'] });
    return true;
  });
  assert.equal(t.render({ a: 1, b: { c: 2 }, ok: false }), '1 2 ');
});

test('syntax errors carry line and column', () => {
  assert.throws(() => new omni.Template('Hello\n  {{#if x}}unclosed'), (err) => {
    assert.equal(err.code, 'TEMPLATE_SYNTAX_ERROR');
    assert.equal(err.status, omni.Status.ESYNTAX);
    assert.equal(err.details.line, 2);
    assert.ok(Number.isInteger(err.details.column) && err.details.column > 0);
    assert.match(err.message, /^line 2, column \d+: /);
    return true;
  });
  assert.throws(() => new omni.Template('ok', { partials: { p: '{{/y}}' } }), {
    code: 'TEMPLATE_SYNTAX_ERROR',
    details: { line: 1, column: 1, partial: 'p' },
  });
  assert.throws(() => new omni.Template('{{name}'), { details: { line: 1, column: 7 } });
});

test('bad data', () => {
  const t = new omni.Template('{{x}}');
  assert.throws(() => t.render('{not json'), { code: 'INVALID_JSON' });
  assert.throws(() => new omni.Data('[1,'), { code: 'INVALID_JSON' });
  assert.throws(() => t.render({ x: 1n }), TypeError); // JSON.stringify refuses BigInt
  assert.throws(() => new omni.Data(undefined), TypeError);
});

test('inspect', () => {
  const t = new omni.Template('{{name}} {{order.id}} {{shout x}} {{> footer}}', {
    partials: { footer: 'bye {{sig}}' },
    helpers: { shout: (s) => String(s).toUpperCase() },
  });
  const info = t.inspect();
  assert.deepEqual(Object.keys(info).sort(), ['helpers', 'partials', 'variables']);
  assert.ok(info.variables.includes('name') && info.variables.includes('order.id'));
  assert.ok(info.helpers.includes('shout'));
  assert.deepEqual(info.partials, ['footer']);
});

test('Data is parsed once and reused across templates', () => {
  const data = new omni.Data({ name: 'Asha', items: [{ sku: 'A1', qty: 2 }, { sku: 'B2', qty: 1 }] });
  const sms = new omni.Template('Hi {{name}}, {{items.length}} items');
  const email = new omni.Template('<ul>{{#each items}}<li>{{sku}} x{{qty}}</li>{{/each}}</ul>');
  for (let i = 0; i < 3; i++) {
    assert.equal(sms.render(data), 'Hi Asha, 2 items');
    assert.equal(email.render(data), '<ul><li>A1 x2</li><li>B2 x1</li></ul>');
  }
  assert.deepEqual(data.value().items[1], { sku: 'B2', qty: 1 });
  assert.equal(sms.render(new omni.Data('{"name": "Ravi"}')), 'Hi Ravi,  items');
  assert.equal(data.closed, false);
  data.close();
  data.close();
  assert.equal(data.closed, true);
  assert.throws(() => sms.render(data), { code: 'INVALID_ARGUMENT', message: 'data is closed' });
});

test('close is idempotent; closed templates throw; GC is safe', () => {
  const t = new omni.Template('{{x}}');
  assert.equal(t.render({ x: 1 }), '1');
  t.close();
  t.close();
  assert.equal(t.closed, true);
  assert.throws(() => t.render({}), { code: 'INVALID_ARGUMENT', message: 'template is closed' });
  assert.throws(() => t.inspect(), { code: 'INVALID_ARGUMENT' });
  for (let i = 0; i < 200; i++) {
    new omni.Template('{{h x}}', { helpers: { h: (x) => x } }).render({ x: i });
    new omni.Data([1, 2, 3]);
  }
  if (global.gc) global.gc();
});

test('a helper may close the template and data it is rendering', () => {
  const holder = {};
  const t = new omni.Template('{{closer}} {{x}}', {
    helpers: {
      closer() {
        holder.t.close();
        holder.d.close();
        return 'closed';
      },
    },
  });
  const d = new omni.Data({ x: 'still here' });
  holder.t = t;
  holder.d = d;
  assert.equal(t.render(d), 'closed still here');
  assert.equal(t.closed, true);
  assert.equal(d.closed, true);
  assert.throws(() => t.render({}), { message: 'template is closed' });
});
