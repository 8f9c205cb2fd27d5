/**
 * Where the CPU goes, floor against strategy: `node bench/profile-diff.mjs FLOOR.cpuprofile
 * OURS.cpuprofile` with two profiles from `npm run bench -- --only hand-written,strategy
 * --concurrency 64 --cpu-prof`. Samples of the main thread are grouped by what they belong to and
 * scaled to µs per login from the CPU each app measured (`--cpu FLOOR_MS,OURS_MS` per login), so
 * the sampling profiler's own overhead drops out. Prints a Markdown table, biggest difference first.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cpu: { type: 'string' } },
});

/** What a sample belongs to, from the script that was running. */
function category(url, name) {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)' || name === '(program)') return undefined;
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (module === 'jose' || url.includes('internal/crypto')) return 'JWT signature and randomness';
  if (module === 'passport' || module === 'passport-strategy') return 'Passport';
  if (module === 'passport-oauth2' || module === 'oauth') return 'passport-oauth2';
  if (module === 'express-session' || module === 'cookie-signature' || module === 'on-headers')
    return 'sessions (express-session)';
  if (
    module === 'undici' ||
    /node:(_tls|internal\/stream|_http_common|net|internal\/tls)/.test(url)
  )
    return 'back channel and sockets (undici, TLS)';
  if (module === undefined && url.includes('/dist/')) return 'this strategy (dist/)';
  if (url.includes('/bench/')) return 'the app (bench/apps)';
  if (module !== undefined) return 'Express and the rest of the app stack';
  if (url.startsWith('node:')) return 'Node HTTP server and core';
  return 'native (writev, microtasks, …)';
}

function load(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const totals = new Map();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const group = category(frame.url, frame.functionName);
    if (group === undefined) return;
    const delta = profile.timeDeltas[i] ?? 0;
    totals.set(group, (totals.get(group) ?? 0) + delta);
    busy += delta;
  });
  return { totals, busy };
}

const [floor, ours] = positionals.map(load);
const [floorMs, oursMs] = (values.cpu ?? '1,1').split(',').map(Number);
const scale = (profile, ms) => (group) =>
  ((profile.totals.get(group) ?? 0) / profile.busy) * ms * 1000;
const floorUs = scale(floor, floorMs);
const oursUs = scale(ours, oursMs);
const groups = [...new Set([...floor.totals.keys(), ...ours.totals.keys()])];
groups.sort((a, b) => Math.abs(oursUs(b) - floorUs(b)) - Math.abs(oursUs(a) - floorUs(a)));
console.log('| part | hand-written µs/login | this strategy µs/login | difference |');
console.log('|---|---:|---:|---:|');
for (const group of groups) {
  const [a, b] = [floorUs(group), oursUs(group)];
  console.log(
    `| ${group} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${b - a >= 0 ? '+' : ''}${(b - a).toFixed(0)} |`,
  );
}
console.log(
  `| **total (measured CPU)** | ${(floorMs * 1000).toFixed(0)} | ${(oursMs * 1000).toFixed(0)} | ${((oursMs - floorMs) * 1000).toFixed(0)} |`,
);
