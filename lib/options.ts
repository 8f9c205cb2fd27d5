import type { Request } from 'express';
import type { Dispatcher } from 'undici';
import { optionalBoolean, optionalString, parseEndpoint, requireString } from './option-checks.js';
import type { Provider, VerificationMode } from './providers/types.js';
import { createVonageProvider, type VonageOptions } from './providers/vonage.js';
import { isPhoneCountry, type CountryCode } from './phone-number.js';
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

/** Options every strategy of this package takes. */
export interface CommonOptions {
  /** Absolute callback URL, sent byte-for-byte as `redirect_uri`; must match the registered one. */
  callbackURL: string;
  /** Strategy name for `passport.authenticate(name)`. Default `'number-verification'`. */
  name?: string;
  /** Field read from `req.body`, then `req.query`, on the first leg. Default `'phoneNumber'`. */
  phoneNumberField?: string;
  /**
   * ISO 3166 alpha-2 country (`'GB'`, `'DE'`) for numbers typed without `+`: they are read as
   * national numbers of this country (libphonenumber-js). Default: none, a number needs its `+`.
   */
  defaultCountry?: CountryCode;
  /**
   * `'verify'` (default): the user types a number and the operator confirms it. `'share'`: the user
   * types nothing and the operator tells the device's number (CAMARA providers only).
   */
  mode?: VerificationMode;
  /** Send `hashedPhoneNumber` (hex SHA-256 of `+E164`) instead of the number itself. Default `false`. */
  hashPhoneNumber?: boolean;
  /**
   * Deadline in ms for each back-channel request, from sending it until its body is read: a whole
   * number from 1 to 2,147,483,647. Default 10 000.
   */
  timeout?: number;
  /** How long, in ms (a whole number from 1 to 2,147,483,647), a started sign-in stays valid. Default 300 000. */
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
}

/** Vonage configured with flat options (as in 0.1.0): the same as `provider: vonage({...})`. */
export type VonageFlatOptions = CommonOptions & VonageOptions & { provider?: undefined };

/** Any operator through a provider: `vonage({...})`, `camara({...})` or your own. */
export type ProviderStrategyOptions = CommonOptions & {
  provider: Provider;
} & { [K in Exclude<keyof VonageOptions, 'allowInsecureHttp'>]?: never };

export type StrategyOptions = (VonageFlatOptions | ProviderStrategyOptions) & {
  passReqToCallback?: false;
};

export type StrategyOptionsWithRequest = (VonageFlatOptions | ProviderStrategyOptions) & {
  passReqToCallback: true;
};

/** Per-request options: `passport.authenticate('number-verification', { phoneNumber, appState })`. */
export interface AuthenticateOptions {
  /** The number to verify, instead of reading `phoneNumberField` from the request. */
  phoneNumber?: string | undefined;
  /** Application data (e.g. `{ returnTo: '/cart' }`) kept server-side and handed back as `info.state`. */
  appState?: Record<string, unknown> | undefined;
  /** The same as `appState`, read when `appState` is absent (passport's own types call it a string). */
  state?: Record<string, unknown> | undefined;
  /**
   * The CAMARA `x-correlator` for this sign-in's back-channel requests (e.g. the app's request ID;
   * pattern `[A-Za-z0-9-_:;./<>{}]`, ≤ 256). Default: a UUID chosen on the first leg.
   */
  correlator?: string | undefined;
}

// Passport's `authenticate(name, options)` takes its own AuthenticateOptions; these fields make
// the per-request options compile there without a cast (`state` is typed `string` in it).
declare module 'passport' {
  interface AuthenticateOptions {
    /** passport-number-verification: the number to verify, instead of the request's field. */
    phoneNumber?: string | undefined;
    /** passport-number-verification: application data handed back as `info.state`. */
    appState?: Record<string, unknown> | undefined;
    /** passport-number-verification: the CAMARA `x-correlator` of this sign-in. */
    correlator?: string | undefined;
  }
}

export const DEFAULTS = {
  name: 'number-verification',
  phoneNumberField: 'phoneNumber',
  mode: 'verify',
  timeout: 10_000,
  stateMaxAge: 300_000,
} as const;

/** @internal Options after validation, with defaults applied and the provider built. */
export interface ResolvedOptions {
  name: string;
  provider: Provider;
  callbackURL: string;
  phoneNumberField: string;
  defaultCountry: CountryCode | undefined;
  mode: VerificationMode;
  hashPhoneNumber: boolean;
  timeout: number;
  stateMaxAge: number;
  dispatcher: Dispatcher | undefined;
  store: StateStore;
  passReqToCallback: boolean;
}

