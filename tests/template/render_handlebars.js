#!/usr/bin/env node
// Renders every case of tests/data/templates/cases.json with handlebars.js
// (the pinned version installed by run_differential.sh) and writes
// {"<name>": {"output": "..."} | {"error": "..."}} to OUT_JSON, the
// expected outputs that the C driver compares libomni's bytes with.
//
// usage: render_handlebars.js HANDLEBARS_PACKAGE_DIR CASES_JSON OUT_JSON
//
// The helpers registered here are the JavaScript twins of the ones the C
// driver (differential.c) registers, and of libomni's built-in notification
// helpers (eq, ne, gt, lt, and, or, not, uppercase, lowercase, truncate,
// default), so that cases using them compare like for like.
'use strict';

const fs = require('fs');

const [pkgDir, casesPath, outPath] = process.argv.slice(2);
if (!pkgDir || !casesPath || !outPath) {
  process.stderr.write('usage: render_handlebars.js HANDLEBARS_DIR CASES_JSON OUT_JSON\n');
  process.exit(2);
}
const Handlebars = require(pkgDir);
if (Handlebars.VERSION !== '4.7.8') {
  process.stderr.write(`expected handlebars 4.7.8, found ${Handlebars.VERSION}\n`);
  process.exit(2);
}

const truthy = (v) => (Array.isArray(v) ? v.length > 0 : !!v);

// A condition: its value, or in block form fn / inverse by it.
function condition(test) {
  return function (...args) {
    const options = args.pop();
    const r = test(...args);
    if (options.fn) return r ? options.fn(this) : options.inverse(this);
    return r;
  };
}

function text(v) {
  return v === undefined || v === null ? '' : String(v);
}

// A helper taking its parameters as an array (without handlebars' options
// object), as libomni's helpers read them: a missing parameter is undefined.
function h(fn) {
  return function (...args) {
    const options = args.pop();
    return fn.call(this, args, options);
  };
}

function registerHelpers(env, options) {
  const esc = env.Utils.escapeExpression;
  // libomni's built-in notification helpers
  env.registerHelper({
    eq: condition((a, b) => a === b),
    ne: condition((a, b) => a !== b),
    gt: condition((a, b) => a > b),
    lt: condition((a, b) => a < b),
    and: condition((...xs) => xs.length > 0 && xs.every(truthy)),
    or: condition((...xs) => xs.some(truthy)),
    not: condition((a) => !truthy(a)),
    uppercase: h(([s]) => text(s).toUpperCase()),
    lowercase: h(([s]) => text(s).toLowerCase()),
    truncate: h(([s, n, sfx]) => {
      const cps = Array.from(text(s));
      const suffix = Array.from(text(sfx));
      if (cps.length <= n) return cps.join('');
      const fits = suffix.length <= n;
      return cps.slice(0, fits ? n - suffix.length : n).join('') + (fits ? suffix.join('') : '');
    }),
    default: h((args) => {
      for (const v of args) if (!(v === undefined || v === null || v === '')) return v;
      return args.length ? args[args.length - 1] : undefined;
    }),
  });
  // the driver's custom helpers
  env.registerHelper({
    shout: h(([s]) => text(s).toUpperCase() + '!'),
    bold: h(function (args, o) {
      return '<b>' + o.fn(this) + '</b>';
    }),
    link: h(([label, url]) =>
      new env.SafeString('<a href="' + esc(url) + '">' + esc(label) + '</a>')),
    concat: h((args) => args.join('')),
    hashjson: h((args, o) => JSON.stringify(o.hash)),
    list: h(([items], o) => items.map((it) => o.fn(it)).join('')),
    ifeven: h(function ([n], o) {
      return typeof n === 'number' && n % 2 === 0 ? o.fn(this) : o.inverse(this);
    }),
    add: h(([a, b]) => Number(a) + Number(b)),
    safe: h(([s]) => new env.SafeString(text(s))),
    json: h(([v]) => JSON.stringify(v)),
    withx: h(([v], o) => o.fn({ x: v })),
    echo: h(([v]) => v),
    nullish: () => null,
    undef: () => undefined,
    fail: () => {
      throw new Error('boom');
    },
    ctx: function () {
      return JSON.stringify(this);
    },
    name: h((args, o) => o.name),
    isblock: h((args, o) => (o.fn ? 'block' : 'inline')),
  });
  if (options.includeZero) {
    // the template option "includeZero": the default of #if's hash argument
    const original = env.helpers['if'];
    env.registerHelper('if', function (conditional, opts) {
      if (opts && opts.hash && !('includeZero' in opts.hash)) {
        opts.hash = Object.assign({ includeZero: true }, opts.hash);
      }
      return original.apply(this, arguments);
    });
  }
}

const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const results = {};
for (const c of cases) {
  const options = c.options || {};
  const env = Handlebars.create();
  registerHelpers(env, options);
  const compileOptions = {};
  if (options.escape === 'none') compileOptions.noEscape = true;
  try {
    const template = env.compile(c.template, compileOptions);
    const data = c.data === undefined ? {} : c.data;
    results[c.name] = { output: template(data, { partials: c.partials || {} }) };
  } catch (e) {
    results[c.name] = { error: String(e && e.message).split('\n')[0] };
  }
}
fs.writeFileSync(outPath, JSON.stringify(results));
process.stdout.write(`rendered ${cases.length} cases with handlebars ${Handlebars.VERSION}\n`);
