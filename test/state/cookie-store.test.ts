import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CookieStateStore,
  NumberVerificationStrategy,
  type PendingFlow,
  type StateStore,
} from '../../lib/index.js';
import { Passport } from '../helpers/frameworks.js';
import { startLoginApp, testKeyPair, type LoginHarness } from '../helpers/login-app.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const VERIFIED = '+99012345678';

function setCookies(setCookie: string | string[] | undefined): string[] {
  return Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie];
}

/** Signs in, keeping a copy of the pending-flow cookie as it was before the callback cleared it. */
async function signInKeepingCookie(h: LoginHarness): Promise<{ path: string; oldCookie: string }> {
  const browser = h.browser();
  const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
  const oldCookie = pendingCookie(first.headers['set-cookie']).split(';')[0] ?? '';
  const callbackURL = await h.followOperator(new URL(first.headers.location as string));
  const path = `${callbackURL.pathname}${callbackURL.search}`;
  expect((await browser.get(path)).body.outcome).toBe('success');
  return { path, oldCookie };
}

/** Counts the token requests the sandbox answers from now on; read it once they had time to land. */
function countTokenRequests(h: LoginHarness): () => Promise<number> {
  let count = 0;
  h.sandbox.on('request', (event) => {
    if (event.endpoint === 'token') count += 1;
  });
  // Sandbox events are emitted when a response closes: give a stray request time to be counted.
  return () => new Promise((resolve) => setTimeout(() => resolve(count), 100));
}

/** The Set-Cookie of the (one) pending-flow cookie of `name` in an answer. */
function pendingCookie(setCookie: string | string[] | undefined, name = 'nv_pending'): string {
  return setCookies(setCookie).find((cookie) => cookie.startsWith(`${name}.`)) ?? '';
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
    const cleared = pendingCookie(callback.headers['set-cookie']);
    expect(cleared.split('=', 1)[0]).toBe(cookie.split('=', 1)[0]);
    expect(cleared).toMatch(/^nv_pending\.[\w-]+=; Max-Age=0;/);
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
    // Another character in place of the third-last (never the same one, which would be no change).
    const tampered = `${value.slice(0, -3)}${value.at(-3) === 'A' ? 'B' : 'A'}${value.slice(-2)}`;
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const response = await h
      .browser()
      .get(`${callbackURL.pathname}${callbackURL.search}`)
      .set('Cookie', tampered);
    expect(response.body.info?.code).toBe('invalid_state');
  });

  it('keeps two tabs that start at the same moment apart (one cookie per pending flow)', async () => {
    const browser = h.browser();
    // Both first legs carry the same (empty) cookie header: neither can see the other's flow.
    const [first, second] = await Promise.all([
      browser.post('/login').type('form').send({ phoneNumber: VERIFIED }),
      browser.post('/login').type('form').send({ phoneNumber: '+99012345680' }),
    ]);
    const callbacks = await Promise.all(
      [first, second].map((response) =>
        h.followOperator(new URL(response.headers.location as string)),
      ),
    );
    const outcomes = await Promise.all(callbacks.map((url) => h.callback(url, browser)));
    expect(outcomes.map((outcome) => outcome.info?.phoneNumber)).toEqual([
      VERIFIED,
      '+99012345680',
    ]);
  });

  it('takes a state once per process: a replayed cookie ends invalid_state, without a token request', async () => {
    const { path, oldCookie } = await signInKeepingCookie(h);
    const tokens = countTokenRequests(h);
    const replay = await h.browser().get(path).set('Cookie', oldCookie);
    expect(replay.body).toMatchObject({ outcome: 'fail', info: { code: 'invalid_state' } });
    expect(await tokens()).toBe(0);
  });

  it('sends a callback delivered twice at once to the operator once: the second copy ends invalid_state', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const tokens = countTokenRequests(h);
    const outcomes = await Promise.all([
      h.callback(callbackURL, browser),
      h.callback(callbackURL, browser),
    ]);
    expect(outcomes.map((outcome) => outcome.info?.code ?? outcome.outcome).sort()).toEqual([
      'invalid_state',
      'success',
    ]);
    expect(await tokens()).toBe(1);
  });
});

