#!/usr/bin/env node
// The JavaScript side of bench/bench_rules.c. Reads the manifest the
// benchmark wrote (the generated rule sets and facts), and for each case
// measures, per fact:
//   jre                 json-rules-engine as shipped (Engine with
//                       allowUndefinedFacts: true; await engine.run(fact))
//   jre-pathresolver    the same with the pathResolver option set to a plain
//                       dotted-path walk
//   plain-js            a plain evaluator written for the benchmark: a loop
//                       over the rules in priority order evaluating each
//                       condition tree directly (no indexing), parsed facts
//   plain-js-json       the same with JSON.parse of the fact text included
// json-rules-engine runs only the cases in its format (it has no startsWith:
// the "prefix" family is RoutingRule-format, for libomni and plain-js only).
// Prints one JSON line per measurement:
// {"family","rules","facts" (how many were run),"engine","ns_per_fact"
//  (median of batches, wall clock),"cpu_ns_per_fact","batches","matches"}
// where "matches" lists the matched rule indices of every fact in the order
// the engine reported them: ids joined by "," and facts by ";" (recorded in
// the first pass over the facts, which is also timed).
//
// usage: rules_peer.js MANIFEST_JSON CACHE_DIR [--smoke] [--batches N] [--no-jre]
//                      [--jre-facts N|all]
// json-rules-engine@7.3.1 is loaded from CACHE_DIR/node_modules; when it is
// not there it is installed with npm (except with --smoke, which then reports
// {"error": ...} once and goes on with the plain evaluator).
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const VERSION = '7.3.1';
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const noJre = args.includes('--no-jre');
const ji = args.indexOf('--jre-facts');
// json-rules-engine takes about 35 us per rule and fact at 10,000 rules: by
// default it runs on the first max(50, 500,000 / rules) facts of a case
// (all of them up to 500 rules); --jre-facts all (or N) overrides that.
const jreFactsArg = ji >= 0 ? args[ji + 1] : undefined;
const jreFacts = (rules, n) => {
  if (smoke || jreFactsArg === 'all') return n;
  const k = parseInt(jreFactsArg, 10);
  if (k > 0) return Math.min(n, k);
  return Math.min(n, Math.max(50, Math.floor(5e5 / rules)));
};
const bi = args.indexOf('--batches');
const maxBatches = bi >= 0 ? Math.max(1, parseInt(args[bi + 1], 10) || 7) : 7;
const [manifestPath, cacheDir] = args.filter((a, i) => !a.startsWith('--') &&
  args[i - 1] !== '--batches' && args[i - 1] !== '--jre-facts');

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function loadJre() {
  const pkg = path.join(cacheDir, 'node_modules', 'json-rules-engine');
  const tryLoad = () => {
    try {
      const v = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
      return v === VERSION ? require(pkg) : null;
    } catch (e) {
      return null;
    }
  };
  let m = tryLoad();
  if (m || smoke) return m;
  fs.mkdirSync(cacheDir, { recursive: true });
  const pj = path.join(cacheDir, 'package.json');
  if (!fs.existsSync(pj)) fs.writeFileSync(pj, '{"private":true}\n');
  try {
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error',
      `json-rules-engine@${VERSION}`], { cwd: cacheDir, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    return null;
  }
  return tryLoad();
}

// ---- the plain evaluator ---------------------------------------------------
// What a JavaScript developer would write for these rules: paths split once
// when the rules are loaded, then per fact a loop over the rules in priority
// order (higher first, ties in document order) walking each condition tree.

function splitJsonPath(p) {
  // the generated paths are all of the form $.a.b.c
  return p === undefined || p === '$' ? [] : p.slice(2).split('.');
}

function compileJre(c) {
  if (c.all) return { all: c.all.map(compileJre) };
  if (c.any) return { any: c.any.map(compileJre) };
  if (c.not) return { not: compileJre(c.not) };
  return { fact: c.fact, keys: splitJsonPath(c.path), op: c.operator, value: c.value };
}

function compileRouting(conds) {
  const leaf = (c) => {
    if (c.all) return { all: c.all.map(leaf) };
    if (c.any) return { any: c.any.map(leaf) };
    if (c.not) return { not: leaf(c.not) };
    const parts = c.field.split('.');
    return { fact: parts[0], keys: parts.slice(1), op: c.operator, value: c.value };
  };
  return Array.isArray(conds) ? { all: conds.map(leaf) } : leaf(conds);
}

function resolve(facts, c) {
  let v = facts[c.fact];
  for (let i = 0; i < c.keys.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[c.keys[i]];
  }
  return v;
}

function test(c, facts) {
  if (c.all) {
    for (let i = 0; i < c.all.length; i++) if (!test(c.all[i], facts)) return false;
    return true;
  }
  if (c.any) {
    for (let i = 0; i < c.any.length; i++) if (test(c.any[i], facts)) return true;
    return false;
  }
  if (c.not) return !test(c.not, facts);
  const v = resolve(facts, c);
  switch (c.op) {
    // json-rules-engine's operators, with its semantics
    case 'equal': return v === c.value;
    case 'notEqual': return v !== c.value;
    case 'in': return c.value.indexOf(v) > -1;
    case 'notIn': return c.value.indexOf(v) === -1;
    case 'contains': return Array.isArray(v) && v.indexOf(c.value) > -1;
    case 'doesNotContain': return Array.isArray(v) && v.indexOf(c.value) === -1;
    case 'lessThan': return typeof v === 'number' && v < c.value;
    case 'lessThanInclusive': return typeof v === 'number' && v <= c.value;
    case 'greaterThan': return typeof v === 'number' && v > c.value;
    case 'greaterThanInclusive': return typeof v === 'number' && v >= c.value;
    // RoutingRule's (the generated prefix family uses only these on strings)
    case 'equals': return v === c.value;
    case 'startsWith': return typeof v === 'string' && v.startsWith(c.value);
    default: throw new Error(`operator ${c.op} not supported by the plain evaluator`);
  }
}

