import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request } from 'express';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NumberVerificationStrategy,
  RedisStateStore,
  type PendingFlow,
  type RedisClient,
} from '../../lib/index.js';
import { createSandbox } from '../../lib/sandbox/index.js';
import { startLoginApp, testKeyPair, type LoginHarness } from '../helpers/login-app.js';
import {
  CLIENT_KINDS,
  connectClient,
  type ClientKind,
  type ConnectedClient,
} from '../helpers/redis-clients.js';
import { Passport } from '../helpers/frameworks.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const VERIFIED = '+99012345678';
const NOT_VERIFIED = '+99012345679';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

function flowFor(state: string, extra: Record<string, unknown> = {}): PendingFlow {
  return {
    state,
    strategy: 'number-verification',
    phoneNumber: VERIFIED,
    callbackURL: 'https://app.example/auth/callback',
    expiresAt: Date.now() + 60_000,
    ...extra,
  };
}

let counter = 0;
/** A fresh 43-character base64url state, like the strategy's. */
function newState(): string {
  counter += 1;
  return Buffer.from(`state-${counter}-${Date.now()}-padding-pad`)
    .toString('base64url')
    .slice(0, 43);
}

/** A request as express-session leaves it. */
function sessionRequest(sessionID: string): Request {
  return { sessionID, session: {}, headers: {} } as unknown as Request;
}

/** Every key and value in the server, to prove bad input touched nothing. */
async function snapshot(c: ConnectedClient): Promise<Record<string, unknown>> {
  const keys = ((await c.command(['KEYS', '*'])) as string[]).sort();
  const entries = await Promise.all(
    keys.map(async (key) => [key, await c.command(['GET', key])] as const),
  );
  return Object.fromEntries(entries);
}

/** Calls of one command the server has executed since it started. */
async function calls(c: ConnectedClient, command: string): Promise<number> {
  const info = String(await c.command(['INFO', 'commandstats']));
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}

