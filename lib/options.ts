import type { KeyObject } from 'node:crypto';
import type { Request } from 'express';
import type { Dispatcher } from 'undici';
import type { LoginHintFormat } from './protocol/authorization-url.js';
import { parsePrivateKey } from './protocol/client-auth.js';
import { SessionStateStore } from './state/session-store.js';
import type { StateStore } from './state/store.js';

/** `done(err, user, info)`: a truthy `user` logs in, `false`/`null`/`undefined` fails with `info`. */
export type VerifyCallback = (err: unknown, user?: unknown, info?: Record<string, unknown>) => void;

/**
 * Called with the verified E.164 number. Either call `done`, or return a promise of the user
 * (`false`/`null`/`undefined` to refuse): whichever settles first decides. Any other return
 * value is ignored.
 */
export type VerifyFunction = (phoneNumber: string, done: VerifyCallback) => unknown;

/** {@link VerifyFunction} with the request first (`passReqToCallback: true`). */
export type VerifyFunctionWithRequest = (
  req: Request,
  phoneNumber: string,
  done: VerifyCallback,
) => unknown;

interface CommonOptions {
  /** Vonage application ID, sent as `client_id` and as the JWT's `application_id` claim. */
  applicationId: string;
  /** The application's RSA private key: PEM (PKCS#8 or PKCS#1) string or Buffer, or a KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** Absolute callback URL, sent byte-for-byte as `redirect_uri`; must match the Vonage application. */
  callbackURL: string;
  /** Strategy name for `passport.authenticate(name)`. Default `'number-verification'`. */
  name?: string;
  /** Field read from `req.body`, then `req.query`, on the first leg. Default `'phoneNumber'`. */
  phoneNumberField?: string;
  /** Default `https://oidc.idp.vonage.com/oauth2/auth`. */
  authorizationURL?: string;
  /** Default `https://api-eu.vonage.com/oauth2/token`. */
  tokenURL?: string;
  /** Default `https://api-eu.vonage.com/camara/number-verification/v031/verify`. */
  verifyURL?: string;
  /** Default `openid dpv:FraudPreventionAndDetection#number-verification-verify-read`. */
  scope?: string;
  /** How the number is sent as `login_hint`: `'tel'` (`tel:+44…`, default) or `'e164'` (`+44…`). */
  loginHintFormat?: LoginHintFormat;
  /** Deadline in ms for each back-channel request, from sending it until its body is read. Default 10 000. */
  timeout?: number;
  /** How long, in ms, a started sign-in stays valid. Default 300 000 (5 minutes). */
  stateMaxAge?: number;
  /**
   * An undici Dispatcher for the back channel (custom CA, proxy, pool settings). Default: a
   * keep-alive pool shared by all strategies, at most 64 connections per operator origin, closed by
   * `strategy.close()`.
   */
  dispatcher?: Dispatcher;
  /** Where pending flows live. Default: a {@link SessionStateStore}. */
  store?: StateStore;
  /**
   * Allow plain `http:` endpoint and callback URLs on hosts other than loopback. Off by default:
   * the code and the access token would cross the network in clear text.
   */
  allowInsecureHttp?: boolean;
  /**
   * PKCE (RFC 7636, S256): binds each authorization code to the flow that asked for it, so a leaked
   * code cannot be redeemed with another browser's state. Default `false`: Vonage documents no PKCE.
   * Turn it on once your operator supports it (an operator without PKCE may refuse the parameters).
   */
  pkce?: boolean;
}

export interface StrategyOptions extends CommonOptions {
  passReqToCallback?: false;
}

export interface StrategyOptionsWithRequest extends CommonOptions {
  passReqToCallback: true;
}

/** Per-request options: `passport.authenticate('number-verification', { phoneNumber, appState })`. */
export interface AuthenticateOptions {
  /** The number to verify, instead of reading `phoneNumberField` from the request. */
  phoneNumber?: string | undefined;
  /** Application data (e.g. `{ returnTo: '/cart' }`) kept server-side and handed back as `info.state`. */
  appState?: Record<string, unknown> | undefined;
  /** The same as `appState`, read when `appState` is absent (passport's own types call it a string). */
  state?: Record<string, unknown> | undefined;
}

// Passport's `authenticate(name, options)` takes its own AuthenticateOptions; these two fields make
// the per-request options compile there without a cast (`state` is typed `string` in it).
declare module 'passport' {
  interface AuthenticateOptions {
    /** passport-number-verification: the number to verify, instead of the request's field. */
    phoneNumber?: string | undefined;
    /** passport-number-verification: application data handed back as `info.state`. */
    appState?: Record<string, unknown> | undefined;
  }
}

