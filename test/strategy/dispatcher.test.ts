import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import session from 'express-session';
import { Agent, request, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { NumberVerificationStrategy } from '../../lib/index.js';
import { DEFAULT_CONNECTIONS } from '../../lib/protocol/dispatcher.js';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createTestApplication } from '../helpers/application-keys.js';
import { express, Passport } from '../helpers/frameworks.js';

/**
 * The default back-channel pool, seen from the operator: the sandbox counts the connections the
 * strategies open (from 127.0.0.1); the browser stand-in reaches the operator from 127.0.0.2 so its
 * own connections are not counted.
 */
const BROWSER_ADDRESS = '127.0.0.2';

const closedCount = (sockets: Socket[]): number => sockets.filter((s) => s.destroyed).length;

interface Operator {
  sandbox: Sandbox;
  /** Connections accepted from the strategies (some may be closed by now). */
  opened: Socket[];
  /** Most connections from the strategies open at one time. */
  mostOpen: number;
}

interface App {
  server: Server;
  baseURL: string;
  strategies: NumberVerificationStrategy[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startOperator(redirectUris: string[], application = createTestApplication()) {
  const sandbox = await createSandbox({
    strict: true,
    applications: [
      {
        applicationId: application.applicationId,
        publicKey: application.publicKeyPem,
        redirectUris,
      },
    ],
  });
  await sandbox.listen(0, '127.0.0.1');
  const port = Number(new URL(sandbox.url).port);
  const operator: Operator = { sandbox, opened: [], mostOpen: 0 };
  const onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    if (socket.localPort === port && socket.remoteAddress === '127.0.0.1') {
      operator.opened.push(socket);
      const open = operator.opened.length - closedCount(operator.opened);
      operator.mostOpen = Math.max(operator.mostOpen, open);
    }
  };
  subscribe('net.server.socket', onSocket);
  cleanups.push(async () => {
    unsubscribe('net.server.socket', onSocket);
    await sandbox.close();
  });
  return operator;
}

/** An Express app with one strategy per entry of `dispatchers` (undefined: the default pool). */
async function startApp(dispatchers: (Dispatcher | undefined)[]) {
  const application = createTestApplication();
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callbackURLs = dispatchers.map((_, i) => `${baseURL}/callback/${i}`);
  const operator = await startOperator(callbackURLs, application);
  const passport = new Passport();
  const strategies = dispatchers.map((dispatcher, i) => {
    const strategy = new NumberVerificationStrategy(
      {
        name: `nv-${i}`,
        applicationId: application.applicationId,
        privateKey: application.privateKeyPem,
        callbackURL: callbackURLs[i] as string,
        ...operator.sandbox.endpoints,
        ...(dispatcher === undefined ? {} : { dispatcher }),
      },
      (phoneNumber, done) => done(null, { phoneNumber }),
    );
    passport.use(strategy);
    return strategy;
  });
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.post('/login/:i', (req, res, next) => {
    passport.authenticate(`nv-${req.params.i}`)(req, res, next);
  });
  app.get('/callback/:i', (req, res, next) => {
    passport.authenticate(`nv-${req.params.i}`, (err: unknown, user: unknown) => {
      res.status(err ? 500 : user ? 200 : 401).end();
    })(req, res, next);
  });
  const browser = new Agent({ localAddress: BROWSER_ADDRESS });
  cleanups.push(async () => {
    for (const strategy of strategies) await strategy.close();
    await browser.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const login = async (i: number, phoneNumber = '+990123456788'): Promise<number> => {
    const first = await request(`${baseURL}/login/${i}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `phoneNumber=${encodeURIComponent(phoneNumber)}`,
      dispatcher: browser,
    });
    await first.body.dump();
    const cookie = String(first.headers['set-cookie']).split(';')[0] as string;
    const authorization = await request(String(first.headers.location), { dispatcher: browser });
    await authorization.body.dump();
    const callback = await request(String(authorization.headers.location), {
      headers: { cookie },
      dispatcher: browser,
    });
    await callback.body.dump();
    return callback.statusCode;
  };
  return { operator, strategies, login, app: { server, baseURL, strategies } satisfies App };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the default back-channel dispatcher', () => {
  it('is one keep-alive pool shared by every strategy that talks to the same operator', async () => {
    const { operator, login } = await startApp([undefined, undefined]);
    for (let n = 0; n < 5; n++) expect(await login(0)).toBe(200);
    const warm = operator.opened.length;
    expect(warm).toBeGreaterThan(0);
    // The second strategy's calls ride on the connections the first one opened.
    for (let n = 0; n < 5; n++) expect(await login(1)).toBe(200);
    expect(operator.opened).toHaveLength(warm);
    expect(closedCount(operator.opened)).toBe(0);
  });

  it(`opens at most ${DEFAULT_CONNECTIONS} connections to an operator under 200 concurrent logins`, async () => {
    const { operator, login } = await startApp([undefined]);
    // Slow answers keep many calls in flight at once.
    operator.sandbox.inject({ endpoint: 'token', delayMs: 300 });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, n) => login(0, `+9901234${String(n).padStart(5, '0')}8`)),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(operator.mostOpen).toBeGreaterThan(1);
    expect(operator.mostOpen).toBeLessThanOrEqual(DEFAULT_CONNECTIONS);
  });

  it('is not used when the app passes its own dispatcher, which close() leaves open', async () => {
    const own = new Agent();
    cleanups.push(() => own.close());
    let calls = 0;
    const counted = own.compose((dispatch) => (options, handler) => {
      calls += 1;
      return dispatch(options, handler);
    });
    const { login, strategies } = await startApp([counted]);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, n) => login(0, `+9901234${String(n).padStart(5, '0')}8`)),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Every token and verify call of the 20 logins went through the app's dispatcher.
    expect(calls).toBe(40);
    await strategies[0]?.close();
    expect(own.closed).toBe(false);
    expect(await login(0)).toBe(200);
    expect(calls).toBe(42);
  });

  it('closes once the last strategy holding it closes; a later strategy gets a new pool', async () => {
    const first = await startApp([undefined, undefined]);
    for (let n = 0; n < 3; n++) expect(await first.login(n % 2)).toBe(200);
    const warm = first.operator.opened.length;

    await first.strategies[0]?.close();
    await first.strategies[0]?.close(); // idempotent: does not release the other's hold
    expect(await first.login(1)).toBe(200);
    expect(first.operator.opened).toHaveLength(warm);
    expect(closedCount(first.operator.opened)).toBe(0);

    await first.strategies[1]?.close();
    await until(() => closedCount(first.operator.opened) === warm);
    expect(closedCount(first.operator.opened)).toBe(warm);

    const later = await startApp([undefined]);
    expect(await later.login(0)).toBe(200);
    expect(later.operator.opened.length).toBeGreaterThan(0);
  });
});
