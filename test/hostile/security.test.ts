import fc from 'fast-check';
import session from 'express-session';
import type supertest from 'supertest';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NumberVerificationStrategy } from '../../lib/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import {
  NOT_VERIFIED,
  startHostileApp,
  VERIFIED,
  watchProcess,
  type HostileHarness,
} from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

const watcher = watchProcess();
afterAll(() => {
  watcher.stop();
  expect(watcher.unhandled).toEqual([]);
});

/** Every request the strategy served in `h` ended in exactly one action and leaked nothing. */
function expectCleanRequests(h: HostileHarness): void {
  for (const request of h.requests) {
    expect(
      request.actions.map((a) => a.action),
      request.url,
    ).toHaveLength(1);
    expect(h.leaks(request), request.url).toEqual([]);
  }
}

function sessionCookie(response: supertest.Response): string | undefined {
  const cookies = response.headers['set-cookie'] as unknown;
  const list = Array.isArray(cookies) ? (cookies as string[]) : [];
  return list.find((cookie) => cookie.startsWith('connect.sid='))?.split(';', 1)[0];
}

function storedSessions(store: session.MemoryStore): Promise<Record<string, session.SessionData>> {
  return new Promise((resolve, reject) => {
    store.all((err, sessions) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve((sessions ?? {}) as Record<string, session.SessionData>);
    });
  });
}

const PENDING_KEY = 'passport-number-verification';

function pendingStates(data: session.SessionData | undefined): string[] {
  const flows = (data as unknown as Record<string, unknown> | undefined)?.[PENDING_KEY];
  return flows !== null && typeof flows === 'object' ? Object.keys(flows) : [];
}

describe('state binds the callback to the browser that started the flow', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp();
  });
  afterEach(() => expectCleanRequests(h));
  afterAll(() => h.close());

  it('refuses a callback carrying a state issued to another browser (login CSRF / fixation), and leaves the victim flow intact', async () => {
    const attacker = h.browser();
    const victim = h.browser();
    // The attacker starts a flow with their own number and hands the callback URL to the victim.
    const attackerCallback = await h.followOperator(await h.start(VERIFIED, attacker));
    h.secrets.addCallbackURL(attackerCallback);
    await h.start(NOT_VERIFIED, victim);
    const forged = await h.callback(attackerCallback, victim);
    expect(forged).toMatchObject({ outcome: 'fail', status: 403, info: { code: 'invalid_state' } });
    // No back-channel call was made for the forged callback.
    expect(h.secrets.count('JWT')).toBe(0);
    // The state still belongs to the attacker's browser: it was not consumed by the victim's.
    expect(await h.callback(attackerCallback, attacker)).toMatchObject({ outcome: 'success' });
  });

  it('refuses a replayed callback in the same browser, in another browser and without a cookie', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    h.secrets.addCallbackURL(callbackURL);
    const first = await h.callback(callbackURL, browser);
    expect(first).toMatchObject({ outcome: 'success', info: { phoneNumber: VERIFIED } });
    const tokenRequests = h.secrets.count('JWT');
    for (const replayer of [browser, h.browser()]) {
      expect(await h.callback(callbackURL, replayer)).toMatchObject({
        outcome: 'fail',
        status: 403,
        info: { code: 'invalid_state' },
      });
    }
    const target = new URL(callbackURL);
    const bare = await h.browser().get(`${target.pathname}${target.search}`);
    expect(bare.status).toBe(403);
    expect(bare.body).toMatchObject({ outcome: 'fail', info: { code: 'invalid_state' } });
    // A replay never reaches the operator: the code is not exchanged a second time.
    expect(h.secrets.count('JWT')).toBe(tokenRequests);
  });
});

