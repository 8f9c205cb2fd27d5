import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Request, Response } from 'express';
import session from 'express-session';
import { request } from 'undici';
import supertest from 'supertest';
import {
  VerifySilentAuthStrategy,
  type VerifyAuthenticateOptions,
  type VerifyFunction,
  type VerifyStrategyOptions,
} from '../../lib/index.js';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { express, Passport } from './frameworks.js';
import type { CallbackOutcome } from './login-app.js';
import { testKeyPair } from './login-app.js';

export interface VerifyAppOptions {
  strategy?: Partial<VerifyStrategyOptions>;
  verify?: VerifyFunction;
  /** Per-request options of the first leg. */
  authenticate?: VerifyAuthenticateOptions | ((req: Request) => VerifyAuthenticateOptions);
  sandbox?: Omit<SandboxOptions, 'applications'>;
  /** Parse form bodies with qs (nested objects and arrays), as `extended: true` apps do. */
  extendedBody?: boolean;
  /**
   * The sandbox makes its demo application and the strategy gets nothing but
   * `sandbox.verifyStrategyOptions({ callbackURL })` (and `options.strategy`).
   */
  demoApplication?: boolean;
}

/** What one step of the flow answered. */
export interface Step {
  /** Passport's outcome when the app reported one (the JSON body), else undefined. */
  outcome: CallbackOutcome | undefined;
  status: number;
  location: string | undefined;
  text: string;
}

export interface VerifyHarness {
  sandbox: Sandbox;
  server: Server;
  baseURL: string;
  callbackURL: string;
  strategy: VerifySilentAuthStrategy;
  browser(): supertest.Agent;
  /** POST /login with `body` (a phone number, maybe more). */
  start(body: Record<string, string>, browser: supertest.Agent): Promise<Step>;
  /** The device opens check_url; returns the redirect (callback URL with the fragment). */
  openCheckURL(checkURL: string): Promise<URL>;
  /**
   * The browser lands on the callback URL: GET it (the page), then post what the page's script
   * posts — the page's hidden `state` and the fragment's values.
   */
  land(redirect: URL, browser: supertest.Agent): Promise<Step>;
  /** POST the callback with a form body (the code form), or a raw urlencoded string. */
  post(body: Record<string, string> | string, browser: supertest.Agent): Promise<Step>;
  /** Whole silent leg: start, check_url, land. */
  silent(phoneNumber: string, browser?: supertest.Agent): Promise<Step>;
  close(): Promise<void>;
}

function step(response: supertest.Response): Step {
  const isJson = String(response.headers['content-type'] ?? '').includes('application/json');
  return {
    outcome: isJson ? (response.body as CallbackOutcome) : undefined,
    status: response.status,
    location: response.headers.location as string | undefined,
    text: response.text,
  };
}

/** An Express 5 app (express-session + passport 0.7) with the Verify strategy, and a sandbox. */
export async function startVerifyApp(options: VerifyAppOptions = {}): Promise<VerifyHarness> {
  const keys = testKeyPair();
  const applicationId = '5f0a8b1a-3e5c-4d5b-9a57-6f1f7a2b9c10';
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callbackURL = `${baseURL}/auth/verify/callback`;
  const sandbox = await createSandbox({
    strict: true,
    ...options.sandbox,
    ...(options.demoApplication === true
      ? {}
      : {
          applications: [
            { applicationId, publicKey: keys.publicKeyPem, redirectUris: [callbackURL] },
          ],
        }),
  });
  await sandbox.listen(0, '127.0.0.1');

  const passport = new Passport();
  const strategy = new VerifySilentAuthStrategy(
    options.demoApplication === true
      ? { ...sandbox.verifyStrategyOptions({ callbackURL }), ...options.strategy }
      : {
          applicationId,
          privateKey: keys.privateKeyPem,
          callbackURL,
          brand: 'Acme',
          verifyBaseURL: sandbox.verify2Endpoints.verifyBaseURL,
          timeout: 2_000,
          ...options.strategy,
        },
    options.verify ?? ((phoneNumber, done) => done(null, { id: phoneNumber })),
  );
  passport.use(strategy);
  app.use(express.urlencoded({ extended: options.extendedBody === true }));
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  const report =
    (res: Response) =>
    (err: unknown, user: unknown, info: Record<string, unknown> | undefined, status?: number) => {
      if (err) {
        const e = err as CallbackOutcome['error'] & Error;
        const error = { name: e.name, code: e.code, status: e.status, message: e.message };
        res.status(500).json({ outcome: 'error', error } satisfies CallbackOutcome);
      } else if (!user) {
        res.status(status ?? 401).json({ outcome: 'fail', info, status } satisfies CallbackOutcome);
      } else {
        res.json({ outcome: 'success', user, info } satisfies CallbackOutcome);
      }
    };
  app.post('/login', (req, res, next) => {
    const { authenticate } = options;
    const perRequest = typeof authenticate === 'function' ? authenticate(req) : authenticate;
    // @types/passport types `state` as a string; this strategy takes an object (app data).
    const authenticateOptions: Record<string, unknown> = { ...perRequest };
    passport.authenticate(strategy.name, authenticateOptions, report(res))(req, res, next);
  });
  app.get('/auth/verify/callback', passport.authenticate(strategy.name));
  app.post('/auth/verify/callback', (req, res, next) => {
    passport.authenticate(strategy.name, report(res))(req, res, next);
  });

  const harness: VerifyHarness = {
    sandbox,
    server,
    baseURL,
    callbackURL,
    strategy,
    browser: () => supertest.agent(server),
    async start(body, browser) {
      return step(await browser.post('/login').type('form').send(body));
    },
    async openCheckURL(checkURL) {
      const response = await request(checkURL);
      await response.body.dump();
      if (response.statusCode !== 302) throw new Error(`check_url answered ${response.statusCode}`);
      return new URL(response.headers.location as string);
    },
    async land(redirect, browser) {
      const page = await browser.get(`${redirect.pathname}${redirect.search}`);
      if (page.status !== 200) throw new Error(`callback page answered ${page.status}`);
      const state = /name="state" value="([^"]*)"/.exec(page.text)?.[1];
      const fragment = Object.fromEntries(new URLSearchParams(redirect.hash.slice(1)));
      return harness.post({ ...(state === undefined ? {} : { state }), ...fragment }, browser);
    },
    async post(body, browser) {
      return step(await browser.post('/auth/verify/callback').type('form').send(body));
    },
    async silent(phoneNumber, browser = harness.browser()) {
      const first = await harness.start({ phoneNumber }, browser);
      if (first.status !== 302 || first.location === undefined) {
        throw new Error(`first leg answered ${first.status}: ${first.text}`);
      }
      return harness.land(await harness.openCheckURL(first.location), browser);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await strategy.close();
      await sandbox.close();
    },
  };
  return harness;
}
