'use strict';
// Host helpers written in JavaScript, called the way handlebars.js calls them.
const test = require('node:test');
const assert = require('node:assert/strict');
const omni = require('..');

test('a simple helper; its string result is escaped', () => {
  const shout = (s) => s.toUpperCase();
  const t = new omni.Template('{{shout name}}|{{{shout name}}}', { helpers: { shout } });
  assert.equal(t.render({ name: 'tom & jerry' }), 'TOM &amp; JERRY|TOM & JERRY');
  const plain = new omni.Template('{{shout name}}', { helpers: { shout }, escape: 'none' });
  assert.equal(plain.render({ name: 'a<b' }), 'A<B');
  const viaMap = new omni.Template('{{s x}}', { helpers: new Map([['s', shout]]) });
  assert.equal(viaMap.render({ x: 'm' }), 'M');
});

test('arguments, hash and options as handlebars.js passes them', () => {
  const seen = [];
  function probe(...args) {
    seen.push(args);
    return 'ok';
  }
  const t = new omni.Template('{{probe name 42 1.5 true null missing "lit" order items k=1 s="x" o=order}}', {
    helpers: { probe },
  });
  const data = { name: 'Asha', order: { id: 7, tags: ['a'] }, items: [1, 'x'] };
  assert.equal(t.render(data), 'ok');
  const args = seen[0];
  const options = args.pop();
  assert.deepEqual(args, ['Asha', 42, 1.5, true, null, undefined, 'lit', { id: 7, tags: ['a'] }, [1, 'x']]);
  assert.equal(options.name, 'probe');
  assert.deepEqual(options.hash, { k: 1, s: 'x', o: { id: 7, tags: ['a'] } });
  assert.equal(options.fn, undefined); // not a block call
  assert.equal(options.inverse, undefined);
  assert.equal(options.lookupProperty({ a: 1 }, 'a'), 1);
  assert.equal(options.lookupProperty({}, 'constructor'), undefined);
});

test('`this` is the current context', () => {
  const t = new omni.Template('{{#each people}}{{fullName}};{{/each}}{{#with boss}}{{fullName}}{{/with}}', {
    helpers: {
      fullName() {
        return `${this.first} ${this.last}`;
      },
    },
  });
  const data = { people: [{ first: 'A', last: 'B' }, { first: 'C', last: 'D' }], boss: { first: 'E', last: 'F' } };
  assert.equal(t.render(data), 'A B;C D;E F');
  // arrow functions never see `this`; they are not given one (no conversion cost)
  const arrow = new omni.Template('{{a}}', { helpers: { a: () => typeof this } });
  assert.equal(arrow.render({ x: 1 }), 'object'); // the module's `this`, as in JavaScript
});

test('hash arguments', () => {
  const money = (amount, options) => {
    const { currency = 'USD', sep = ' ' } = options.hash;
    return `${currency}${sep}${amount.toFixed(2)}`;
  };
  const t = new omni.Template('{{money total currency="INR"}}|{{money total sep=s currency=c}}|{{money 3}}', {
    helpers: { money },
  });
  assert.equal(t.render({ total: 12.5, s: '-', c: 'EUR' }), 'INR 12.50|EUR-12.50|USD 3.00');
});

test('SafeString results are not escaped (also any object with toHTML)', () => {
  const link = (url, text) => new omni.SafeString(`<a href="${url}">${text}</a>`);
  class ForeignSafe {
    constructor(s) {
      this.s = s;
    }
    toHTML() {
      return this.s;
    }
  }
  const t = new omni.Template('{{link u t}} {{plain u}} {{foreign}}', {
    helpers: { link, plain: (u) => u, foreign: () => new ForeignSafe('<i>f</i>') },
  });
  assert.equal(
    t.render({ u: 'https://x.test/?a=1&b=2', t: 'go' }),
    '<a href="https://x.test/?a=1&b=2">go</a> https://x.test/?a&#x3D;1&amp;b&#x3D;2 <i>f</i>',
  );
  assert.equal(String(new omni.SafeString('x')), 'x');
  assert.equal(new omni.SafeString('y').toHTML(), 'y');
});