describe('CookieStateStore across processes', () => {
  it('cannot revoke a cookie replayed to another process, but the operator refuses the used code (invalid_grant)', async () => {
    const store = swappableStore(new CookieStateStore({ secret: SECRET, secure: false }));
    const h = await startLoginApp({ withoutSession: true, strategy: { store } });
    try {
      const { path, oldCookie } = await signInKeepingCookie(h);
      // Another instance of the app, with the same secret, never saw this state taken.
      store.use(new CookieStateStore({ secret: SECRET, secure: false }));
      const replay = await h.browser().get(path).set('Cookie', oldCookie);
      expect(replay.body).toMatchObject({ outcome: 'fail', info: { code: 'invalid_grant' } });
    } finally {
      await h.close();
    }
  });
});

describe('CookieStateStore: maxPendingFlows', () => {
  it.each([
    [1, { maxPendingFlows: 1 }],
    [2, { maxPendingFlows: 2 }],
    [3, {}],
  ])('keeps at most %i pending flows: the oldest is dropped', async (cap, options) => {
    const h = await startLoginApp({
      withoutSession: true,
      strategy: { store: new CookieStateStore({ secret: SECRET, secure: false, ...options }) },
    });
    try {
      const browser = h.browser();
      const callbacks: URL[] = [];
      for (let i = 0; i <= cap; i += 1) {
        callbacks.push(await h.followOperator(await h.start(VERIFIED, browser)));
      }
      const [oldest, ...newest] = callbacks;
      expect((await h.callback(oldest as URL, browser)).info?.code).toBe('invalid_state');
      for (const callbackURL of newest) {
        expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
      }
    } finally {
      await h.close();
    }
  });
});

/** A store whose implementation a test can swap between the two legs (a deploy in between). */
function swappableStore(initial: StateStore): StateStore & { use(store: StateStore): void } {
  let current = initial;
  return {
    use(store) {
      current = store;
    },
    save: (req: Request, flow: PendingFlow) => current.save(req, flow),
    take: (req: Request, state: string) => current.take(req, state),
  };
}

const NEW_SECRET = 'the-next-secret-that-is-also-32-bytes-or-more';

describe('CookieStateStore: keys', () => {
  it('derives a key per cookie name: a cookie renamed to another store name does not open', async () => {
    const store = swappableStore(
      new CookieStateStore({ secret: SECRET, secure: false, cookieName: 'nv_a' }),
    );
    const h = await startLoginApp({ withoutSession: true, strategy: { store } });
    try {
      const browser = h.browser();
      const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
      const cookie = setCookies(first.headers['set-cookie'])
        .find((value) => value.startsWith('nv_a'))
        ?.split(';', 1)[0];
      expect(cookie).toBeDefined();
      const callbackURL = await h.followOperator(new URL(first.headers.location as string));
      const path = `${callbackURL.pathname}${callbackURL.search}`;
      // The same secret, another cookie name: the renamed cookie must not open.
      store.use(new CookieStateStore({ secret: SECRET, secure: false, cookieName: 'nv_b' }));
      const renamed = (cookie ?? '').replace(/^nv_a/, 'nv_b');
      const refused = await h.browser().get(path).set('Cookie', renamed);
      expect(refused.body.info?.code).toBe('invalid_state');
      // The untouched cookie still opens under its own name.
      store.use(new CookieStateStore({ secret: SECRET, secure: false, cookieName: 'nv_a' }));
      const accepted = await h
        .browser()
        .get(path)
        .set('Cookie', cookie ?? '');
      expect(accepted.body.outcome).toBe('success');
    } finally {
      await h.close();
    }
  });

  it('rotates secrets: seals with the first of secrets, opens with any of them', async () => {
    const store = swappableStore(new CookieStateStore({ secret: SECRET, secure: false }));
    const h = await startLoginApp({ withoutSession: true, strategy: { store } });
    try {
      const browser = h.browser();
      const beforeRotation = await h.followOperator(await h.start(VERIFIED, browser));
      store.use(new CookieStateStore({ secrets: [NEW_SECRET, SECRET], secure: false }));
      const afterRotation = await h.followOperator(await h.start(VERIFIED, browser));
      // A flow sealed with the previous secret still completes during the rotation.
      expect((await h.callback(beforeRotation, browser)).outcome).toBe('success');
      // The new flow was sealed with the new secret: the previous one alone cannot open it.
      store.use(new CookieStateStore({ secret: SECRET, secure: false }));
      const tab = h.browser();
      const sealedWithNew = await tab.post('/login').type('form').send({ phoneNumber: VERIFIED });
      store.use(new CookieStateStore({ secrets: [NEW_SECRET], secure: false }));
      expect(
        (
          await h.callback(
            await h.followOperator(new URL(sealedWithNew.headers.location as string)),
            tab,
          )
        ).info?.code,
      ).toBe('invalid_state');
      expect((await h.callback(afterRotation, browser)).outcome).toBe('success');
    } finally {
      await h.close();
    }
  });
});

