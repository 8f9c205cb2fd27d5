/**
 * `npm run bench`: complete silent logins side by side, in one run, for
 *   (a) a minimal hand-written integration (bench/apps/hand-written.mjs, no Passport),
 *   (b) passport-oauth2 glued to Vonage the way a user would (bench/apps/passport-oauth2.mjs),
 *   (c) this strategy with its default options (bench/apps/strategy.mjs).
 * The sandbox serves HTTPS in its own process, each app runs in its own process, and this process
 * is the load generator (the browser side). Rounds are interleaved (A B C, B C A, C A B, …) so
 * that drift on a shared machine hits every implementation alike; every figure is the median over
 * rounds, and ratios are taken within a round, then summarised as median with min–max.
 *
 * Options:
 *   --quick              a short run (CI: checks that the benchmark works; under 2 minutes)
 *   --latency-ms N       fixed operator latency on the token and /verify calls
 *   --rounds N           interleaved rounds (default 6, each implementation twice in each position;
 *                        --quick 3)
 *   --logins N           measured logins per implementation, concurrency and round
 *   --concurrency LIST   e.g. 1,16,64,256 (the default)
 *   --only LIST          e.g. strategy (implementations to run)
 *   --cpu-prof           run the apps with node --cpu-prof (profiles in bench/results/profiles/)
 *   --out NAME           results file stem under bench/results/ (default latest; --quick: quick)
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { renderChart } from './chart.mjs';
import { evaluateTargets, renderReport } from './report.mjs';
import { quantile, spread } from './stats.mjs';

const IMPLEMENTATIONS = [
  { key: 'hand-written', label: '(a) hand-written' },
  { key: 'passport-oauth2', label: '(b) passport-oauth2' },
  { key: 'strategy', label: '(c) this strategy' },
];
/** The load generator's source address: the sandbox counts only the apps' connections (127.0.0.1). */
const LOADER_ADDRESS = '127.0.0.2';
const APP_ADDRESS = '127.0.0.1';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'latency-ms': { type: 'string', default: '0' },
    rounds: { type: 'string' },
    logins: { type: 'string' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = args.quick;
const latencyMs = Number(args['latency-ms']);
const rounds = Number(args.rounds ?? (quick ? 3 : 6));
const levels = args.concurrency.split(',').map(Number);
const implementations = args.only
  ? IMPLEMENTATIONS.filter((i) => args.only.split(',').includes(i.key))
  : IMPLEMENTATIONS;
/** Measured logins per segment; fewer at concurrency 1, where each login runs alone. */
const loginsAt = (concurrency) => {
  if (args.logins) return Number(args.logins);
  if (quick) return concurrency === 1 ? 60 : 200;
  return concurrency === 1 ? 150 : 1000;
};
/** Unmeasured logins first: they reopen the connections the operator idled out meanwhile. */
const warmupAt = (concurrency) => Math.max(concurrency, quick ? 20 : 100);

const results = new URL('results/', import.meta.url);
const certificate = fileURLToPath(
  new URL('../test/sandbox/fixtures/localhost-cert.pem', import.meta.url),
);
const certificatePem = (await import('node:fs')).readFileSync(certificate);

/** A child process answering `{ id, type, ...body }` messages with `{ id, result }`. */
async function start(script, argv, options = {}) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), argv, {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
  });
  const waiting = new Map();
  child.on('message', ({ id, result }) => {
    waiting.get(id)?.(result);
    waiting.delete(id);
  });
  const ready = new Promise((resolve) => waiting.set('ready', resolve));
  child.on('exit', (code) => {
    if (code !== 0 && waiting.size > 0) {
      console.error(`${script} ${argv.join(' ')} exited with ${code}`);
      process.exit(1);
    }
  });
  const readyResult = await ready;
  return {
    readyResult,
    call(type, body = {}) {
      const id = randomUUID();
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.send({ id, type, ...body });
      });
    },
    async stop() {
      const exited = once(child, 'exit');
      child.send({ id: randomUUID(), type: 'close' });
      await exited;
    },
  };
}