describe('expired state', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp({ strategy: { stateMaxAge: 100 } });
  });
  afterAll(() => h.close());

  it('fails with invalid_state after stateMaxAge, without calling the operator, and consumes the state', async () => {
    const events: string[] = [];
    h.sandbox.on('request', (event) => events.push(event.endpoint));
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    h.secrets.addCallbackURL(callbackURL);
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await h.callback(callbackURL, browser)).toMatchObject({
        outcome: 'fail',
        status: 403,
        info: { code: 'invalid_state' },
      });
    }
    expect(events).toEqual(['auth']);
    expectCleanRequests(h);
  });
});

describe('state values', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp();
  });
  afterAll(() => h.close());

  it('issues 1,000 unique states of at least 128 random bits (base64url)', async () => {
    const states: string[] = [];
    const browsers = Array.from({ length: 10 }, () => h.browser());
    await Promise.all(
      browsers.map(async (browser) => {
        for (let i = 0; i < 100; i++) {
          const url = await h.start(VERIFIED, browser);
          states.push(url.searchParams.get('state') ?? '');
        }
      }),
    );
    expect(states).toHaveLength(1000);
    expect(new Set(states).size).toBe(1000);
    let ones = 0;
    let bits = 0;
    for (const state of states) {
      expect(state).toMatch(/^[A-Za-z0-9_-]+$/);
      const bytes = Buffer.from(state, 'base64url');
      // Round trip: the value is canonical base64url, so the bytes are all it carries.
      expect(bytes.toString('base64url')).toBe(state);
      expect(bytes.length * 8).toBeGreaterThanOrEqual(128);
      for (const byte of bytes) {
        for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
        bits += 8;
      }
    }
    // Random bits are balanced: with ≥ 128,000 bits, 0.48..0.52 fails by chance with p < 1e-40.
    expect(ones / bits).toBeGreaterThan(0.48);
    expect(ones / bits).toBeLessThan(0.52);
    expectCleanRequests(h);
  });
});

describe('pending-flow cap', () => {
  const store = new session.MemoryStore();
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp({ sessionStore: store });
  });
  afterAll(() => h.close());

  // 10,000 sequential round trips through the per-session lock: a generous limit, CI machines vary.
  it('keeps one session small through 10,000 first legs, and the newest flows still complete', async () => {
    const browser = h.browser();
    const firstLeg = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    const cookie = sessionCookie(firstLeg) ?? '';
    const firstCallback = await h.followOperator(new URL(firstLeg.headers.location as string));
    // A keep-alive client carrying the session cookie: supertest opens a connection per request.
    const client = new Pool(h.baseURL, { connections: 1, pipelining: 1 });
    const firstLegInSession = async (): Promise<URL> => {
      const response = await client.request({
        method: 'POST',
        path: '/login',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: `phoneNumber=${encodeURIComponent(VERIFIED)}`,
      });
      await response.body.dump();
      expect(response.statusCode).toBe(302);
      return new URL(String(response.headers.location));
    };
    let tenFlowsSize = 0;
    let largest = 0;
    let lastURL = firstCallback;
    try {
      for (let i = 1; i < 10_000; i++) {
        lastURL = await firstLegInSession();
        if (i % 500 === 9 || i === 9_999) {
          const sessions = await storedSessions(store);
          const [data] = Object.values(sessions);
          expect(Object.keys(sessions)).toHaveLength(1);
          expect(pendingStates(data)).toHaveLength(10);
          const size = JSON.stringify(data).length;
          if (i === 9) tenFlowsSize = size;
          largest = Math.max(largest, size);
        }
      }
    } finally {
      await client.close();
    }
    // Every flow has the same shape, so a capped session stays the size it had at ten flows.
    expect(tenFlowsSize).toBeGreaterThan(0);
    expect(tenFlowsSize).toBeLessThan(4096);
    expect(largest).toBeLessThanOrEqual(tenFlowsSize + 16);
    // The oldest flow was dropped; the newest completes.
    h.secrets.addCallbackURL(firstCallback);
    expect(await h.callback(firstCallback, browser)).toMatchObject({
      outcome: 'fail',
      info: { code: 'invalid_state' },
    });
    const lastCallback = await h.followOperator(lastURL);
    h.secrets.addCallbackURL(lastCallback);
    expect(await h.callback(lastCallback, browser)).toMatchObject({ outcome: 'success' });
    expect(h.requests).toHaveLength(10_002);
    expectCleanRequests(h);
  }, 300_000);
});

