/**
 * A real browser (the system Chromium, driven by playwright-core) signs in to the example app
 * through the sandbox operator: it types a number, submits, follows the real redirects to the
 * operator and back, and lands on /profile, or back on the login page with the right sentence.
 * Everything listens on 127.0.0.1; the browser is told not to reach anything else.
 */
/* global document -- used in code that runs inside the page */
import { ARTIFACTS, launchChromium } from './chromium.mjs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAILURE_MESSAGES } from '../../example/app.mjs';
import { startWithSandbox } from '../../example/with-sandbox.mjs';

let running;
let browser;
let context;
let page;
let events;
/** What the app logs for errors (the site operator's view). */
const appLog = [];
const onEvent = (event) => events.push(event);

beforeAll(async () => {
  running = await startWithSandbox({ log: (line) => appLog.push(line) });
  running.sandbox.on('request', onEvent);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
});

/** Records every top-level navigation, to prove the browser really went through the operator. */
function recordNavigations() {
  const urls = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      urls.push(request.url());
    }
  });
  return urls;
}

/** Types the number and submits; the caller waits for where the redirects end. */
async function signIn(phoneNumber) {
  await page.fill('#phoneNumber', phoneNumber);
  await page.click('button[type=submit]');
}

const outcomes = (endpoint) => events.filter((e) => e.endpoint === endpoint).map((e) => e.outcome);

describe('silent login in a real browser', () => {
  beforeEach(async () => {
    events = [];
    // A new context per test: its own cookies, so each test starts signed out.
    context = await browser.newContext({ viewport: { width: 900, height: 560 } });
    // Loopback pages load in milliseconds: fail fast instead of Playwright's 30 s default.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
  });

  it('signs in a verified number and lands on the page it started from', async () => {
    const navigations = recordNavigations();
    // A protected page sends the visitor to the login page with returnTo=/profile?tab=security.
    await page.goto(`${running.url}/profile?tab=security`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/profile?tab=security');

    await signIn('+99012345678');
    await page.waitForURL(`${running.url}/profile?tab=security`);

    await expect.poll(() => page.textContent('[data-testid=phone-number]')).toBe('+99012345678');
    expect(await page.textContent('h1')).toBe('You are signed in');
    // Browser: app → operator's authorization endpoint → app's callback → profile.
    const hops = navigations.map((href) => new URL(href));
    expect(hops.map((url) => `${url.origin}${url.pathname}`)).toEqual([
      `${running.url}/profile`,
      `${running.url}/login`,
      `${running.url}/login`,
      running.sandbox.endpoints.authorizationURL,
      `${running.url}/auth/number-verification/callback`,
      `${running.url}/profile`,
    ]);
    expect(hops[3].searchParams.get('login_hint')).toBe('tel:+99012345678');
    // Back channel, seen by the operator: one code, one token, one positive verify.
    expect(outcomes('auth')).toEqual(['code_issued']);
    expect(outcomes('token')).toEqual(['token_issued']);
    expect(outcomes('verify')).toEqual(['verified']);
    await page.screenshot({ path: join(ARTIFACTS, 'profile.png'), fullPage: true });

    // Signing out ends the session: the profile is protected again.
    await Promise.all([page.waitForURL(/\/login\?signedOut=1$/), page.click('main form button')]);
    expect(await page.textContent('[role=status]')).toBe('You are signed out.');
    await page.goto(`${running.url}/profile`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('sends a number held by another SIM back to the login page with the reason', async () => {
    await page.goto(`${running.url}/login`);
    await signIn('+99012345677');
    await page.waitForURL(`${running.url}/login?failed=not_verified`);

    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.not_verified);
    // The number typed stays in the field, and the fallback is offered.
    expect(await page.inputValue('#phoneNumber')).toBe('+99012345677');
    expect(await page.textContent('a[href="/login/code"]')).toBe('Send me a code instead');
    expect(outcomes('verify')).toEqual(['not_verified']);
    await page.screenshot({ path: join(ARTIFACTS, 'not-verified.png'), fullPage: true });

    // Still signed out.
    await page.goto(`${running.url}/profile`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('tells a user who is not on the mobile network to turn off Wi-Fi, keeping returnTo', async () => {
    await page.goto(`${running.url}/login?returnTo=${encodeURIComponent('/cart')}`);
    await signIn('+99011111199');
    // returnTo came back from the strategy as info.state on the callback's fail.
    await page.waitForURL(`${running.url}/login?failed=not_on_mobile_network&returnTo=%2Fcart`);
    expect(await page.inputValue('input[name=returnTo]')).toBe('/cart');

    const alert = await page.textContent('[role=alert]');
    expect(alert).toBe(FAILURE_MESSAGES.not_on_mobile_network);
    expect(alert).toContain('Turn off Wi-Fi');
    expect(outcomes('verify')).toEqual(['not_authenticated_by_mobile_network']);
    await page.screenshot({ path: join(ARTIFACTS, 'not-on-mobile-network.png'), fullPage: true });
  });

  it('shows a short error page, without details, when the operator fails', async () => {
    running.sandbox.inject({ endpoint: 'token', status: 500, times: 1 });
    await page.goto(`${running.url}/login`);
    const callback = page.waitForResponse((response) =>
      response.url().startsWith(`${running.url}/auth/number-verification/callback`),
    );
    await signIn('+99012345678');
    expect((await callback).status()).toBe(502);

    expect(await page.textContent('h1')).toBe('Sign-in is not available right now');
    const text = await page.textContent('main');
    expect(text).not.toMatch(/TokenError|server_error|Injected|\bat .*\.js:\d+/);
    // The site's log gets the error class and code, the page does not.
    expect(appLog.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ error: 'TokenError', code: 'server_error', status: 500 }),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'operator-error.png'), fullPage: true });
  });

  it('rejects a malformed number before contacting the operator', async () => {
    await page.goto(`${running.url}/login`);
    await signIn('call me maybe');
    await page.waitForURL(`${running.url}/login?failed=invalid_phone_number`);
    expect(await page.textContent('[role=alert]')).toBe(FAILURE_MESSAGES.invalid_phone_number);
    expect(events).toEqual([]);
  });

  it('ignores a returnTo that points to another origin', async () => {
    await page.goto(`${running.url}/login?returnTo=${encodeURIComponent('//evil.example/')}`);
    // The unsafe value never reaches the form ...
    expect(await page.locator('input[name=returnTo]').count()).toBe(0);
    // ... and one forged into the form is refused when the flow starts.
    await page.evaluate(() => {
      document
        .querySelector('main form')
        .insertAdjacentHTML(
          'beforeend',
          '<input type="hidden" name="returnTo" value="/\\evil.example/">',
        );
    });
    await signIn('+99012345678');
    await page.waitForURL(`${running.url}/profile`);
  });
});