test('non-string results are JSON values usable in #if and subexpressions', () => {
  const helpers = {
    isVip: (user) => user.tier === 'gold',
    count: (items) => items.length,
    half: (x) => x / 2,
    nothing: () => undefined,
    nul: () => null,
    pair: () => ['a', 'b'],
    obj: () => ({ k: 'v', n: 1 }),
    big: () => 12n,
    fn: () => () => 1,
  };
  const t = new omni.Template(
    '{{#if (isVip user)}}VIP{{else}}regular{{/if}} {{count items}} {{half 5}} ' +
      "[{{nothing}}{{nul}}] {{pair}} {{lookup (obj) 'k'}} {{#with (obj)}}{{n}}{{/with}} " +
      '{{#if (nothing)}}yes{{else}}no{{/if}} {{isVip user}} {{big}} [{{fn}}]',
    { helpers },
  );
  const data = { user: { tier: 'gold' }, items: [1, 2, 3] };
  assert.equal(t.render(data), 'VIP 3 2.5 [] a,b v 1 no true 12 []');
  data.user.tier = 'silver';
  assert.match(t.render(data), /^regular/);
  // a host helper overrides a built-in of the same name
  const over = new omni.Template('{{uppercase x}}', { helpers: { uppercase: (s) => 'custom:' + s } });
  assert.equal(over.render({ x: 'a' }), 'custom:a');
});

test('block helpers: fn and inverse, with the current or a new context', () => {
  const helpers = {
    bold(options) {
      return '<b>' + options.fn(this) + '</b>';
    },
    eachPair(obj, options) {
      const keys = Object.keys(obj).sort();
      if (keys.length === 0) return options.inverse(this);
      return keys.map((k) => options.fn({ k, v: obj[k] })).join('');
    },
    ifLong(text, options) {
      assert.equal(options.name, 'ifLong');
      const min = options.hash.min ?? 3;
      return text.length >= min ? options.fn() : options.inverse({ short: text });
    },
    withArg(x, options) {
      return options.fn(x); // one of the helper's own arguments: passed back as is
    },
    list(items, options) {
      let out = '<ul>';
      for (const item of items) out += '<li>' + options.fn(item) + '</li>';
      return out + '</ul>';
    },
  };
  const t = new omni.Template(
    '{{#bold}}Hi {{name}}{{/bold}} ' +
      '{{#eachPair prices}}{{k}}={{v}};{{else}}none{{/eachPair}} ' +
      '{{#eachPair empty}}{{k}}{{else}}none {{name}}{{/eachPair}} ' +
      '{{#ifLong name min=5}}long {{name}}{{else}}short {{short}}{{/ifLong}} ' +
      '{{#withArg order}}#{{id}}{{/withArg}} ' +
      '{{#list people}}{{first}}{{/list}}',
    { helpers },
  );
  const data = {
    name: 'Asha',
    prices: { tea: 2, cake: 3.5 },
    empty: {},
    order: { id: 9 },
    people: [{ first: 'A' }, { first: '<B>' }],
  };
  assert.equal(
    t.render(data),
    '<b>Hi Asha</b> cake=3.5;tea=2; none Asha short Asha #9 <ul><li>A</li><li>&lt;B&gt;</li></ul>',
  );
  // the handlebars.js documentation's example: options.fn(this) inside #each
  const doc = new omni.Template('{{#each items}}{{#bold}}{{this}}{{/bold}}{{/each}}', { helpers });
  assert.equal(doc.render({ items: ['x', 'y'] }), '<b>x</b><b>y</b>');
});

test('options.fn after the helper returned is refused', () => {
  let kept;
  const t = new omni.Template('{{#keep}}b{{/keep}}', {
    helpers: {
      keep: (options) => {
        kept = options;
        return 'x';
      },
    },
  });
  assert.equal(t.render({}), 'x');
  assert.throws(() => kept.fn(), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => kept.inverse({ a: 1 }), { code: 'INVALID_ARGUMENT' });
});

test('a helper that throws fails the render with HELPER_ERROR', () => {
  class Boom extends Error {}
  const bad = () => {
    throw new Boom('card number is invalid');
  };
  const t = new omni.Template('a {{bad x}} b', { helpers: { bad } });
  assert.throws(() => t.render({ x: 1 }), (err) => {
    assert.ok(err instanceof omni.OmniError);
    assert.equal(err.code, 'HELPER_ERROR');
    assert.equal(err.status, omni.Status.EHELPER);
    assert.match(err.message, /card number is invalid/);
    assert.match(err.message, /bad/);
    assert.ok(err.cause instanceof Boom);
    return true;
  });
  // thrown non-Error values, errors without a message, TypeErrors from the helper itself
  const cases = {
    str: () => {
      throw 'plain string';
    },
    num: () => {
      throw 42;
    },
    sym: () => {
      throw Symbol('s');
    },
    empty: () => {
      throw new RangeError();
    },
    undef: (x) => x.missing.deeper,
    nul: () => {
      throw null;
    },
    getter: () => {
      throw {
        get message() {
          throw new Error('getter');
        },
      };
    },
  };
  const expect = {
    str: /plain string/,
    num: /42/,
    sym: /not an Error/,
    empty: /RangeError/,
    undef: /Cannot read properties of undefined/,
    nul: /null/,
    getter: /object Object/,
  };
  for (const [name, fn] of Object.entries(cases)) {
    const tc = new omni.Template(`{{${name} nope}}`, { helpers: { [name]: fn } });
    assert.throws(() => tc.render({}), (err) => {
      assert.equal(err.code, 'HELPER_ERROR', name);
      assert.match(err.message, expect[name], name);
      return true;
    });
  }
  // nothing leaks: the next render and other calls work
  assert.equal(new omni.Template('{{ok}}', { helpers: { ok: () => 'fine' } }).render(), 'fine');
  assert.equal(omni.base64Encode('x'), 'eA==');
});

