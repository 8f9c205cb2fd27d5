/**
 * `npm run demo`: the whole silent login in the terminal, no browser. Starts the sandbox operator
 * and the example app on loopback, then plays the browser's part with plain HTTP requests (manual
 * redirects, one cookie jar per user) for three sandbox numbers, printing every step. The steps
 * inside the strategy (token exchange, verify) come from the sandbox's request events.
 * Exits 0 only if all three numbers end as expected.
 */
import { ensureBuild } from './ensure-build.mjs';

ensureBuild();
const { redactPhoneNumber } = await import('passport-number-verification');
const { startWithSandbox } = await import('./with-sandbox.mjs');
const { FAILURE_MESSAGES } = await import('./app.mjs');
const { escapeHtml } = await import('./views.mjs');

const CASES = [
  { phoneNumber: '+99012345678', expect: 'signed in', path: '/profile' },
  { phoneNumber: '+99012345677', expect: 'not_verified', path: '/login' },
  { phoneNumber: '+99011111199', expect: 'not_on_mobile_network', path: '/login' },
];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const green = paint(32);
const red = paint(31);

/** Prints a URL one query parameter a line: the number redacted, the code hidden, ids shortened. */
function printURL(href) {
  const url = new URL(href);
  console.log(`       ${url.origin}${url.pathname}`);
  const width = Math.max(...[...url.searchParams.keys()].map((name) => name.length));
  for (const [name, value] of url.searchParams) {
    let shown = value;
    if (name === 'login_hint')
      shown = value.replace(/\+\d+/, (number) => redactPhoneNumber(number));
    if (name === 'code') shown = '<redacted: single-use secret>';
    if (name === 'state' || name === 'client_id') shown = `${value.slice(0, 8)}…`;
    console.log(dim(`         ${name.padEnd(width)}  ${shown}`));
  }
}

/** Plays the browser: one cookie jar, redirects followed by hand so each one can be shown. */
function createBrowser() {
  const cookies = new Map();
  return async function request(url, init = {}) {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const separator = pair.indexOf('=');
      cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location === null ? undefined : new URL(location, url).href,
      body: await response.text(),
    };
  };
}

function step(number, text) {
  console.log(`  ${dim(`${number}.`)} ${text}`);
}

function printEvents(events) {
  for (const event of events.splice(0)) {
    const number = event.phoneNumber ? ` for ${event.phoneNumber}` : '';
    console.log(
      dim(
        `       operator: ${event.method} ${event.endpoint} → ${event.status} ${event.outcome}${number}`,
      ),
    );
  }
}

async function run({ url, sandbox }, { phoneNumber, expect, path }) {
  const events = [];
  const onEvent = (event) => events.push(event);
  sandbox.on('request', onEvent);
  const request = createBrowser();
  console.log(`\n${bold(`${redactPhoneNumber(phoneNumber)}`)} ${dim(`(expect: ${expect})`)}`);
  try {
    const login = await request(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ phoneNumber, returnTo: '/profile' }),
    });
    if (login.status !== 302 || !login.location?.startsWith(sandbox.url)) {
      throw new Error(`POST /login answered ${login.status}, not a redirect to the operator`);
    }
    step(1, `POST /login → ${login.status}, the app redirects the browser to the operator:`);
    printURL(login.location);

    const authorization = await request(login.location);
    if (authorization.status !== 302 || !authorization.location?.startsWith(url)) {
      throw new Error(`the operator answered ${authorization.status}, not a redirect back`);
    }
    step(2, `The operator recognises the device and redirects back (${authorization.status}):`);
    printURL(authorization.location);
    printEvents(events);

    const callback = await request(authorization.location);
    step(
      3,
      `GET callback → ${callback.status} ${callback.location ? new URL(callback.location).pathname + new URL(callback.location).search : ''}; meanwhile the strategy asked the operator:`,
    );
    printEvents(events);
    if (!callback.location) throw new Error(`the callback answered ${callback.status}`);

    const final = await request(callback.location);
    const finalURL = new URL(callback.location);
    let outcome;
    if (finalURL.pathname === '/profile' && final.body.includes(phoneNumber)) {
      outcome = 'signed in';
    } else {
      outcome = finalURL.searchParams.get('failed') ?? `HTTP ${final.status} ${finalURL.pathname}`;
      // The login page must show the sentence for that code.
      const message = FAILURE_MESSAGES[outcome];
      if (message && !final.body.includes(escapeHtml(message))) outcome += ' (message missing)';
    }
    const ok = outcome === expect && finalURL.pathname === path;
    const shown =
      outcome === 'signed in'
        ? `/profile shows ${phoneNumber}`
        : `login page says: “${FAILURE_MESSAGES[outcome] ?? outcome}”`;
    step(4, `GET ${finalURL.pathname} → ${final.status}, ${shown}`);
    console.log(`  ${ok ? green('✔') : red('✘')} ${outcome}${ok ? '' : ` (expected ${expect})`}`);
    return ok;
  } catch (err) {
    console.log(`  ${red('✘')} ${err.message}`);
    return false;
  } finally {
    sandbox.off('request', onEvent);
  }
}

const running = await startWithSandbox({ log: (line) => console.log(dim(`       app: ${line}`)) });
console.log(
  `${bold('Silent login demo')}: app ${running.url}, sandbox operator ${running.sandbox.url}`,
);
let results;
try {
  results = [];
  for (const testCase of CASES) results.push(await run(running, testCase));
} finally {
  await running.close();
}
const passed = results.filter(Boolean).length;
console.log(
  `\n${passed === CASES.length ? green('All three outcomes as expected.') : red(`${CASES.length - passed} of ${CASES.length} did not end as expected.`)}`,
);
process.exitCode = passed === CASES.length ? 0 : 1;
