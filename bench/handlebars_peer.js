#!/usr/bin/env node
// The handlebars.js side of bench/bench_template.c: compiles each template
// of bench/data/templates.json once (Handlebars.compile, then a warm-up so
// the compiled function is optimized), then renders it in timed batches with
// already parsed data and prints one JSON line per template:
// {"name": "...", "ns_per_op": median wall clock, "cpu_ns_per_op": median
// process CPU time, "batches": N}.
//
// usage: handlebars_peer.js TEMPLATES_JSON CACHE_DIR [--smoke] [--batches N]
// handlebars@4.7.8 is loaded from CACHE_DIR/node_modules; when it is not
// there it is installed with npm (except with --smoke, which then reports
// {"error": ...} and exits 0).
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const VERSION = '4.7.8';
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const bi = args.indexOf('--batches');
const batches = bi >= 0 ? Math.max(1, parseInt(args[bi + 1], 10) || 7) : 7;
const [templatesPath, cacheDir] = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--batches');

function loadHandlebars() {
  const pkg = path.join(cacheDir, 'node_modules', 'handlebars');
  const tryLoad = () => {
    try {
      const h = require(pkg);
      return h.VERSION === VERSION ? h : null;
    } catch (e) {
      return null;
    }
  };
  let h = tryLoad();
  if (h || smoke) return h;
  fs.mkdirSync(cacheDir, { recursive: true });
  const pj = path.join(cacheDir, 'package.json');
  if (!fs.existsSync(pj)) fs.writeFileSync(pj, '{"private":true}\n');
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error',
    `handlebars@${VERSION}`], { cwd: cacheDir, stdio: ['ignore', 'ignore', 'inherit'] });
  return tryLoad();
}

const Handlebars = loadHandlebars();
if (!Handlebars) {
  process.stdout.write(JSON.stringify({ error: `handlebars@${VERSION} is not installed in ${cacheDir}` }) + '\n');
  process.exit(0);
}

const spec = JSON.parse(fs.readFileSync(templatesPath, 'utf8'));
const now = () => process.hrtime.bigint();

for (const t of spec.templates) {
  const env = Handlebars.create();
  for (const [name, src] of Object.entries(t.partials || {})) env.registerPartial(name, src);
  const noEscape = (t.options || {}).escape === 'none';
  const render = env.compile(t.template, { noEscape });
  const data = t.data; // parsed once, like omni_template_render_data
  let sink = 0;
  if (smoke) {
    sink += render(data).length;
    process.stdout.write(JSON.stringify({ name: t.name, ns_per_op: 0, smoke: true, bytes: sink }) + '\n');
    continue;
  }
  // warm up, then calibrate a batch to about 100 ms
  const warm = Date.now();
  while (Date.now() - warm < 300) sink += render(data).length;
  let iters = 1000;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < iters; i++) sink += render(data).length;
    const dt = Number(now() - t0);
    if (dt > 1e8 || iters > 1e8) break;
    iters = Math.ceil(iters * Math.min(10, (1.1e8 / Math.max(dt, 1))));
  }
  const samples = [];
  const cpu = [];
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    for (let i = 0; i < iters; i++) sink += render(data).length;
    samples.push(Number(now() - t0) / iters);
    const dc = process.cpuUsage(c0);
    cpu.push(((dc.user + dc.system) * 1000) / iters);
  }
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  const cpuMedian = cpu[Math.floor(cpu.length / 2)];
  process.stdout.write(JSON.stringify({ name: t.name, ns_per_op: median, cpu_ns_per_op: cpuMedian, batches, iters, sink: sink % 7 }) + '\n');
}
