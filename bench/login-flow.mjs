/**
 * `npm run bench`: complete silent logins per second through a real Express app and the sandbox
 * operator, all on loopback, for several back-channel set-ups side by side in one run:
 *
 *   - https, connections reused   (the strategy's default: undici keeps connections alive)
 *   - https, a new connection per call (what a client without keep-alive pays: TCP + TLS each time)
 *   - http,  connections reused   (the cost of TLS itself)
 *
 * Each flow is what a browser does: POST /login → GET the operator's /oauth2/auth → GET the
 * callback, during which the strategy calls /oauth2/token and /verify. Results are reported as
 * ratios to the first set-up, because absolute numbers on a shared machine mean little.
 *
 * Options: --flows N (default 2000), --concurrency N (default 50), --json FILE.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Agent, request } from 'undici';
import { NumberVerificationStrategy } from 'passport-number-verification';
import { createSandbox } from 'passport-number-verification/sandbox';

const { values: args } = parseArgs({
  options: {
    flows: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '50' },
    json: { type: 'string' },
  },
});
const FLOWS = Number(args.flows);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Math.min(200, FLOWS);

// A self-signed certificate for 127.0.0.1 (test fixture; its key is public on purpose).
const fixtures = new URL('../test/sandbox/fixtures/', import.meta.url);
const tls = {
  key: readFileSync(new URL('localhost-key.pem', fixtures)),
  cert: readFileSync(new URL('localhost-cert.pem', fixtures)),
};

const SETUPS = [
  { name: 'https, connections reused', tls: true, reuse: true },
  { name: 'https, new connection per call', tls: true, reuse: false },
  { name: 'http, connections reused', tls: false, reuse: true },
];

function listen(server) {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address().port)),
  );
}

/** The app and its operator for one set-up. */
async function start(setup) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const applicationId = randomUUID();
  const server = createServer();
  const appURL = `http://127.0.0.1:${await listen(server)}`;
  const callbackURL = `${appURL}/callback`;
  const sandbox = await createSandbox({
    applications: [{ applicationId, publicKey, redirectUris: [callbackURL] }],
    ...(setup.tls ? { tls } : {}),
  });
  await sandbox.listen(0, '127.0.0.1');
  if (!setup.reuse) {
    // The operator closes each back-channel connection after answering, so every token and
    // verify call opens a new TCP (and TLS) connection.
    for (const endpoint of ['token', 'verify']) {
      sandbox.inject({ endpoint, headers: { connection: 'close' } });
    }
  }
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  const passport = new Passport();
  passport.use(
    new NumberVerificationStrategy(
      { applicationId, privateKey, callbackURL, ...sandbox.endpoints, dispatcher },
      (phoneNumber, done) => done(null, { phoneNumber }),
    ),
  );
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'bench', resave: false, saveUninitialized: false }));
  app.post('/login', passport.authenticate('number-verification'));
  app.get('/callback', (req, res, next) =>
    passport.authenticate('number-verification', (err, user, info) => {
      if (err) return next(err);
      res.status(user ? 200 : 401).json(user ? { ok: true } : info);
    })(req, res, next),
  );
  server.on('request', app);
  // The browser side: its own connection pool, trusting the sandbox's certificate.
  const browser = new Agent({ connect: { ca: tls.cert } });
  return {
    appURL,
    browser,
    async close() {
      await sandbox.close();
      await dispatcher.close();
      await browser.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One complete login, as a browser would do it; resolves to its duration in ms. */
async function flow(env, phoneNumber) {
  const started = performance.now();
  const login = await request(`${env.appURL}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ phoneNumber }).toString(),
    dispatcher: env.browser,
  });
  await login.body.dump();
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  const operator = await request(String(login.headers.location), { dispatcher: env.browser });
  await operator.body.dump();
  const callback = await request(String(operator.headers.location), {
    headers: { cookie },
    dispatcher: env.browser,
  });
  const body = await callback.body.json();
  if (callback.statusCode !== 200 || !body.ok) {
    throw new Error(`flow ended with ${callback.statusCode} ${JSON.stringify(body)}`);
  }
  return performance.now() - started;
}

async function run(env, count) {
  const durations = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next += 1;
      // Even last digit: the sandbox's Virtual Operator verifies the number.
      durations.push(await flow(env, `+9901234${String(next % 5000).padStart(4, '0')}8`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  const at = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
  return { flowsPerSecond: count / seconds, p50: at(0.5), p99: at(0.99) };
}

const results = [];
for (const setup of SETUPS) {
  const env = await start(setup);
  try {
    await run(env, WARMUP);
    results.push({ setup: setup.name, ...(await run(env, FLOWS)) });
  } finally {
    await env.close();
  }
}

const [base] = results;
console.log(
  `\n${FLOWS} complete logins per set-up, concurrency ${CONCURRENCY}, Node ${process.version}\n`,
);
console.log('| back channel | logins/s | vs first | p50 ms | p99 ms |');
console.log('|---|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.setup} | ${r.flowsPerSecond.toFixed(0)} | ${(r.flowsPerSecond / base.flowsPerSecond).toFixed(2)}× | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
  );
}
if (args.json)
  writeFileSync(
    args.json,
    JSON.stringify({ flows: FLOWS, concurrency: CONCURRENCY, results }, null, 2),
  );
