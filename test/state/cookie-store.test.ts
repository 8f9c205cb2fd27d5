import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieStateStore } from '../../lib/index.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const VERIFIED = '+99012345678';

function pendingCookie(setCookie: string | string[] | undefined): string {
  const cookies = Array.isArray(setCookie) ? setCookie : [setCookie ?? ''];
  return cookies.find((cookie) => cookie.startsWith('nv_pending=')) ?? '';
}

describe('CookieStateStore: flows in an encrypted cookie, no session middleware', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginApp({
      withoutSession: true,
      authenticate: { state: { returnTo: '/cart' } },
      strategy: { store: new CookieStateStore({ secret: SECRET, secure: false }) },
    });
  });
  afterAll(() => h.close());

  it('completes a login and hands back the app state', async () => {
    expect(await h.login(VERIFIED)).toMatchObject({
      outcome: 'success',
      info: { phoneNumber: VERIFIED, state: { returnTo: '/cart' } },
    });
  });

  it('sets an HttpOnly, SameSite=Lax cookie that hides the number, and clears it once taken', async () => {
    const browser = h.browser();
    const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    const cookie = pendingCookie(first.headers['set-cookie']);
    expect(cookie).toMatch(/; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(cookie).not.toContain('99012345678');
    expect(cookie).not.toContain('cart');
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const callback = await browser.get(`${callbackURL.pathname}${callbackURL.search}`);
    expect(callback.body.outcome).toBe('success');
    expect(pendingCookie(callback.headers['set-cookie'])).toMatch(/^nv_pending=; Max-Age=0;/);
  });

  it('refuses a callback in another browser (the flow is bound to the cookie)', async () => {
    const callbackURL = await h.followOperator(await h.start(VERIFIED, h.browser()));
    expect((await h.callback(callbackURL, h.browser())).info?.code).toBe('invalid_state');
  });

  it('keeps two tabs apart', async () => {
    const browser = h.browser();
    const first = await h.followOperator(await h.start(VERIFIED, browser));
    const second = await h.followOperator(await h.start('+99012345680', browser));
    expect((await h.callback(second, browser)).info?.phoneNumber).toBe('+99012345680');
    expect((await h.callback(first, browser)).info?.phoneNumber).toBe(VERIFIED);
  });

  it('treats a tampered cookie as holding no flow', async () => {
    const browser = h.browser();
    const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    const value = pendingCookie(first.headers['set-cookie']).split(';')[0] ?? '';
    const tampered = `${value.slice(0, -3)}${value.endsWith('A') ? 'B' : 'A'}${value.slice(-2)}`;
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const response = await h
      .browser()
      .get(`${callbackURL.pathname}${callbackURL.search}`)
      .set('Cookie', tampered);
    expect(response.body.info?.code).toBe('invalid_state');
  });

  it('keeps at most maxPendingFlows (3): the oldest flow is dropped', async () => {
    const browser = h.browser();
    const callbacks = [];
    for (let i = 0; i < 4; i += 1)
      callbacks.push(await h.followOperator(await h.start(VERIFIED, browser)));
    const [oldest, ...newest] = callbacks;
    expect((await h.callback(oldest as URL, browser)).info?.code).toBe('invalid_state');
    for (const callbackURL of newest) {
      expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
    }
  });

  it('cannot revoke a replayed cookie, but the operator refuses the used code (invalid_grant)', async () => {
    const browser = h.browser();
    const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    const oldCookie = pendingCookie(first.headers['set-cookie']).split(';')[0] ?? '';
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const path = `${callbackURL.pathname}${callbackURL.search}`;
    expect((await browser.get(path)).body.outcome).toBe('success');
    const replay = await h.browser().get(path).set('Cookie', oldCookie);
    expect(replay.body).toMatchObject({ outcome: 'fail', info: { code: 'invalid_grant' } });
  });
});

describe('CookieStateStore options', () => {
  it.each([
    [{ secret: 'too-short' }, /32 bytes/],
    [{ secret: SECRET, cookieName: 'bad name' }, /cookieName/],
    [{ secret: SECRET, maxPendingFlows: 0 }, /maxPendingFlows/],
  ])('rejects %j', (options, message) => {
    expect(() => new CookieStateStore(options)).toThrow(message);
  });

  it('adds Secure by default', async () => {
    const h = await startLoginApp({
      withoutSession: true,
      strategy: { store: new CookieStateStore({ secret: SECRET }) },
    });
    try {
      const first = await h.browser().post('/login').type('form').send({ phoneNumber: VERIFIED });
      expect(pendingCookie(first.headers['set-cookie'])).toMatch(/; Secure$/);
    } finally {
      await h.close();
    }
  });
});
