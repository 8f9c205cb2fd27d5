import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { request } from 'undici';
import supertest from 'supertest';
import {
  camara,
  NumberVerificationStrategy,
  type AuthenticateOptions,
  type CamaraOptions,
  type Provider,
  type StrategyOptions,
  type VerifyFunction,
  type VerifyFunctionWithRequest,
} from '../../lib/index.js';
import {
  createSandbox,
  type Sandbox,
  type SandboxApplication,
  type SandboxOptions,
} from '../../lib/sandbox/index.js';
import { express, Passport } from './frameworks.js';

/**
 * Which provider the harness signs in through. `TEST_PROVIDER=camara` runs a whole suite through
 * `camara()` against the sandbox's CAMARA v2 side (private_key_jwt, PKCE, v2 paths).
 */
export type TestProvider = 'vonage' | 'camara';
export const TEST_PROVIDER: TestProvider =
  process.env.TEST_PROVIDER === 'camara' ? 'camara' : 'vonage';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privateKeyPem: string;
  publicKeyPem: string;
}

let cachedKeyPair: KeyPair | undefined;

/** One 2048-bit RSA key pair per test process: generating one costs ~100 ms. */
export function testKeyPair(): KeyPair {
  if (cachedKeyPair) return cachedKeyPair;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  cachedKeyPair = {
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  return cachedKeyPair;
}

/** The `applicationId` (CAMARA `client_id`) registered with every harness's sandbox. */
export const TEST_APPLICATION_ID = '8b1a3e5c-5f0a-4d5b-9a57-6f1f7a2b9c10';

/** What the app's callback route answered, as JSON: the outcome Passport reported. */
export interface CallbackOutcome {
  outcome: 'success' | 'fail' | 'error';
  user?: unknown;
  info?: Record<string, unknown>;
  status?: number;
  error?: {
    name: string;
    code?: string;
    status?: number;
    message: string;
    description?: string;
    correlator?: string;
  };
}

export interface LoginAppOptions {
  /** Overrides of the strategy options (endpoints default to the sandbox's). */
  strategy?: Partial<StrategyOptions>;
  verify?: VerifyFunction;
  /** Use `passReqToCallback: true` with this verify function instead. */
  verifyWithRequest?: VerifyFunctionWithRequest;
  /** Per-request options for the first leg, or a function of the request that returns them. */
  authenticate?: AuthenticateOptions | ((req: Request) => AuthenticateOptions);
  /** Sign in through this provider (default {@link TEST_PROVIDER}), or one made for the sandbox. */
  provider?: TestProvider | ((sandbox: Sandbox) => Provider | Promise<Provider>);
  /** Extra `camara()` options (e.g. an EC key, `keyId`). */
  camara?: Partial<CamaraOptions>;
  /** Sandbox options (e.g. `deviceNumber`). */
  sandbox?: Omit<SandboxOptions, 'applications'>;
  /** Overrides of the registered application (e.g. an EC public key, `keyId`, `clientSecret`). */
  application?: Partial<SandboxApplication>;
  /** Leave out express-session. */
  withoutSession?: boolean;
  /** Where express-session keeps sessions (default: its MemoryStore). */
  sessionStore?: session.Store;
  /** `app.set('query parser', ...)`: Express 5 defaults to `'simple'`. */
  queryParser?: 'simple' | 'extended';
  /** Options of `express.urlencoded` for the first leg's form body (default `{ extended: false }`). */
  urlencoded?: { extended?: boolean; limit?: string | number; parameterLimit?: number };
  /** `app.set('trust proxy', ...)`: makes Express believe X-Forwarded-* headers. */
  trustProxy?: boolean;
  /** On success call `req.logIn` (session regeneration, passport >= 0.6) before answering. */
  logIn?: boolean;
  /**
   * A second strategy instance in the same app and session (give it a `name`), on
   * `/other/login` and `/other/callback`; its callbackURL stays the first one's by default.
   */
  otherStrategy?: Partial<StrategyOptions>;
}

export interface LoginHarness {
  sandbox: Sandbox;
  server: Server;
  baseURL: string;
  callbackURL: string;
  applicationId: string;
  strategy: NumberVerificationStrategy;
  /** A cookie-keeping browser stand-in. */
  browser(): supertest.Agent;
  /** Runs the whole flow in `browser` and returns the callback's outcome. */
  login(phoneNumber: string, browser?: supertest.Agent): Promise<CallbackOutcome>;
  /** First leg only: the operator URL the app redirected to. */
  start(phoneNumber: unknown, browser?: supertest.Agent): Promise<URL>;
  /** First leg that is expected not to redirect: the outcome it reported. */
  startOutcome(body: object | string, browser?: supertest.Agent): Promise<CallbackOutcome>;
  /** The operator's redirect for an authorization URL: the callback URL it sends the browser to. */
  followOperator(authorizationURL: URL): Promise<URL>;
  /** Delivers a callback URL to the app in `browser`. */
  callback(callbackURL: URL | string, browser: supertest.Agent): Promise<CallbackOutcome>;
  close(): Promise<void>;
}

/**
 * The strategy options for `kind`: the flat Vonage options as they are, or, for `camara`, the same
 * sandbox application as a `camara()` provider (endpoint overrides kept; a `verifyURL` override
 * becomes the `apiRoot` of its origin).
 */
function withProvider(
  kind: TestProvider | Provider,
  flat: Record<string, unknown>,
  sandbox: Sandbox,
  overrides: Partial<CamaraOptions> = {},
): StrategyOptions {
  if (kind === 'vonage') return flat as unknown as StrategyOptions;
  if (kind !== 'camara') {
    const { callbackURL, timeout, dispatcher, store, mode, hashPhoneNumber, name } = flat;
    const common = { callbackURL, timeout, dispatcher, store, mode, hashPhoneNumber, name };
    return { ...common, provider: kind } as unknown as StrategyOptions;
  }
  const {
    applicationId,
    privateKey,
    authorizationURL,
    tokenURL,
    verifyURL,
    scope,
    loginHintFormat,
    pkce,
    ...common
  } = flat;
  const apiRoot =
    verifyURL === sandbox.endpoints.verifyURL ? sandbox.url : new URL(String(verifyURL)).origin;
  const provider = camara({
    clientId: applicationId,
    privateKey,
    authorizationURL,
    tokenURL,
    apiRoot,
    ...(scope === undefined ? {} : { scope }),
    ...(loginHintFormat === undefined ? {} : { loginHintFormat }),
    ...(pkce === undefined ? {} : { pkce }),
    ...overrides,
  } as CamaraOptions);
  return { ...common, provider } as unknown as StrategyOptions;
}

/**
 * A real Express 5 app (express-session + passport 0.7) on 127.0.0.1 wired to a real sandbox
 * operator on 127.0.0.1: the two talk over loopback HTTP exactly as in production.
 */
export async function startLoginApp(options: LoginAppOptions = {}): Promise<LoginHarness> {
  const keys = testKeyPair();
  const applicationId = TEST_APPLICATION_ID;
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callbackURL = `${baseURL}/auth/callback`;

  const sandbox = await createSandbox({
    strict: true,
    ...options.sandbox,
    applications: [
      {
        applicationId,
        publicKey: keys.publicKeyPem,
        redirectUris: [callbackURL],
        ...options.application,
      },
    ],
  });
  await sandbox.listen(0, '127.0.0.1');

  const passport = new Passport();
  const provider =
    typeof options.provider === 'function'
      ? await options.provider(sandbox)
      : (options.provider ?? TEST_PROVIDER);
  const baseOptions = {
    applicationId,
    privateKey: keys.privateKeyPem,
    callbackURL,
    ...sandbox.endpoints,
    timeout: 2_000,
    ...options.strategy,
  };
  const strategyOptions = withProvider(provider, baseOptions, sandbox, options.camara);
  const strategy = options.verifyWithRequest
    ? new NumberVerificationStrategy(
        { ...strategyOptions, passReqToCallback: true },
        options.verifyWithRequest,
      )
    : new NumberVerificationStrategy(
        { ...strategyOptions, passReqToCallback: false },
        options.verify ?? ((phoneNumber: string, done) => done(null, { id: phoneNumber })),
      );
  passport.use(strategy);
  const other =
    options.otherStrategy &&
    new NumberVerificationStrategy(
      withProvider(provider, { ...baseOptions, ...options.otherStrategy }, sandbox, options.camara),
      (phoneNumber: string, done) => done(null, { id: phoneNumber }),
    );
  if (other) passport.use(other);

  if (options.queryParser !== undefined) app.set('query parser', options.queryParser);
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);
  app.use(express.urlencoded({ extended: false, ...options.urlencoded }));
  if (!options.withoutSession) {
    app.use(
      session({
        secret: 'test-secret',
        resave: false,
        saveUninitialized: false,
        ...(options.sessionStore === undefined ? {} : { store: options.sessionStore }),
      }),
    );
  }
  app.use(passport.initialize());
  if (options.logIn) {
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: Express.User, done) => done(null, user));
  }
  // Both legs report Passport's outcome as JSON (a redirect bypasses the custom callback).
  const reportOutcome =
    (res: Response, req?: Request) =>
    (err: unknown, user: unknown, info: Record<string, unknown> | undefined, status?: number) => {
      if (err) {
        const e = err as CallbackOutcome['error'] & Error;
        const error = {
          name: e.name,
          code: e.code,
          status: e.status,
          message: e.message,
          description: e.description,
          correlator: e.correlator,
        };
        res.status(500).json({ outcome: 'error', error } satisfies CallbackOutcome);
        return;
      }
      if (!user) {
        res.status(status ?? 401).json({ outcome: 'fail', info, status } satisfies CallbackOutcome);
        return;
      }
      if (options.logIn && req) {
        req.logIn(user as Express.User, (loginErr: unknown) => {
          if (loginErr) res.status(500).json({ outcome: 'error' });
          else res.json({ outcome: 'success', user, info } satisfies CallbackOutcome);
        });
        return;
      }
      res.json({ outcome: 'success', user, info } satisfies CallbackOutcome);
    };
  // @types/passport types `state` as a string; this strategy takes an object (app data).
  const firstLegOptions = (req: Request): Record<string, unknown> => {
    const { authenticate } = options;
    return { ...(typeof authenticate === 'function' ? authenticate(req) : authenticate) };
  };
  const firstLeg: RequestHandler = (req, res, next) => {
    passport.authenticate(strategy.name, firstLegOptions(req), reportOutcome(res))(req, res, next);
  };
  app.post('/login', firstLeg);
  // The first leg from a query string (a GET form or a link).
  app.get('/login', firstLeg);
  app.get('/auth/callback', (req, res, next) => {
    passport.authenticate(strategy.name, reportOutcome(res, req))(req, res, next);
  });
  if (other) {
    app.post('/other/login', (req, res, next) => {
      passport.authenticate(other.name, reportOutcome(res))(req, res, next);
    });
    app.get('/other/callback', (req, res, next) => {
      passport.authenticate(other.name, reportOutcome(res, req))(req, res, next);
    });
  }

  const harness: LoginHarness = {
    sandbox,
    server,
    baseURL,
    callbackURL,
    applicationId,
    strategy,
    browser: () => supertest.agent(server),
    async start(phoneNumber, browser = harness.browser()) {
      const response = await browser.post('/login').type('form').send({ phoneNumber });
      if (response.status !== 302) {
        throw new Error(`first leg answered ${response.status}: ${response.text}`);
      }
      return new URL(response.headers.location as string);
    },
    async startOutcome(body, browser = harness.browser()) {
      const response = await browser.post('/login').type('form').send(body);
      return response.body as CallbackOutcome;
    },
    async followOperator(authorizationURL) {
      const response = await request(authorizationURL);
      await response.body.dump();
      const location = response.headers.location;
      if (response.statusCode !== 302 || typeof location !== 'string') {
        throw new Error(`operator answered ${response.statusCode} without a redirect`);
      }
      return new URL(location);
    },
    async callback(url, browser) {
      const target = new URL(url, baseURL);
      const response = await browser.get(`${target.pathname}${target.search}`);
      return response.body as CallbackOutcome;
    },
    async login(phoneNumber, browser = harness.browser()) {
      const authorizationURL = await harness.start(phoneNumber, browser);
      return harness.callback(await harness.followOperator(authorizationURL), browser);
    },
    async close() {
      await sandbox.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
  return harness;
}