export const DEFAULTS = {
  name: 'number-verification',
  phoneNumberField: 'phoneNumber',
  authorizationURL: 'https://oidc.idp.vonage.com/oauth2/auth',
  tokenURL: 'https://api-eu.vonage.com/oauth2/token',
  verifyURL: 'https://api-eu.vonage.com/camara/number-verification/v031/verify',
  scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
  loginHintFormat: 'tel',
  timeout: 10_000,
  stateMaxAge: 300_000,
} as const;

/** @internal Options after validation, with defaults applied and the key parsed. */
export interface ResolvedOptions {
  name: string;
  applicationId: string;
  privateKey: KeyObject;
  callbackURL: string;
  phoneNumberField: string;
  authorizationURL: URL;
  tokenURL: URL;
  verifyURL: URL;
  scope: string;
  loginHintFormat: LoginHintFormat;
  timeout: number;
  stateMaxAge: number;
  dispatcher: Dispatcher | undefined;
  store: StateStore;
  passReqToCallback: boolean;
  pkce: boolean;
}

const PREFIX = 'NumberVerificationStrategy';

/** Validates the constructor options, failing fast with a TypeError that names the option. */
export function resolveOptions(
  options: StrategyOptions | StrategyOptionsWithRequest,
): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${PREFIX} requires an options object`);
  }
  const allowHttp = options.allowInsecureHttp === true;
  const callbackURL = requireString(options.callbackURL, 'callbackURL');
  parseEndpoint(callbackURL, 'callbackURL', allowHttp);
  return {
    name: optionalString(options.name, 'name') ?? DEFAULTS.name,
    applicationId: requireString(options.applicationId, 'applicationId'),
    privateKey: parsePrivateKey(options.privateKey),
    callbackURL,
    phoneNumberField:
      optionalString(options.phoneNumberField, 'phoneNumberField') ?? DEFAULTS.phoneNumberField,
    authorizationURL: endpoint(options.authorizationURL, 'authorizationURL', allowHttp),
    tokenURL: endpoint(options.tokenURL, 'tokenURL', allowHttp),
    verifyURL: endpoint(options.verifyURL, 'verifyURL', allowHttp),
    scope: optionalString(options.scope, 'scope') ?? DEFAULTS.scope,
    loginHintFormat: loginHintFormat(options.loginHintFormat),
    timeout: positiveNumber(options.timeout, 'timeout') ?? DEFAULTS.timeout,
    stateMaxAge: positiveNumber(options.stateMaxAge, 'stateMaxAge') ?? DEFAULTS.stateMaxAge,
    dispatcher: options.dispatcher,
    store: stateStore(options.store),
    passReqToCallback: options.passReqToCallback === true,
    pkce: optionalBoolean(options.pkce, 'pkce') ?? false,
  };
}

function requireString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${PREFIX} requires a non-empty ${option} option`);
  }
  return value;
}

function optionalString(value: unknown, option: string): string | undefined {
  return value === undefined ? undefined : requireString(value, option);
}

function positiveNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${PREFIX} requires ${option} to be a positive number of milliseconds`);
  }
  return value;
}

function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${PREFIX} requires ${option} to be a boolean`);
  }
  return value;
}

function loginHintFormat(value: unknown): LoginHintFormat {
  if (value === undefined) return DEFAULTS.loginHintFormat;
  if (value !== 'tel' && value !== 'e164') {
    throw new TypeError(`${PREFIX} requires loginHintFormat to be 'tel' or 'e164'`);
  }
  return value;
}

function stateStore(value: unknown): StateStore {
  if (value === undefined) return new SessionStateStore();
  const store = value as Partial<StateStore> | null;
  if (typeof store?.save !== 'function' || typeof store.take !== 'function') {
    throw new TypeError(
      `${PREFIX} requires store to have save(req, flow) and take(req, state) methods`,
    );
  }
  return value as StateStore;
}

function endpoint(
  value: unknown,
  option: 'authorizationURL' | 'tokenURL' | 'verifyURL',
  allowHttp: boolean,
): URL {
  return parseEndpoint(optionalString(value, option) ?? DEFAULTS[option], option, allowHttp);
}

function parseEndpoint(value: string, option: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${PREFIX} requires ${option} to be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${PREFIX} requires ${option} to be an http(s) URL`);
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname)) {
    throw new TypeError(
      `${PREFIX} requires ${option} to use https (plain http is allowed for loopback hosts, or with allowInsecureHttp: true)`,
    );
  }
  return url;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