describe('session regeneration on login', () => {
  const store = new session.MemoryStore();
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp({ sessionStore: store, logIn: true });
  });
  afterAll(() => h.close());

  it('changes the session id on success, and the state is consumed in both sessions', async () => {
    const browser = h.browser();
    const firstLeg = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    expect(firstLeg.status).toBe(302);
    const before = sessionCookie(firstLeg);
    expect(before).toBeDefined();
    const authorizationURL = new URL(firstLeg.headers.location as string);
    const state = authorizationURL.searchParams.get('state') ?? '';
    expect(pendingStates(Object.values(await storedSessions(store))[0])).toEqual([state]);

    const callbackURL = await h.followOperator(authorizationURL);
    h.secrets.addCallbackURL(callbackURL);
    const response = await browser.get(`${callbackURL.pathname}${callbackURL.search}`);
    expect(response.body).toMatchObject({ outcome: 'success' });
    const after = sessionCookie(response);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);

    // The pre-login session is gone (passport >= 0.6 regenerates it); the new one holds the user
    // and no pending flow, so the old callback cannot be replayed in either.
    const sessions = await storedSessions(store);
    expect(Object.keys(sessions)).toHaveLength(1);
    const [data] = Object.values(sessions);
    expect(pendingStates(data)).toEqual([]);
    expect((data as unknown as { passport?: { user?: unknown } }).passport?.user).toEqual({
      id: VERIFIED,
    });
    expect(await h.callback(callbackURL, browser)).toMatchObject({
      outcome: 'fail',
      info: { code: 'invalid_state' },
    });
    expectCleanRequests(h);
  });
});

describe('state.returnTo', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp({
      authenticate: (req) => {
        const body = req.body as Record<string, unknown> | undefined;
        return { state: { returnTo: body?.returnTo, plan: 'pro' } };
      },
    });
  });
  afterAll(() => h.close());

  async function returnedState(returnTo: string): Promise<unknown> {
    const browser = h.browser();
    const first = await browser
      .post('/login')
      .type('form')
      .send({ phoneNumber: VERIFIED, returnTo });
    expect(first.status).toBe(302);
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    h.secrets.addCallbackURL(callbackURL);
    const outcome = await h.callback(callbackURL, browser);
    expect(outcome.outcome).toBe('success');
    return outcome.info?.state;
  }

  it.each(['/cart', '/account/settings?tab=2', '/search?q=%2F%2Fevil.example', '/@evil.example'])(
    'hands back the same-origin path %j',
    async (returnTo) => {
      expect(await returnedState(returnTo)).toEqual({ returnTo, plan: 'pro' });
      expectCleanRequests(h);
    },
  );

  it.each([
    '///evil.example',
    '/\\/evil.example',
    '/\r/evil.example',
    '/\u0000/evil.example',
    '\t//evil.example',
    ' //evil.example',
    'HTTPS://evil.example',
    'data:text/html,<script>alert(1)</script>',
    './/evil.example',
  ])('drops %j and keeps the rest of the state', async (returnTo) => {
    expect(await returnedState(returnTo)).toEqual({ plan: 'pro' });
    expectCleanRequests(h);
  });

  it('keeps a returnTo only when a browser would resolve it to the same origin (300 generated values)', async () => {
    const fragment = fc.constantFrom(
      '/',
      '//',
      '\\',
      '/\\',
      'evil.example',
      'http:',
      'https:',
      '\t',
      '\n',
      '%2F',
      '%5C',
      '.',
      '..',
      '@',
      ':',
      '?',
      '#',
      'cart',
    );
    const origin = 'https://app.example';
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { minLength: 1, maxLength: 6 }), async (parts) => {
        const returnTo = parts.join('');
        const state = (await returnedState(returnTo)) as Record<string, unknown>;
        if (Object.hasOwn(state, 'returnTo')) {
          expect(state.returnTo).toBe(returnTo);
          // What a browser does with it: WHATWG URL parsing strips tabs and newlines and reads
          // a backslash as a slash, so neither may survive in a kept value.
          expect(new URL(returnTo, origin).origin).toBe(origin);
          expect(returnTo).not.toMatch(/[\\\t\n]/);
          expect(returnTo.startsWith('/') && !returnTo.startsWith('//')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expectCleanRequests(h);
  });
});