test('errors in the block body keep their code and details', () => {
  const wrap = new omni.Template('{{#wrap}}{{missing}}{{/wrap}}', {
    strict: true,
    helpers: { wrap: (options) => '[' + options.fn() + ']' },
  });
  assert.throws(() => wrap.render({}), { code: 'MISSING_VARIABLE', details: { missing: ['missing'] } });
  const swallow = new omni.Template('{{#s}}{{missing}}{{/s}}', {
    strict: true,
    helpers: {
      s: (options) => {
        try {
          return options.fn();
        } catch {
          return 'swallowed';
        }
      },
    },
  });
  assert.throws(() => swallow.render({}), { code: 'MISSING_VARIABLE' });
});

test('helpers may render other templates (nested renders)', () => {
  const inner = new omni.Template('<{{v}}>');
  const failing = new omni.Template('{{bad}}', {
    helpers: {
      bad: () => {
        throw new Error('inner failure');
      },
    },
  });
  const outer = new omni.Template('{{nest x}}|{{nest y}}', {
    helpers: { nest: (v) => inner.render({ v }) },
    escape: 'none',
  });
  assert.equal(outer.render({ x: 1, y: 'two' }), '<1>|<two>');
  const nf = new omni.Template('{{nf}}', { helpers: { nf: () => failing.render({}) } });
  assert.throws(() => nf.render({}), (err) => {
    assert.equal(err.code, 'HELPER_ERROR');
    assert.ok(err.cause instanceof omni.OmniError);
    assert.equal(err.cause.cause.message, 'inner failure');
    return true;
  });
  // the same template rendered again from inside its own helper
  let depth = 0;
  const self = new omni.Template('({{again}})', {
    helpers: {
      again: () => (++depth < 3 ? new omni.SafeString(self.render({})) : 'end'),
    },
  });
  assert.equal(self.render({}), '(((end)))');
});

test('helper registration errors', () => {
  assert.throws(() => new omni.Template('x', { helpers: { 'bad name': () => 1 } }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new omni.Template('x', { helpers: { h: 'not a function' } }), TypeError);
});

test('runaway recursion in a helper is a clean error', () => {
  const t = new omni.Template('{{r}}', {
    helpers: {
      r: function r() {
        return t.render({});
      },
    },
  });
  assert.throws(() => t.render({}), (err) => {
    assert.equal(err.code, 'HELPER_ERROR');
    let inner = err;
    let depth = 0;
    while (inner.cause) {
      inner = inner.cause;
      depth++;
    }
    assert.equal(inner.code, 'NESTING_TOO_DEEP'); // 64 nested renders, then a clean stop
    assert.equal(depth, 64);
    return true;
  });
  assert.equal(new omni.Template('{{x}}').render({ x: 'still fine' }), 'still fine');
});

test('templates with helpers render in worker threads', async () => {
  const { Worker } = require('node:worker_threads');
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const omni = require(workerData.dir);
    const t = new omni.Template('{{#each items}}{{tag this}}{{/each}}', {
      helpers: { tag: (x) => '[' + x + ']' },
    });
    let out = '';
    for (let i = 0; i < 200; i++) out = t.render({ items: [workerData.n, i] });
    parentPort.postMessage(out);
  `;
  const dir = require('node:path').join(__dirname, '..');
  const runs = [1, 2, 3, 4].map(
    (n) =>
      new Promise((resolve, reject) => {
        const w = new Worker(src, { eval: true, workerData: { dir, n } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  assert.deepEqual(await Promise.all(runs), ['[1][199]', '[2][199]', '[3][199]', '[4][199]']);
});

test('many calls: no handle or memory growth trouble', () => {
  const t = new omni.Template('{{#each items}}{{fmt this}}{{/each}}', {
    helpers: { fmt: (x) => new omni.SafeString(`<${x.n}>`) },
  });
  const items = Array.from({ length: 1000 }, (_, n) => ({ n }));
  const data = new omni.Data({ items });
  let out = '';
  for (let i = 0; i < 20; i++) out = t.render(data);
  assert.equal(out.length, items.map((x) => `<${x.n}>`).join('').length);
});
