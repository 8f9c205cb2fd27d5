import type { KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { optionalBoolean, optionalString, parseEndpoint, requireString } from './option-checks.js';
import { milliseconds, phoneCountry, stateStore, type CommonOptions } from './options.js';
import { parseSigningKey } from './protocol/client-auth.js';
import type { CountryCode } from './phone-number.js';
import type { FallbackChannel } from './protocol/verify2.js';
import type { StateStore } from './state/store.js';

export type { FallbackChannel } from './protocol/verify2.js';

interface VerifyCommonOptions extends Omit<CommonOptions, 'mode' | 'hashPhoneNumber' | 'name'> {
  /** Vonage application ID: the `application_id` of the JWT that authenticates every call. */
  applicationId: string;
  /** The application's RSA private key: PEM (PKCS#8 or PKCS#1) string or Buffer, or a KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** Shown to the user in the code message ("Acme: your code is …"); Vonage allows 16 characters. */
  brand: string;
  /**
   * Channels tried, in order, after silent authentication: `'sms'`, `'rcs'` (Vonage's default RCS
   * agent), `'whatsapp'`, `'voice'`, `'email'` (the last needs an address: the `email`
   * authenticate option or body field).
   * Default `['sms']`; `[]` means silent authentication only.
   */
  fallback?: FallbackChannel[];
  /** Digits of the one-time code, 4–10 (Vonage's default: 4). */
  codeLength?: number;
  /** Language of the code message, e.g. `'en-gb'` (Vonage's default: `en-us`). */
  locale?: string;
  /** Seconds each channel gets before Verify moves on, 15–900 (Vonage's default: 300). */
  channelTimeout?: number;
  /** Default `https://api.nexmo.com`. */
  verifyBaseURL?: string;
  /** Strategy name for `passport.authenticate(name)`. Default `'vonage-verify'`. */
  name?: string;
  /** Body (then query) field holding the user's e-mail address for an `email` fallback. Default `'email'`. */
  emailField?: string;
}

export interface VerifyStrategyOptions extends VerifyCommonOptions {
  passReqToCallback?: false;
}

export interface VerifyStrategyOptionsWithRequest extends VerifyCommonOptions {
  passReqToCallback: true;
}

/** Per-request options: `passport.authenticate('vonage-verify', { phoneNumber, state, … })`. */
export interface VerifyAuthenticateOptions {
  /** The number to verify, instead of reading `phoneNumberField` from the request. */
  phoneNumber?: string;
  /** The address for an `email` fallback, instead of reading `emailField` from the request. */
  email?: string;
  /** Application data (e.g. `{ returnTo: '/cart' }`) kept server-side and handed back as `info.state`. */
  appState?: Record<string, unknown> | undefined;
  /** The same as `appState`, read when `appState` is absent. */
  state?: Record<string, unknown> | undefined;
  /**
   * The user cannot do silent authentication (the app knows they are on Wi-Fi, or they asked for a
   * code): the request moves straight on to the first fallback channel and the first leg ends
   * with `fail({ code: 'code_required', channel })`.
   */
  skipSilentAuth?: boolean;
  /** The `x-correlator` for this sign-in's back-channel requests. Default: a UUID. */
  correlator?: string;
}

export const VERIFY_DEFAULTS = {
  name: 'vonage-verify',
  phoneNumberField: 'phoneNumber',
  emailField: 'email',
  fallback: ['sms'],
  verifyBaseURL: 'https://api.nexmo.com',
  timeout: 10_000,
  stateMaxAge: 300_000,
} as const;

/** @internal */
export interface ResolvedVerifyOptions {
  name: string;
  applicationId: string;
  privateKey: KeyObject;
  callbackURL: string;
  brand: string;
  fallback: readonly FallbackChannel[];
  codeLength: number | undefined;
  locale: string | undefined;
  channelTimeout: number | undefined;
  verifyBaseURL: URL;
  phoneNumberField: string;
  defaultCountry: CountryCode | undefined;
  emailField: string;
  timeout: number;
  stateMaxAge: number;
  dispatcher: Dispatcher | undefined;
  store: StateStore;
  passReqToCallback: boolean;
}

const OWNER = 'VerifySilentAuthStrategy';
const CHANNELS: ReadonlySet<string> = new Set(['sms', 'rcs', 'whatsapp', 'voice', 'email']);

function fallbackChannels(value: unknown): readonly FallbackChannel[] {
  if (value === undefined) return VERIFY_DEFAULTS.fallback;
  if (
    !Array.isArray(value) ||
    value.some((channel) => typeof channel !== 'string' || !CHANNELS.has(channel)) ||
    new Set(value).size !== value.length
  ) {
    throw new TypeError(
      `${OWNER} requires fallback to list distinct channels among 'sms', 'rcs', 'whatsapp', 'voice', 'email'`,
    );
  }
  return [...(value as FallbackChannel[])];
}

function integerIn(value: unknown, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${OWNER} requires ${option} to be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Validates the constructor options, failing fast with a TypeError that names the option. */
export function resolveVerifyOptions(
  options: VerifyStrategyOptions | VerifyStrategyOptionsWithRequest,
): ResolvedVerifyOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${OWNER} requires an options object`);
  }
  const allowHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp', OWNER) === true;
  const callbackURL = requireString(options.callbackURL, 'callbackURL', OWNER);
  parseEndpoint(callbackURL, 'callbackURL', OWNER, allowHttp);
  const brand = requireString(options.brand, 'brand', OWNER);
  if (brand.length > 16) throw new TypeError(`${OWNER} requires brand to be at most 16 characters`);
  const locale = optionalString(options.locale, 'locale', OWNER);
  if (locale !== undefined && !/^[a-z]{2}-[a-z]{2}$/.test(locale)) {
    throw new TypeError(`${OWNER} requires locale to look like 'en-gb'`);
  }
  return {
    name: optionalString(options.name, 'name', OWNER) ?? VERIFY_DEFAULTS.name,
    applicationId: requireString(options.applicationId, 'applicationId', OWNER),
    privateKey: parseSigningKey(options.privateKey, OWNER, ['RS256']).key,
    callbackURL,
    brand,
    fallback: fallbackChannels(options.fallback),
    codeLength: integerIn(options.codeLength, 'codeLength', 4, 10),
    locale,
    channelTimeout: integerIn(options.channelTimeout, 'channelTimeout', 15, 900),
    verifyBaseURL: parseEndpoint(
      optionalString(options.verifyBaseURL, 'verifyBaseURL', OWNER) ??
        VERIFY_DEFAULTS.verifyBaseURL,
      'verifyBaseURL',
      OWNER,
      allowHttp,
    ),
    phoneNumberField:
      optionalString(options.phoneNumberField, 'phoneNumberField', OWNER) ??
      VERIFY_DEFAULTS.phoneNumberField,
    defaultCountry: phoneCountry(options.defaultCountry, OWNER),
    emailField:
      optionalString(options.emailField, 'emailField', OWNER) ?? VERIFY_DEFAULTS.emailField,
    timeout: milliseconds(options.timeout, 'timeout', OWNER) ?? VERIFY_DEFAULTS.timeout,
    stateMaxAge:
      milliseconds(options.stateMaxAge, 'stateMaxAge', OWNER) ?? VERIFY_DEFAULTS.stateMaxAge,
    dispatcher: options.dispatcher,
    store: stateStore(options.store, OWNER),
    passReqToCallback: options.passReqToCallback === true,
  };
}