describe('CookieStateStore with a plain node:http server (no Express)', () => {
  let server: Server;
  let baseURL: string;
  let h: LoginHarness;
  beforeAll(async () => {
    // The sandbox and its registered callback come from the harness; this server replaces the app.
    h = await startLoginApp({ withoutSession: true });
    const passport = new Passport();
    const callbackPath = new URL(h.callbackURL).pathname;
    const strategyOptions = {
      applicationId: h.applicationId,
      privateKey: testKeyPair().privateKeyPem,
      callbackURL: h.callbackURL,
      ...h.sandbox.endpoints,
      store: new CookieStateStore({ secret: SECRET, secure: false }),
    };
    passport.use(
      new NumberVerificationStrategy(strategyOptions, (phoneNumber, done) =>
        done(null, { phoneNumber }),
      ),
    );
    server = createServer((req, res) => {
      // Passport's strategies see only req: the store finds the response as req.res.
      Object.assign(req, { res });
      res.setHeader('Set-Cookie', 'app_cookie=kept; Path=/');
      const answer = (body: object) => {
        if (!res.headersSent) res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(body));
      };
      passport.authenticate(
        'number-verification',
        { session: false },
        (err: unknown, user: unknown, info: unknown) => {
          if (err) {
            res.statusCode = 500;
            answer({ outcome: 'error', message: String(err) });
          } else answer(user ? { outcome: 'success', user } : { outcome: 'fail', info });
        },
      )(req, res, (err?: unknown) => answer({ outcome: 'next', message: String(err) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The harness's callback URL points at its Express app: forward its path to this server.
    expect(callbackPath).toBe('/auth/callback');
  });
  afterAll(async () => {
    await h.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sets its cookie with setHeader, keeping other Set-Cookie headers, and completes a login', async () => {
    const first = await request(`${baseURL}/login?phoneNumber=${encodeURIComponent(VERIFIED)}`);
    await first.body.dump();
    expect(first.statusCode).toBe(302);
    expect(setCookies(first.headers['set-cookie'])).toContain('app_cookie=kept; Path=/');
    const cookie = pendingCookie(first.headers['set-cookie']).split(';', 1)[0] ?? '';
    expect(cookie).toMatch(/^nv_pending\.[\w-]+=./);
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const callback = await request(`${baseURL}${callbackURL.pathname}${callbackURL.search}`, {
      headers: { cookie },
    });
    expect(await callback.body.json()).toMatchObject({
      outcome: 'success',
      user: { phoneNumber: VERIFIED },
    });
    expect(pendingCookie(callback.headers['set-cookie'])).toMatch(/=; Max-Age=0;/);
  });
});

describe('CookieStateStore options', () => {
  it.each([
    [{ secret: 'too-short' }, /32 bytes/],
    [{ secret: SECRET, cookieName: 'bad name' }, /cookieName/],
    [{ secret: SECRET, maxPendingFlows: 0 }, /maxPendingFlows/],
    [{ secret: SECRET, path: '/; Domain=evil.example' }, /path/],
    [{ secret: SECRET, path: '/auth\r\nSet-Cookie: x=y' }, /path/],
    [{ secret: SECRET, path: '/\u0000' }, /path/],
    [{ secrets: [] }, /secret/],
    [{ secrets: [SECRET, 'too-short'] }, /32 bytes/],
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