describe.each(CLIENT_KINDS)('RedisStateStore with %s', (kind: ClientKind) => {
  let c: ConnectedClient;
  let store: RedisStateStore;
  beforeAll(async () => {
    c = await connectClient(kind, redis.url);
    store = new RedisStateStore({ client: c.client, timeout: 1_000 });
  });
  afterAll(() => c.close());

  it('keeps one key per flow, SET with PX of the time left, holding the whole flow as JSON', async () => {
    const state = newState();
    // Fields other features add to PendingFlow (PKCE, provider data) must survive the round trip.
    const flow = flowFor(state, {
      strategy: 'number-verification',
      codeVerifier: 'v'.repeat(43),
      correlator: 'c-1',
      appState: { returnTo: '/cart' },
    });
    const req = sessionRequest('session-a');
    await store.save(req, flow);
    const pttl = Number(await c.command(['PTTL', `nv:state:${state}`]));
    expect(pttl).toBeGreaterThan(58_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const raw = JSON.parse(String(await c.command(['GET', `nv:state:${state}`])));
    expect(raw.flow).toEqual(flow);
    // The session ID itself is not stored, only its hash.
    expect(JSON.stringify(raw)).not.toContain('session-a');
    expect(await store.take(req, state)).toEqual(flow);
    expect(await c.command(['EXISTS', `nv:state:${state}`])).toBe(0);
    expect(await store.take(req, state)).toBeUndefined();
  });

  it('lets Redis expire a flow at its expiresAt', async () => {
    const state = newState();
    const req = sessionRequest('session-b');
    await store.save(req, { ...flowFor(state), expiresAt: Date.now() + 150 });
    expect(await c.command(['EXISTS', `nv:state:${state}`])).toBe(1);
    await sleep(300);
    expect(await c.command(['EXISTS', `nv:state:${state}`])).toBe(0);
    expect(await store.take(req, state)).toBeUndefined();
  });

  it('hands a flow to exactly one of 50 concurrent takes over 5 connections', async () => {
    const state = newState();
    const req = sessionRequest('session-c');
    await store.save(req, flowFor(state));
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => connectClient(kind, redis.url)),
    );
    try {
      const stores = clients.map((client) => new RedisStateStore({ client: client.client }));
      const taken = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (stores[i % 5] as RedisStateStore).take(req, state)),
      );
      expect(taken.filter((flow) => flow !== undefined)).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('refuses a flow taken by another browser, and the flow is gone for the right one too', async () => {
    const state = newState();
    await store.save(sessionRequest('session-d'), flowFor(state));
    expect(await store.take(sessionRequest('session-e'), state)).toBeUndefined();
    expect(await store.take(sessionRequest('session-d'), state)).toBeUndefined();
  });

  it('refuses to save a second flow under a state that exists (NX)', async () => {
    const state = newState();
    const req = sessionRequest('session-f');
    await store.save(req, flowFor(state));
    await expect(store.save(req, flowFor(state))).rejects.toMatchObject({
      code: 'state_conflict',
    });
  });

  it('answers bad input without sending Redis anything', async () => {
    await c.command(['SET', 'app:other', 'untouched']);
    const state = newState();
    await store.save(sessionRequest('session-g'), flowFor(state));
    const before = await snapshot(c);
    const getdels = await calls(c, 'getdel');
    const req = sessionRequest('session-g');
    const badStates: unknown[] = [
      42,
      ['a', 'b'],
      { $ne: '' },
      null,
      '',
      'x'.repeat(10 * 1024),
      `${state} `,
      '*',
      'nv:state:*',
      `${state}\r\nDEL app:other`,
    ];
    for (const bad of badStates) {
      expect(await store.take(req, bad as string)).toBeUndefined();
    }
    await expect(store.save(req, { ...flowFor('x'.repeat(10 * 1024)) })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(store.save(req, { state: 42 } as unknown as PendingFlow)).rejects.toBeInstanceOf(
      TypeError,
    );
    expect(await calls(c, 'getdel')).toBe(getdels);
    expect(await snapshot(c)).toEqual(before);
  });

  it('refuses a flow without a session, before Redis is asked', async () => {
    const noSession = { headers: {} } as unknown as Request;
    await expect(store.save(noSession, flowFor(newState()))).rejects.toMatchObject({
      code: 'session_required',
    });
    await expect(store.take(noSession, newState())).rejects.toMatchObject({
      code: 'session_required',
    });
  });

  it('fails with state_store_unavailable when Redis stops answering, within the deadline', async () => {
    const state = newState();
    const req = sessionRequest('session-h');
    await store.save(req, flowFor(state));
    const pauser = await connectClient(kind, redis.url);
    try {
      await pauser.command(['CLIENT', 'PAUSE', '1500', 'ALL']);
      const fast = new RedisStateStore({ client: c.client, timeout: 200 });
      const started = Date.now();
      await expect(fast.take(req, state)).rejects.toMatchObject({
        name: 'NumberVerificationError',
        code: 'state_store_unavailable',
      });
      await expect(fast.save(req, flowFor(newState()))).rejects.toMatchObject({
        code: 'state_store_unavailable',
      });
      expect(Date.now() - started).toBeLessThan(1_200);
    } finally {
      await pauser.command(['CLIENT', 'UNPAUSE']);
      await pauser.close();
    }
  });

  it('fails with state_store_unavailable while Redis is down, and works again once it is back', async () => {
    const state = newState();
    const req = sessionRequest('session-i');
    await store.save(req, flowFor(state));
    await redis.stop();
    try {
      await expect(store.take(req, state)).rejects.toMatchObject({
        code: 'state_store_unavailable',
      });
      await expect(store.save(req, flowFor(newState()))).rejects.toMatchObject({
        code: 'state_store_unavailable',
      });
    } finally {
      await redis.start();
    }
    // The client reconnects by itself; the restarted server is empty (nothing persisted).
    let saved = false;
    for (let i = 0; i < 50 && !saved; i++) {
      saved = await store.save(req, flowFor(newState())).then(
        () => true,
        () => sleep(100).then(() => false),
      );
    }
    expect(saved).toBe(true);
    expect(await store.take(req, state)).toBeUndefined();
  });

  it('fails with state_store_unavailable when the client was closed', async () => {
    const closed = await connectClient(kind, redis.url);
    await closed.close();
    const dead = new RedisStateStore({ client: closed.client, timeout: 300 });
    await expect(dead.save(sessionRequest('s'), flowFor(newState()))).rejects.toMatchObject({
      code: 'state_store_unavailable',
    });
  });
});

describe('RedisStateStore options', () => {
  let c: ConnectedClient;
  beforeAll(async () => {
    c = await connectClient('node-redis', redis.url);
  });
  afterAll(() => c.close());

  it.each([
    [{ prefix: 'nv state:' }, /prefix/],
    [{ prefix: '' }, /prefix/],
    [{ prefix: 'nv:\n' }, /prefix/],
    [{ prefix: 42 }, /prefix/],
    [{ bindTo: 'ip' }, /bindTo/],
    [{ timeout: 0 }, /timeout/],
    [{ timeout: Number.NaN }, /timeout/],
    [{ cookieName: 'bad name' }, /cookieName/],
  ])('rejects %j', async (options, message) => {
    const before = await snapshot(c);
    expect(() => new RedisStateStore({ client: c.client, ...(options as object) })).toThrow(
      message,
    );
    expect(await snapshot(c)).toEqual(before);
  });

  it.each([[undefined], [null], [{}], [{ get: () => undefined }], ['redis://127.0.0.1']])(
    'rejects client %j',
    (client) => {
      expect(() => new RedisStateStore({ client: client as unknown as RedisClient })).toThrow(
        /node-redis .* or ioredis client/,
      );
    },
  );

  it('uses the prefix', async () => {
    const store = new RedisStateStore({ client: c.client, prefix: 'myapp:nv:' });
    const state = newState();
    await store.save(sessionRequest('s'), flowFor(state));
    expect(await c.command(['EXISTS', `myapp:nv:${state}`])).toBe(1);
  });
});

describe.each(CLIENT_KINDS)('strategy with RedisStateStore over HTTP (%s)', (kind) => {
  let c: ConnectedClient;
  let h: LoginHarness;
  beforeAll(async () => {
    c = await connectClient(kind, redis.url);
    h = await startLoginApp({
      authenticate: { state: { returnTo: '/cart' } },
      strategy: { store: new RedisStateStore({ client: c.client }) },
    });
  });
  afterAll(async () => {
    await h.close();
    await c.close();
  });

  it('signs a verified number in and fails another with not_verified', async () => {
    expect(await h.login(VERIFIED)).toMatchObject({
      outcome: 'success',
      info: { phoneNumber: VERIFIED, state: { returnTo: '/cart' } },
    });
    expect(await h.login(NOT_VERIFIED)).toMatchObject({
      outcome: 'fail',
      info: { code: 'not_verified' },
    });
  });

  it('works with express-session saveUninitialized: false (the session is kept for the callback)', async () => {
    const browser = h.browser();
    const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    expect(String(first.headers['set-cookie'])).toMatch(/^connect\.sid=/);
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
  });

  it('sends one token request when one callback arrives 50 times at once', async () => {
    const events: string[] = [];
    const onRequest = (event: { endpoint: string }): void => {
      events.push(event.endpoint);
    };
    h.sandbox.on('request', onRequest);
    try {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, () => h.callback(callbackURL, browser)),
      );
      expect(outcomes.filter((o) => o.outcome === 'success')).toHaveLength(1);
      expect(outcomes.filter((o) => o.info?.code === 'invalid_state')).toHaveLength(49);
      await sleep(50);
      expect(events.filter((endpoint) => endpoint === 'token')).toHaveLength(1);
    } finally {
      h.sandbox.off('request', onRequest);
    }
  });

  it('refuses a callback in another browser with invalid_state; the flow is gone', async () => {
    const owner = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, owner));
    expect((await h.callback(callbackURL, h.browser())).info?.code).toBe('invalid_state');
    expect((await h.callback(callbackURL, owner)).info?.code).toBe('invalid_state');
  });

  it('answers a 10 KB state with invalid_state', async () => {
    const browser = h.browser();
    await h.start(VERIFIED, browser);
    const outcome = await h.callback(
      `/auth/callback?code=abc&state=${'A'.repeat(10_240)}`,
      browser,
    );
    expect(outcome.info?.code).toBe('invalid_state');
  });
});