const PREFIX = 'NumberVerificationStrategy';

/** The flat Vonage options, refused beside `provider` (the provider carries its own). */
const VONAGE_FLAT_OPTIONS = [
  'applicationId',
  'privateKey',
  'authorizationURL',
  'tokenURL',
  'verifyURL',
  'scope',
  'loginHintFormat',
  'pkce',
] as const satisfies readonly Exclude<keyof VonageOptions, 'allowInsecureHttp'>[];

/** Validates the constructor options, failing fast with a TypeError that names the option. */
export function resolveOptions(
  options: StrategyOptions | StrategyOptionsWithRequest,
): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${PREFIX} requires an options object`);
  }
  const allowHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp', PREFIX);
  const callbackURL = requireString(options.callbackURL, 'callbackURL', PREFIX);
  parseEndpoint(callbackURL, 'callbackURL', PREFIX, allowHttp === true);
  const mode = options.mode ?? DEFAULTS.mode;
  if (mode !== 'verify' && mode !== 'share') {
    throw new TypeError(`${PREFIX} requires mode to be 'verify' or 'share'`);
  }
  const provider =
    options.provider === undefined ? createVonageProvider(options, PREFIX) : checkProvider(options);
  if (mode === 'share' && typeof provider.share !== 'function') {
    throw new TypeError(`${PREFIX}: the ${provider.name} provider cannot run in share mode`);
  }
  return {
    name: optionalString(options.name, 'name', PREFIX) ?? DEFAULTS.name,
    provider,
    callbackURL,
    phoneNumberField:
      optionalString(options.phoneNumberField, 'phoneNumberField', PREFIX) ??
      DEFAULTS.phoneNumberField,
    defaultCountry: phoneCountry(options.defaultCountry),
    mode,
    hashPhoneNumber: optionalBoolean(options.hashPhoneNumber, 'hashPhoneNumber', PREFIX) ?? false,
    timeout: milliseconds(options.timeout, 'timeout') ?? DEFAULTS.timeout,
    stateMaxAge: milliseconds(options.stateMaxAge, 'stateMaxAge') ?? DEFAULTS.stateMaxAge,
    dispatcher: options.dispatcher,
    store: stateStore(options.store),
    passReqToCallback: options.passReqToCallback === true,
  };
}

function checkProvider(options: ProviderStrategyOptions): Provider {
  const { provider } = options;
  const flat = VONAGE_FLAT_OPTIONS.filter((name) => options[name] !== undefined);
  if (flat.length > 0) {
    throw new TypeError(
      `${PREFIX} takes either provider or the flat Vonage options, not both (${flat.join(', ')} belong in the provider)`,
    );
  }
  const candidate = provider as Partial<Provider> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.name !== 'string' ||
    typeof candidate.pkce !== 'boolean' ||
    typeof candidate.authorizationURL !== 'function' ||
    typeof candidate.exchangeCode !== 'function' ||
    typeof candidate.verify !== 'function'
  ) {
    throw new TypeError(
      `${PREFIX} requires provider to be a Provider (name, pkce, authorizationURL, exchangeCode, verify), e.g. camara({...})`,
    );
  }
  return provider;
}

/** Longest delay a Node timer honours (2^31 - 1 ms); beyond it `setTimeout` fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of milliseconds a timer can honour: `AbortSignal.timeout` refuses fractions. */
export function milliseconds(value: unknown, option: string, owner = PREFIX): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_TIMER_MS) {
    throw new TypeError(
      `${owner} requires ${option} to be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`,
    );
  }
  return value as number;
}

export function phoneCountry(value: unknown, owner = PREFIX): CountryCode | undefined {
  if (value === undefined || isPhoneCountry(value)) return value;
  throw new TypeError(
    `${owner} requires defaultCountry to be an ISO 3166 alpha-2 code in upper case, e.g. 'GB'`,
  );
}

export function stateStore(value: unknown, owner = PREFIX): StateStore {
  if (value === undefined) return new SessionStateStore();
  const store = value as Partial<StateStore> | null;
  if (typeof store?.save !== 'function' || typeof store.take !== 'function') {
    throw new TypeError(
      `${owner} requires store to have save(req, flow) and take(req, state) methods`,
    );
  }
  return value as StateStore;
}
