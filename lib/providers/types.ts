import type { Dispatcher } from 'undici';
import type { FailureCode } from '../errors.js';

/**
 * `verify`: the user types a number and the operator confirms it (CAMARA `phoneNumberVerify`).
 * `share`: the user types nothing and the operator tells the number (CAMARA `phoneNumberShare`).
 */
export type VerificationMode = 'verify' | 'share';

/** What every back-channel call of a provider gets from the strategy. */
export interface BackChannel {
  /** Deadline in ms for each request, from sending it until its body is read. */
  timeout: number;
  dispatcher?: Dispatcher | undefined;
  /** The CAMARA `x-correlator` of this sign-in, sent with every request. */
  correlator: string;
}

/** The front-channel authorization request (RFC 6749 §4.1.1). */
export interface AuthorizationRequest {
  mode: VerificationMode;
  /** The exact `redirect_uri`, sent again on the token request. */
  redirectUri: string;
  state: string;
  /** `verify` mode: the E.164 number, for `login_hint`. Absent in `share` mode. */
  phoneNumber?: string | undefined;
  /** RFC 7636 §4.2 S256 challenge, present when the provider has `pkce: true`. */
  codeChallenge?: string | undefined;
}

/** The token request's grant (RFC 6749 §4.1.3); the provider adds its client authentication. */
export interface TokenRequest {
  code: string;
  redirectUri: string;
  /** RFC 7636 §4.5 verifier, present when the authorization request carried a challenge. */
  codeVerifier?: string | undefined;
}

export interface VerifyRequest {
  accessToken: string;
  /** E.164 with its `+`. */
  phoneNumber: string;
  /** Send `hashedPhoneNumber` (hex SHA-256 of `phoneNumber`) instead of `phoneNumber`. */
  hashed: boolean;
}

/** The operator's verdict, or a user-facing fail code such as `not_on_mobile_network`. */
export type VerifyAnswer = { verified: boolean } | { failure: FailureCode };

/** The device's number as the operator tells it (checked as E.164 by the strategy), or a fail code. */
export type ShareAnswer = { phoneNumber: string } | { failure: FailureCode };

/**
 * Everything that differs between operators: endpoints, client authentication, authorization
 * parameters, scope, the verify (and share) requests and how their answers map to outcomes.
 * The strategy keeps the rest (state, stores, callback rules, fail codes, timeouts, secrets).
 *
 * Methods throw {@link NumberVerificationError} subclasses (`TokenError`, `VerificationError`)
 * for faults; a `TokenError` with code `invalid_grant` and a 4xx status becomes the fail
 * `invalid_grant`. Never put a secret (token, code, key, assertion) in an error's text.
 */
export interface Provider {
  /** Names the provider in debug output, e.g. `vonage`, `camara`. */
  readonly name: string;
  /** Whether every flow uses PKCE (RFC 7636, S256). */
  readonly pkce: boolean;
  /** The URL the browser is sent to. May use the back channel once (OIDC discovery). */
  authorizationURL(request: AuthorizationRequest, channel: BackChannel): URL | Promise<URL>;
  /** Redeems the authorization code: the access token. */
  exchangeCode(request: TokenRequest, channel: BackChannel): Promise<string>;
  /** Asks whether the device that obtained `accessToken` holds the number. */
  verify(request: VerifyRequest, channel: BackChannel): Promise<VerifyAnswer>;
  /** Asks the device's number; providers without it cannot run in `share` mode. */
  share?(accessToken: string, channel: BackChannel): Promise<ShareAnswer>;
}