/** One complete login as a browser does it; resolves to its duration in ms. */
async function login(app, phoneNumber) {
  const started = performance.now();
  const first = await request(`${app.appURL}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `phoneNumber=${encodeURIComponent(phoneNumber)}`,
    dispatcher: app.browser,
  });
  await first.body.dump();
  const setCookie = first.headers['set-cookie'];
  const cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0];
  const operator = await request(String(first.headers.location), { dispatcher: app.browser });
  await operator.body.dump();
  const callback = await request(String(operator.headers.location), {
    headers: { cookie },
    dispatcher: app.browser,
  });
  const body = await callback.body.text();
  if (callback.statusCode !== 200) {
    throw new Error(`${app.key}: login ended with ${callback.statusCode} ${body.slice(0, 200)}`);
  }
  return performance.now() - started;
}

let sequence = 0;
/** `count` logins, `concurrency` at a time; a failed login is counted (and its first error kept). */
async function drive(app, count, concurrency) {
  const durations = [];
  const failures = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      sequence += 1;
      // +990… numbers with an even last digit: the sandbox's Virtual Operator verifies them.
      const phoneNumber = `+9901234${String(sequence % 5000).padStart(4, '0')}8`;
      try {
        durations.push(await login(app, phoneNumber));
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { seconds: (performance.now() - began) / 1000, durations, failures };
}

async function segment(app, sandbox, concurrency) {
  await drive(app, warmupAt(concurrency), concurrency);
  await app.process.call('mark');
  await sandbox.call('connections');
  const logins = loginsAt(concurrency);
  const { seconds, durations, failures } = await drive(app, logins, concurrency);
  if (failures.length > 0) {
    process.stderr.write(`${app.key}: ${failures.length} failed logins, first: ${failures[0]}\n`);
  }
  const stats = await app.process.call('stats');
  const connections = await sandbox.call('connections');
  durations.sort((a, b) => a - b);
  return {
    logins,
    failedLogins: failures.length,
    loginsPerSecond: durations.length / seconds,
    p50Ms: quantile(durations, 0.5),
    p99Ms: quantile(durations, 0.99),
    cpuMsPerLogin: stats.cpuMs / logins,
    loopDelayP99Ms: stats.loopDelayP99Ms,
    rssMiB: stats.rssBytes / 2 ** 20,
    newTlsPerLogin: (connections[APP_ADDRESS] ?? 0) / logins,
  };
}

// ---- set-up: operator, credentials, apps ----
const began = Date.now();
const sandbox = await start('./sandbox-process.mjs', []);
const endpoints = sandbox.readyResult;
if (latencyMs > 0) await sandbox.call('latency', { ms: latencyMs });
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const applicationId = randomUUID();
const profiles = fileURLToPath(new URL('profiles/', results));
const apps = [];
for (const implementation of implementations) {
  const child = await start('./app-process.mjs', [implementation.key], {
    // Every app trusts the sandbox's certificate the same way, without code: the strategy keeps
    // its default options.
    env: { NODE_EXTRA_CA_CERTS: certificate },
    execArgv: args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profiles] : [],
  });
  const { appURL, callbackURL } = await child.call('start', {
    applicationId,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    endpoints,
  });
  apps.push({
    ...implementation,
    process: child,
    appURL,
    callbackURL,
    browser: new Agent({ localAddress: LOADER_ADDRESS, connect: { ca: certificatePem } }),
  });
}
await sandbox.call('register', {
  applicationId,
  publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
  redirectUris: apps.map((app) => app.callbackURL),
});

// ---- interleaved rounds ----
const raw = {};
for (const app of apps) raw[app.key] = Object.fromEntries(levels.map((c) => [c, []]));
for (const concurrency of levels) {
  for (let round = 0; round < rounds; round += 1) {
    const order = apps.map((_, i) => apps[(i + round) % apps.length]);
    for (const app of order) {
      const measured = await segment(app, sandbox, concurrency);
      raw[app.key][concurrency].push(measured);
      process.stderr.write(
        `c=${concurrency} round ${round + 1}/${rounds} ${app.key}: ${measured.loginsPerSecond.toFixed(0)} logins/s\n`,
      );
    }
  }
}
for (const app of apps) {
  await app.process.stop();
  await app.browser.close();
}
await sandbox.stop();

// ---- summary ----
const METRICS = [
  'failedLogins',
  'loginsPerSecond',
  'p50Ms',
  'p99Ms',
  'cpuMsPerLogin',
  'loopDelayP99Ms',
  'rssMiB',
  'newTlsPerLogin',
];
/** Per-round ratio of one implementation's metric to another's, summarised over rounds. */
const ratio = (key, base, concurrency, metric) =>
  raw[base] && raw[key]
    ? spread(raw[key][concurrency].map((r, i) => r[metric] / raw[base][concurrency][i][metric]))
    : undefined;
const summary = {};
for (const app of apps) {
  summary[app.key] = {};
  for (const concurrency of levels) {
    const rows = raw[app.key][concurrency];
    const entry = Object.fromEntries(METRICS.map((m) => [m, spread(rows.map((r) => r[m]))]));
    entry.vsHandWritten = Object.fromEntries(
      ['loginsPerSecond', 'cpuMsPerLogin', 'p99Ms'].map((m) => [
        m,
        ratio(app.key, 'hand-written', concurrency, m),
      ]),
    );
    entry.vsPassportOauth2 = {
      loginsPerSecond: ratio(app.key, 'passport-oauth2', concurrency, 'loginsPerSecond'),
    };
    summary[app.key][concurrency] = entry;
  }
}

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${osType()} ${release()}`,
  node: process.version,
};
const seconds = (Date.now() - began) / 1000;
const date = new Date().toISOString();
const result = {
  date,
  machine,
  options: {
    quick,
    rounds,
    latencyMs,
    concurrency: levels,
    logins: Object.fromEntries(levels.map((c) => [c, loginsAt(c)])),
  },
  implementations: apps.map(({ key, label }) => ({ key, label })),
  summary,
  targets: evaluateTargets(summary, levels),
  rounds: raw,
  seconds,
};
console.log(`\n${renderReport(result)}\n\n(${seconds.toFixed(0)} s)`);

mkdirSync(results, { recursive: true });
const stem = args.out ?? (quick ? 'quick' : 'latest');
writeFileSync(new URL(`${stem}.json`, results), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(
  new URL(`${stem}.svg`, results),
  renderChart({
    title: `Complete silent logins per second (${date.slice(0, 10)}, ${machine.cores} cores, latency ${latencyMs} ms)`,
    concurrency: levels,
    series: apps.map((app) => ({
      label: app.label,
      values: levels.map((c) => summary[app.key][c].loginsPerSecond.median),
    })),
  }),
);
console.log(`wrote bench/results/${stem}.json and bench/results/${stem}.svg`);