function plainEvaluator(rules, format) {
  const compiled = rules.map((r, index) => ({
    id: format === 'jre' ? r.name : r.id,
    index,
    priority: r.priority === undefined ? (format === 'jre' ? 1 : 0) : r.priority,
    cond: format === 'jre' ? compileJre(r.conditions) : compileRouting(r.conditions),
  }));
  compiled.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return (facts) => {
    const matched = [];
    for (let i = 0; i < compiled.length; i++) {
      if (test(compiled[i].cond, facts)) matched.push(compiled[i].id);
    }
    return matched;
  };
}

// ---- json-rules-engine -------------------------------------------------------

// The pathResolver option: a plain dotted-path walk instead of jsonpath-plus.
function dottedPathResolver(value, p) {
  const keys = p.slice(2).split('.');
  let v = value;
  for (let i = 0; i < keys.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[keys[i]];
  }
  return v;
}

function jreEngine(jre, rules, withResolver) {
  const opts = { allowUndefinedFacts: true };
  if (withResolver) opts.pathResolver = dottedPathResolver;
  const engine = new jre.Engine([], opts);
  for (const r of rules) engine.addRule(r);
  return async (facts) => {
    const { results } = await engine.run(facts);
    return results.map((x) => x.name);
  };
}

// ---- measuring ----------------------------------------------------------------

const hr = () => process.hrtime.bigint();

function encode(lists, indexOf) {
  return lists.map((ids) => ids.map((id) => indexOf.get(id)).join(',')).join(';');
}

// Runs passes over the inputs: the first records the matches (and is
// timed); when it took less than half the time budget, batches of whole
// passes (each at least 50 ms; two warm-up batches unless a batch takes over
// a second) follow up to maxBatches or until the budget is spent. Returns
// the median wall clock and CPU ns per fact.
async function measure(evalOne, inputs, isAsync, budgetNs) {
  const n = inputs.length;
  const matches = new Array(n);
  const start = hr();
  let t0 = hr();
  const c0 = process.cpuUsage();
  if (isAsync) {
    for (let i = 0; i < n; i++) matches[i] = await evalOne(inputs[i]);
  } else {
    for (let i = 0; i < n; i++) matches[i] = evalOne(inputs[i]);
  }
  const firstNs = Number(hr() - t0);
  const firstCpu = process.cpuUsage(c0);
  const first = { matches, wall: firstNs / n, cpu: ((firstCpu.user + firstCpu.system) * 1000) / n,
    batches: 1 };
  if (smoke || firstNs > budgetNs / 2) return first;
  const passes = Math.max(1, Math.ceil(5e7 / Math.max(firstNs, 1)));
  const timed = [];
  const timedCpu = [];
  let sink = 0;
  for (let b = 0; b < maxBatches + 2; b++) {
    if (Number(hr() - start) > budgetNs) break;
    t0 = hr();
    const cb = process.cpuUsage();
    for (let p = 0; p < passes; p++) {
      if (isAsync) {
        for (let i = 0; i < n; i++) sink += (await evalOne(inputs[i])).length;
      } else {
        for (let i = 0; i < n; i++) sink += evalOne(inputs[i]).length;
      }
    }
    const batchNs = Number(hr() - t0);
    const dc = process.cpuUsage(cb);
    if (b >= 2 || batchNs > 1e9) {
      timed.push(batchNs / (passes * n));
      timedCpu.push(((dc.user + dc.system) * 1000) / (passes * n));
    }
  }
  if (sink < 0) process.stdout.write('');
  if (timed.length === 0) return first;
  const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { matches, wall: med(timed), cpu: med(timedCpu), batches: timed.length };
}

async function main() {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  let jre = null;
  if (!noJre && manifest.cases.some((c) => c.format === 'jre')) {
    jre = loadJre();
    if (!jre) out({ error: `json-rules-engine@${VERSION} is not installed in ${cacheDir}` });
  }
  for (const c of manifest.cases) {
    const rules = JSON.parse(fs.readFileSync(c.rules, 'utf8'));
    const texts = fs.readFileSync(c.facts, 'utf8').split('\n').filter((l) => l.length > 0);
    const parsed = texts.map((t) => JSON.parse(t));
    const indexOf = new Map(rules.map((r, i) => [c.format === 'jre' ? r.name : r.id, i]));
    const base = { family: c.family, rules: rules.length };
    const report = (engine, m, extra) => out({ ...base, facts: m.matches.length, engine,
      ns_per_fact: m.wall, cpu_ns_per_fact: m.cpu, batches: m.batches, ...extra,
      matches: encode(m.matches, indexOf) });

    const plain = plainEvaluator(rules, c.format);
    report('plain-js', await measure(plain, parsed, false, 4e9));
    report('plain-js-json', await measure((t) => plain(JSON.parse(t)), texts, false, 4e9));
    if (jre && c.format === 'jre') {
      const version = VERSION;
      const sub = parsed.slice(0, jreFacts(rules.length, parsed.length));
      report('jre', await measure(jreEngine(jre, rules, false), sub, true, 8e9), { version });
      report('jre-pathresolver', await measure(jreEngine(jre, rules, true), sub, true, 8e9),
        { version });
    }
  }
}

main().catch((e) => {
  out({ error: String(e && e.stack ? e.stack : e) });
  process.exit(0);
});
