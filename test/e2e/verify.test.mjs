/**
 * Verify v2 in a real browser (system Chromium, playwright-core): the example app in
 * `STRATEGY=verify` mode against the sandbox. The browser follows the real check_url redirect,
 * lands on the callback with the result in the URL fragment, and the strategy's page script posts
 * it back; when silent auth fails, the code the sandbox "sent" is read from the outbox panel.
 */
import { ARTIFACTS, launchChromium } from './chromium.mjs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAILURE_MESSAGES } from '../../example/app.mjs';
import { startWithSandbox } from '../../example/with-sandbox.mjs';

let browser;
let verifyApp;
let nvApp;
let context;
let page;
/** The sandbox's clock runs this far ahead: the expiry test moves it. */
let clockOffset = 0;
const events = [];

beforeAll(async () => {
  verifyApp = await startWithSandbox({
    strategy: 'verify',
    sandboxOptions: { clock: () => Date.now() + clockOffset },
    // 60 s per channel: the expiry test moves the clock past the request's life (2 × 60 s)
    // while the application JWTs (300 s) stay valid.
    verifyOptions: { channelTimeout: 60 },
    log: () => {},
  });
  verifyApp.sandbox.on('request', (event) => events.push(event));
  nvApp = await startWithSandbox({ log: () => {} });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await verifyApp?.close();
  await nvApp?.close();
});

beforeEach(async () => {
  events.length = 0;
  clockOffset = 0;
  context = await browser.newContext({ viewport: { width: 900, height: 640 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

async function signIn(url, phoneNumber) {
  await page.goto(`${url}/login`);
  await page.fill('#phoneNumber', phoneNumber);
  await page.click('button[type=submit]');
}

/** The newest code in the outbox panel of the code page. */
async function outboxCode() {
  return (await page.textContent('[data-testid=outbox-code]')).trim();
}

async function enterCode(code) {
  await page.fill('#code', code);
  await page.click('button[type=submit]');
}

const outcomes = (endpoint) => events.filter((e) => e.endpoint === endpoint).map((e) => e.outcome);

describe('Verify v2 in a real browser', () => {
  it('silent authentication: check_url, the fragment posted back by the page script, signed in', async () => {
    const navigations = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        navigations.push(request.url());
      }
    });
    await signIn(verifyApp.url, '+99012345678');
    await page.waitForURL(`${verifyApp.url}/profile`);
    expect(await page.textContent('[data-testid=phone-number]')).toBe('+99012345678');
    const hops = navigations.map((href) => new URL(href));
    // login → check_url (operator) → callback page (fragment) → POST callback → profile.
    expect(hops.some((url) => url.pathname.endsWith('/silent-auth/redirect'))).toBe(true);
    const landing = hops.find((url) => url.pathname === '/auth/verify/callback');
    expect(landing?.searchParams.get('state')).toBeTruthy();
    // The code never stays in the address bar: the page script removed the fragment.
    expect(navigations.every((href) => !href.includes('code='))).toBe(true);
    expect(outcomes('silent-auth')).toEqual(['silent_auth_code']);
    expect(outcomes('verify2-check')).toEqual(['completed']);
    expect(verifyApp.sandbox.outbox('+99012345678')).toEqual([]);
  });

  it('falls back to an SMS code: the code from the outbox panel signs in', async () => {
    await signIn(verifyApp.url, '+99012345677');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.code_required);
    expect(await page.textContent('p.lead')).toContain('by SMS');
    const code = await outboxCode();
    expect(code).toBe(verifyApp.sandbox.outbox('+99012345677').at(-1).code);
    await page.screenshot({ path: join(ARTIFACTS, 'verify-code.png'), fullPage: true });
    await enterCode(code);
    await page.waitForURL(`${verifyApp.url}/profile`);
    expect(await page.textContent('[data-testid=phone-number]')).toBe('+99012345677');
    expect(outcomes('silent-auth')).toEqual(['silent_auth_code']);
    expect(outcomes('verify2-next')).toEqual(['next_sms']);
  });

  it('a wrong code, then the right one', async () => {
    await signIn(verifyApp.url, '+99012345675');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    const code = await outboxCode();
    await enterCode(code === '0000' ? '1111' : '0000');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.invalid_code);
    await enterCode(code);
    await page.waitForURL(`${verifyApp.url}/profile`);
    expect(outcomes('verify2-check')).toEqual(['silent_auth_failed', 'invalid_code', 'completed']);
  });

  it('too many wrong codes end the sign-in', async () => {
    await signIn(verifyApp.url, '+99012345673');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    const wrong = (await outboxCode()) === '0000' ? '1111' : '0000';
    for (let i = 0; i < 2; i++) {
      await enterCode(wrong);
      await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    }
    await enterCode(wrong);
    await page.waitForURL(`${verifyApp.url}/login?failed=too_many_attempts`);
    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.too_many_attempts);
  });

  it('an expired request sends the user back to start again', async () => {
    await signIn(verifyApp.url, '+99012345671');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    const code = await outboxCode();
    clockOffset = 150_000;
    await enterCode(code);
    await page.waitForURL(`${verifyApp.url}/login?failed=expired`);
    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.expired);
  });

  it('"Send me a code instead" works in Number Verification mode too', async () => {
    await page.goto(`${nvApp.url}/login`);
    await page.click('a[href="/login/code"]');
    await page.fill('#phoneNumber', '+99012345678');
    await page.click('button[type=submit]');
    await page.waitForURL(`${nvApp.url}/login/code/enter`);
    await enterCode(await outboxCode());
    await page.waitForURL(`${nvApp.url}/profile`);
    expect(await page.textContent('[data-testid=phone-number]')).toBe('+99012345678');
  });

  it('"Send me a code instead" in Verify mode skips silent auth', async () => {
    await page.goto(`${verifyApp.url}/login/code`);
    await page.fill('#phoneNumber', '+99012345668');
    await page.click('button[type=submit]');
    await page.waitForURL(`${verifyApp.url}/login/code/enter`);
    expect(outcomes('silent-auth')).toEqual([]);
    await enterCode(await outboxCode());
    await page.waitForURL(`${verifyApp.url}/profile`);
  });
});