describe('strategy with RedisStateStore when Redis is paused', () => {
  let c: ConnectedClient;
  let h: LoginHarness;
  beforeAll(async () => {
    c = await connectClient('node-redis', redis.url);
    h = await startLoginApp({
      strategy: { store: new RedisStateStore({ client: c.client, timeout: 200 }) },
    });
  });
  afterAll(async () => {
    await h.close();
    await c.close();
  });

  it('errors with state_store_unavailable on either leg, and never redirects', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const pauser = await connectClient('node-redis', redis.url);
    try {
      await pauser.command(['CLIENT', 'PAUSE', '1000', 'ALL']);
      const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
      expect(first.status).toBe(500);
      expect(first.body.error.code).toBe('state_store_unavailable');
      expect((await h.callback(callbackURL, browser)).error?.code).toBe('state_store_unavailable');
    } finally {
      await pauser.command(['CLIENT', 'UNPAUSE']);
      await pauser.close();
    }
  });
});

describe("RedisStateStore with bindTo: 'cookie' (no sessions)", () => {
  let c: ConnectedClient;
  let h: LoginHarness;
  beforeAll(async () => {
    c = await connectClient('ioredis', redis.url);
    h = await startLoginApp({
      withoutSession: true,
      strategy: {
        store: new RedisStateStore({ client: c.client, bindTo: 'cookie', secure: false }),
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await c.close();
  });

  it('sets a random HttpOnly SameSite=Lax cookie and signs in with it', async () => {
    const browser = h.browser();
    const first = await browser.post('/login').type('form').send({ phoneNumber: VERIFIED });
    expect(String(first.headers['set-cookie'])).toMatch(
      /^nv_browser=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
  });

  it('keeps one cookie for two tabs', async () => {
    const browser = h.browser();
    const first = await h.followOperator(await h.start(VERIFIED, browser));
    const second = await h.followOperator(await h.start('+99012345680', browser));
    expect((await h.callback(second, browser)).info?.phoneNumber).toBe('+99012345680');
    expect((await h.callback(first, browser)).info?.phoneNumber).toBe(VERIFIED);
  });

  it('refuses another browser, and one without the cookie; the flow is gone', async () => {
    const owner = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, owner));
    const stranger = h.browser();
    await h.start(VERIFIED, stranger); // the stranger has a cookie of its own
    expect((await h.callback(callbackURL, stranger)).info?.code).toBe('invalid_state');
    expect((await h.callback(callbackURL, owner)).info?.code).toBe('invalid_state');
    const other = await h.followOperator(await h.start(VERIFIED, owner));
    const target = new URL(other);
    const anonymous = await request(`${h.baseURL}${target.pathname}${target.search}`);
    expect(((await anonymous.body.json()) as { info: { code: string } }).info.code).toBe(
      'invalid_state',
    );
    expect((await h.callback(other, owner)).info?.code).toBe('invalid_state');
  });

  it('adds Secure by default', async () => {
    const store = new RedisStateStore({ client: c.client, bindTo: 'cookie' });
    const headers: Record<string, unknown> = {};
    const res = {
      headersSent: false,
      getHeader: (name: string) => headers[name],
      setHeader: (name: string, value: unknown) => (headers[name] = value),
    };
    await store.save({ headers: {}, res } as unknown as Request, flowFor(newState()));
    expect(String(headers['set-cookie'])).toMatch(/; Secure$/);
  });

  it('errors with response_required when the response is missing or already sent', async () => {
    const store = new RedisStateStore({ client: c.client, bindTo: 'cookie' });
    await expect(
      store.save({ headers: {} } as unknown as Request, flowFor(newState())),
    ).rejects.toMatchObject({ code: 'response_required' });
  });
});

describe("RedisStateStore with bindTo: 'cookie' on plain node:http", () => {
  let c: ConnectedClient;
  let server: Server;
  let sandbox: Awaited<ReturnType<typeof createSandbox>>;
  let baseURL = '';
  beforeAll(async () => {
    c = await connectClient('node-redis', redis.url);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const keys = testKeyPair();
    const applicationId = 'f3c0c2a0-6a34-4b8e-9b51-3b1f1b9e2d11';
    const callbackURL = `${baseURL}/callback`;
    sandbox = await createSandbox({
      strict: true,
      applications: [{ applicationId, publicKey: keys.publicKeyPem, redirectUris: [callbackURL] }],
    });
    await sandbox.listen(0, '127.0.0.1');
    const passport = new Passport();
    passport.use(
      new NumberVerificationStrategy(
        {
          applicationId,
          privateKey: keys.privateKeyPem,
          callbackURL,
          ...sandbox.endpoints,
          store: new RedisStateStore({ client: c.client, bindTo: 'cookie', secure: false }),
        },
        (phoneNumber, done) => done(null, { id: phoneNumber }),
      ),
    );
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // What Express does for every request: the store reaches the response through req.res.
      Object.assign(req, { res });
      passport.authenticate(
        'number-verification',
        { session: false },
        (err: unknown, user: unknown, info: unknown) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ err: err ? String(err) : null, user, info }));
        },
      )(req, res, () => undefined);
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await sandbox.close();
    await c.close();
  });

  it('signs in through a plain http server', async () => {
    const first = await request(`${baseURL}/login?phoneNumber=${encodeURIComponent(VERIFIED)}`);
    await first.body.dump();
    expect(first.statusCode).toBe(302);
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    expect(cookie).toMatch(/^nv_browser=/);
    const operator = await request(String(first.headers.location));
    await operator.body.dump();
    const callback = await request(String(operator.headers.location), { headers: { cookie } });
    expect(await callback.body.json()).toMatchObject({ user: { id: VERIFIED } });
  });
});
