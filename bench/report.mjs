/**
 * The benchmark's report: the table and the targets, from a results object as
 * bench/compare.mjs writes it. Also a command: `node bench/report.mjs bench/results/latest.json`
 * prints the Markdown of a stored run (docs/performance.md carries it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixed = (value, digits) => (value === undefined ? '–' : value.toFixed(digits));
const range = (s, digits = 2) =>
  s === undefined
    ? '–'
    : `${fixed(s.median, digits)} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`;

/** The targets of issue 13 for this strategy, read from the medians of the in-run ratios. */
export function evaluateTargets(summary, levels) {
  const ours = summary.strategy;
  const targets = [];
  if (!ours) return targets;
  const check = (name, concurrency, value, limit, atMost) => {
    if (value === undefined) return;
    targets.push({
      name,
      concurrency,
      value,
      limit,
      met: atMost ? value <= limit : value >= limit,
    });
  };
  for (const c of levels.filter((level) => level >= 16)) {
    const { vsHandWritten, vsPassportOauth2 } = ours[c];
    check('logins/s ÷ (a) ≥ 0.97', c, vsHandWritten.loginsPerSecond?.median, 0.97, false);
    check('CPU/login ÷ (a) ≤ 1.05', c, vsHandWritten.cpuMsPerLogin?.median, 1.05, true);
    check('p99 ÷ (a) ≤ 1.05', c, vsHandWritten.p99Ms?.median, 1.05, true);
    check('logins/s ÷ (b) ≥ 1.25', c, vsPassportOauth2.loginsPerSecond?.median, 1.25, false);
  }
  for (const c of levels) {
    const limit = c <= 64 ? 0.01 : 0.02;
    check(`new TLS/login ≤ ${limit}`, c, ours[c].newTlsPerLogin.median, limit, true);
  }
  return targets;
}

/** The Markdown table (medians over rounds; ratios as median (min–max)) and the targets. */
export function renderReport({
  date,
  machine,
  options,
  implementations,
  summary,
  rounds,
  targets,
}) {
  const lines = [
    `${date.slice(0, 10)}: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}; ` +
      `${options.rounds} interleaved rounds of ${options.logins[options.concurrency.at(-1)]} logins ` +
      `(${options.logins[1] ?? '–'} at concurrency 1); operator latency ${options.latencyMs} ms; ` +
      'medians over rounds, ratios as median (min–max)',
    '',
    '| conc. | implementation | logins/s | p50 ms | p99 ms | CPU ms/login | loop delay p99 ms | RSS MiB | new TLS/login | failed | logins/s ÷ (a) | CPU ÷ (a) | p99 ÷ (a) | logins/s ÷ (b) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const concurrency of options.concurrency) {
    for (const { key, label } of implementations) {
      const s = summary[key][concurrency];
      const failed = rounds[key][concurrency].reduce((n, r) => n + r.failedLogins, 0);
      lines.push(
        `| ${concurrency} | ${label} | ${fixed(s.loginsPerSecond.median, 0)} | ${fixed(s.p50Ms.median, 1)} | ${fixed(s.p99Ms.median, 1)} | ${fixed(s.cpuMsPerLogin.median, 2)} | ${fixed(s.loopDelayP99Ms.median, 1)} | ${fixed(s.rssMiB.median, 0)} | ${fixed(s.newTlsPerLogin.median, 3)} | ${failed} | ${range(s.vsHandWritten.loginsPerSecond)} | ${range(s.vsHandWritten.cpuMsPerLogin)} | ${range(s.vsHandWritten.p99Ms)} | ${range(s.vsPassportOauth2.loginsPerSecond)} |`,
      );
    }
  }
  if (targets.length > 0) {
    lines.push('', 'Targets for (c):', '');
    for (const t of targets) {
      lines.push(
        `- ${t.met ? 'met' : '**not met**'} at ${t.concurrency}: ${t.name} — ${t.value.toFixed(3)}`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderReport(JSON.parse(readFileSync(process.argv[2], 'utf8'))));
}
