#!/usr/bin/env node
/**
 * Draws docs/sync-vs-size.svg from the measured figures in docs/benchmarks.json (written by
 * `bench/sync.mjs --json` and `bench/fetch-vs-mbsync.mjs --json`; nothing here is typed in
 * by hand): on the left the CPU time (user + system, every process of both syncs) of
 * replicating a day of changes against the mailbox's size for mailgit, unison and doveadm
 * — CPU, because on a shared machine wall times measured at different loads do not
 * compare; both axes logarithmic; on the right fetch throughput against mbsync.
 *
 *   node bench/chart.mjs [--figures docs/benchmarks.json] [--out docs/sync-vs-size.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseArgs } from './lib.mjs';

const { opt } = parseArgs();
const FIGURES = opt('--figures', join(ROOT, 'docs/benchmarks.json'));
const OUT = opt('--out', join(ROOT, 'docs/sync-vs-size.svg'));
const figures = JSON.parse(readFileSync(FIGURES, 'utf8'));

const TOOLS = [
  ['mailgit', '#1f77b4'],
  ['unison', '#d62728'],
  ['doveadm', '#2ca02c'],
];
const W = 820;
const H = 380;
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const text = (x, y, s, extra = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`;
const sizeLabel = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/** A nice upper bound for an axis: 1, 2 or 5 times a power of ten at or above `v`. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}

/** The left panel: seconds per synced day against messages (log scale), one line per tool. */
function syncPanel(rows, x0, y0, w, h) {
  const sizes = rows.map((r) => r.messages);
  const lo = Math.log10(Math.min(...sizes)) - 0.15;
  const hi = Math.log10(Math.max(...sizes)) + 0.15;
  const cpu = (r, t) => r.cpu?.[t];
  // Log scale on both axes: the sizes span 100×, and so do the seconds.
  const values = rows.flatMap((r) => TOOLS.map(([t]) => cpu(r, t)).filter((v) => v !== undefined));
  const yMax = niceMax(Math.max(...values));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const X = (n) => x0 + ((Math.log10(n) - lo) / (hi - lo)) * w;
  const Y = (s) => y0 + h - ((Math.log10(s) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * h;
  const out = [`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`];
  for (let p = yMin; p <= yMax; p *= 10) {
    for (const v of [p, 2 * p, 5 * p].filter((x) => x <= yMax)) {
      out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/>`, text(x0 - 6, Y(v) + 4, `${+v.toFixed(2)} s`, 'text-anchor="end"'));
    }
  }
  for (const n of sizes) out.push(text(X(n), y0 + h + 16, `${sizeLabel(n)} messages`, 'text-anchor="middle"'));
  TOOLS.forEach(([tool, color], i) => {
    const pts = rows.filter((r) => cpu(r, tool) !== undefined).map((r) => [X(r.messages), Y(cpu(r, tool))]);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${pts.map((p) => p.map((c) => c.toFixed(1)).join(',')).join(' ')}"/>`);
    for (const [px, py] of pts) out.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${color}"/>`);
    out.push(`<rect x="${x0 + 10}" y="${y0 + 10 + i * 18}" width="12" height="12" fill="${color}"/>`, text(x0 + 28, y0 + 21 + i * 18, tool));
  });
  out.push(text(x0 + w / 2, y0 - 10, 'Replicating a day of changes (CPU seconds, A then B; log scales)', 'text-anchor="middle" font-weight="bold"'));
  return out;
}

/** The right panel: messages per second fetched from Dovecot, mailgit against mbsync. */
function fetchPanel(f, x0, y0, w, h) {
  const bars = [
    ['mailgit fetch', f.mailgit, TOOLS[0][1]],
    ['mbsync', f.mbsync, '#7f7f7f'],
  ];
  const yMax = niceMax(Math.max(f.mailgit, f.mbsync));
  const Y = (v) => y0 + h - (v / yMax) * h;
  const out = [`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`];
  bars.forEach(([label, v, color], i) => {
    const bx = x0 + 20 + i * ((w - 40) / 2);
    const bw = (w - 40) / 2 - 20;
    out.push(`<rect x="${bx}" y="${Y(v).toFixed(1)}" width="${bw}" height="${(y0 + h - Y(v)).toFixed(1)}" fill="${color}"/>`);
    out.push(text(bx + bw / 2, Y(v) - 5, `${Math.round(v)}/s`, 'text-anchor="middle"'), text(bx + bw / 2, y0 + h + 16, label, 'text-anchor="middle"'));
  });
  out.push(text(x0 + w / 2, y0 - 10, `Fetch ${f.messages.toLocaleString('en-US')} from Dovecot`, 'text-anchor="middle" font-weight="bold"'));
  return out;
}

const rows = [...figures.sync].sort((a, b) => a.messages - b.messages);
const body = [
  `<rect width="${W}" height="${H}" fill="white"/>`,
  ...syncPanel(rows, 70, 40, 470, 260),
  ...(figures.fetch ? fetchPanel(figures.fetch, 600, 40, 200, 260) : []),
  text(
    10,
    H - 26,
    `Sync measured ${figures.date ?? ''} on ${figures.machine ?? 'the benchmark machine'}; medians; wall times, load and cache state in docs/benchmarks.md.`,
    'font-size="11" fill="#555"',
  ),
  text(
    10,
    H - 10,
    [
      ...rows.map((r) => `${sizeLabel(r.messages)} at load ${r.load?.map((l) => l.toFixed(0)).join('–') ?? '?'} (${r.date})`),
      ...(figures.fetch ? [`fetch measured ${figures.fetch.date} at load ${figures.fetch.load?.join('-') ?? '?'}`] : []),
    ].join('; '),
    'font-size="11" fill="#555"',
  ),
];
writeFileSync(
  OUT,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">\n${body.join('\n')}\n</svg>\n`,
);
console.error(`wrote ${OUT}`);
