#!/usr/bin/env node
/**
 * The functions a V8 CPU profile (`node --cpu-prof`) spent most time in, by self time and
 * by total time (callees included), as Markdown.
 *
 *   node bench/profile-top.mjs FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from './lib.mjs';

const { opt, rest } = parseArgs();
const TOP = Number(opt('--top', '25'));
const prof = JSON.parse(readFileSync(rest[0], 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map();
for (const [i, id] of prof.samples.entries()) dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
const label = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const total = new Map();
for (const [id, ms] of dt) {
  const n = byId.get(id);
  self.set(label(n), (self.get(label(n)) ?? 0) + ms);
  const seen = new Set();
  for (let k = id; k !== undefined; k = parent.get(k)) {
    const l = label(byId.get(k));
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + ms);
  }
}
const sum = [...dt.values()].reduce((a, b) => a + b, 0);
const table = (title, m) => [
  `| ${title} | ms | % |`,
  '|---|---:|---:|',
  ...[...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([l, ms]) => `| ${l} | ${ms.toFixed(0)} | ${((ms / sum) * 100).toFixed(1)} |`),
];
console.log([`${rest[0]}: ${sum.toFixed(0)} ms sampled`, '', ...table('self time', self), '', ...table('total time', total)].join('\n'));