describe('endpoints over plain http', () => {
  const keys = testKeyPair();
  const base = {
    applicationId: 'app-id',
    privateKey: keys.privateKeyPem,
    callbackURL: 'https://app.example/callback',
  };
  const verify = (): void => undefined;
  const options = ['authorizationURL', 'tokenURL', 'verifyURL', 'callbackURL'] as const;
  const remote = [
    'http://api.example/path',
    'http://localhost.evil.example/path',
    'http://127.0.0.1.nip.io/path',
    'http://10.0.0.1/path',
  ];
  const loopback = [
    'http://127.0.0.1:4000/path',
    'http://localhost:4000/path',
    'http://[::1]:4000/path',
    'http://127.9.8.7/path',
  ];

  for (const option of options) {
    it.each(remote)(`refuses ${option} %s unless allowInsecureHttp`, (url) => {
      expect(() => new NumberVerificationStrategy({ ...base, [option]: url }, verify)).toThrow(
        new RegExp(`${option}.*https`),
      );
      expect(
        () =>
          new NumberVerificationStrategy(
            { ...base, [option]: url, allowInsecureHttp: true },
            verify,
          ),
      ).not.toThrow();
    });

    it.each(loopback)(`accepts ${option} %s on loopback`, (url) => {
      expect(
        () => new NumberVerificationStrategy({ ...base, [option]: url }, verify),
      ).not.toThrow();
    });
  }

  it('never puts the private key into a constructor error', () => {
    const pem = keys.privateKeyPem;
    try {
      new NumberVerificationStrategy(
        { ...base, tokenURL: 'http://api.example/token', privateKey: pem },
        verify,
      );
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain(pem.split('\n')[1] ?? 'unreachable');
    }
  });
});

describe('the redirect to the operator is never built from request headers', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    // With `trust proxy`, Express itself believes X-Forwarded-*: the strategy must not.
    h = await startHostileApp({ trustProxy: true });
  });
  afterAll(() => h.close());

  const withoutState = (location: string): string => {
    const url = new URL(location);
    url.searchParams.delete('state');
    // The PKCE challenge is fresh per flow too (camara() and pkce: true).
    url.searchParams.delete('code_challenge');
    return url.href;
  };

  it.each([
    { host: 'evil.example' },
    { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    { 'x-forwarded-proto': 'http', 'x-forwarded-port': '1' },
    { forwarded: 'for=1.2.3.4;host=evil.example;proto=https' },
    { host: 'evil.example', 'x-original-url': '/evil', 'x-rewrite-url': '/evil' },
  ])('keeps Location identical with %j', async (headers) => {
    const plain = await h.browser().post('/login').type('form').send({ phoneNumber: VERIFIED });
    const spoofed = await h
      .browser()
      .post('/login')
      .set(headers)
      .type('form')
      .send({ phoneNumber: VERIFIED });
    expect(plain.status).toBe(302);
    expect(spoofed.status).toBe(302);
    const location = spoofed.headers.location as string;
    expect(withoutState(location)).toBe(withoutState(plain.headers.location as string));
    expect(new URL(location).origin).toBe(new URL(h.sandbox.endpoints.authorizationURL).origin);
    expect(new URL(location).searchParams.get('redirect_uri')).toBe(h.callbackURL);
    expect(location).not.toContain('evil');
    expectCleanRequests(h);
  });
});
