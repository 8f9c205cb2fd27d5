/**
 * Errors the strategy hands to `this.error(...)`, and the fail codes it hands to `this.fail(...)`.
 * Every error has a stable `code` an application can switch on, the operator's HTTP `status`
 * whenever a response came back, and never any secret (token, JWT, code, key) in its text.
 */

/** Longest operator-supplied text (OAuth `error_description`, CAMARA `message`) kept in an error or info. */
export const MAX_OPERATOR_TEXT = 256;

/** Cuts operator-supplied text so a hostile or broken gateway cannot flood logs through us. */
export function cutOperatorText(text: string): string {
  return text.length > MAX_OPERATOR_TEXT ? `${text.slice(0, MAX_OPERATOR_TEXT - 1)}…` : text;
}

// C0 (CR, LF, TAB, ESC…), DEL, C1 (NEL…) and U+2028/U+2029: each can start a fake line in a log
// or drive a terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Every operator-supplied string that reaches an error, `info` or a log line goes through this:
 * control characters removed, then cut to {@link MAX_OPERATOR_TEXT}.
 */
export function cleanOperatorText(text: string): string {
  return cutOperatorText(text.replace(CONTROL_CHARACTERS, ''));
}

// RFC 6749 §4.1.2.1 and §5.2: error = 1*( %x20-21 / %x23-5B / %x5D-7E ).
const OAUTH_ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

/** Whether an operator's `error` (or CAMARA `code`) is made only of the characters RFC 6749 allows. */
export function isOAuthErrorCode(value: string): boolean {
  return OAUTH_ERROR_CODE.test(value);
}

export interface NumberVerificationErrorOptions {
  /** Stable machine-readable code, e.g. `timeout`, `invalid_client`, `UNAUTHENTICATED`. */
  code: string;
  /** HTTP status of the operator's response, when one came back. */
  status?: number | undefined;
  /** The CAMARA `x-correlator` of the sign-in this error belongs to. */
  correlator?: string | undefined;
  cause?: unknown;
}

/**
 * Brand that makes `instanceof` hold across copies of this package: the ESM and CommonJS builds
 * (an app that `import`s it while a library `require`s it), or two installed versions. Each of
 * our classes marks its prototype with its name under a registry symbol every copy shares.
 */
const BRAND = Symbol.for('passport-number-verification.errorClass');

function brandOf(prototype: object): unknown {
  return Object.getOwnPropertyDescriptor(prototype, BRAND)?.value;
}

function ownBrand(prototype: object): string | undefined {
  const brand = brandOf(prototype);
  return typeof brand === 'string' ? brand : undefined;
}

/** Base class of every error this package produces. */
export class NumberVerificationError extends Error {
  readonly code: string;
  readonly status?: number;
  /**
   * The CAMARA `x-correlator` sent with every back-channel request of the sign-in, for a support
   * ticket. Set by the strategy on every error of a sign-in that reached the operator.
   */
  correlator?: string;

  /** `instanceof` by brand, so an error from the other build (ESM/CommonJS) still matches. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const brand = brandOf(this.prototype);
    // An application's own subclass has no brand of its own: ordinary prototype check.
    if (brand === undefined) return Function.prototype[Symbol.hasInstance].call(this, value);
    if (typeof value !== 'object' || value === null) return false;
    let proto = Object.getPrototypeOf(value) as object | null;
    while (proto !== null) {
      if (brandOf(proto) === brand) return true;
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    return false;
  }

  constructor(message: string, options: NumberVerificationErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Our classes' literal names (a minifier renames classes); an app's own subclass keeps its own.
    // `new.target` is read here, not in a helper: Terser inlines helpers into closures, where
    // `new.target` is undefined.
    const { prototype, name } = new.target;
    this.name = ownBrand(prototype) ?? name;
    this.code = cleanOperatorText(options.code);
    if (options.status !== undefined) this.status = options.status;
    if (options.correlator !== undefined) this.correlator = options.correlator;
  }
}

/** The operator redirected back with an OAuth `error` (RFC 6749 §4.1.2.1) other than `access_denied`. */
export class AuthorizationError extends NumberVerificationError {
  /** The operator's `error_description`, cleaned by {@link cleanOperatorText}. */
  readonly description?: string;

  constructor(
    message: string,
    options: NumberVerificationErrorOptions & { description?: string | undefined },
  ) {
    super(message, options);
    if (options.description !== undefined) {
      this.description = cleanOperatorText(options.description);
    }
  }
}

/** The token endpoint (RFC 6749 §4.1.3) failed, timed out or answered something unusable. */
export class TokenError extends NumberVerificationError {}

/** The Number Verification `/verify` endpoint failed, timed out or answered something unusable. */
export class VerificationError extends NumberVerificationError {}

/**
 * OIDC discovery (`camara.discover`) failed or found a document this package cannot use: codes
 * `discovery_failed`, `invalid_discovery_document`, `issuer_mismatch`, `pkce_unsupported`,
 * `client_authentication_unsupported`, or a transport code.
 */
export class DiscoveryError extends NumberVerificationError {}

// Literal names, not `class.name`: a minifier may rename each copy's classes differently.
const brands: [abstract new (...args: never[]) => Error, string][] = [
  [NumberVerificationError, 'NumberVerificationError'],
  [AuthorizationError, 'AuthorizationError'],
  [TokenError, 'TokenError'],
  [VerificationError, 'VerificationError'],
  [DiscoveryError, 'DiscoveryError'],
];
for (const [errorClass, brand] of brands) {
  Object.defineProperty(errorClass.prototype, BRAND, { value: brand });
}

/** Transport-level codes shared by the token and verify legs. */
export type TransportErrorCode = 'timeout' | 'network_error' | 'response_too_large';

/**
 * The user-facing outcomes passed to `fail(info, status)`: `info.code` is one of these keys.
 * The README's fail-code table is written from this map.
 */
export const FAILURES = {
  invalid_phone_number: {
    status: 400,
    message:
      'Enter your mobile number in international format, starting with + and the country code.',
  },
  invalid_state: {
    status: 403,
    message:
      'This sign-in link is no longer valid (it expired, was already used, or was started in another browser). Please start again.',
  },
  access_denied: {
    status: 403,
    message:
      'Your mobile operator could not confirm your number. Please try again or use another sign-in method.',
  },
  invalid_grant: {
    status: 403,
    message: 'The sign-in attempt expired or was already used. Please start again.',
  },
  not_verified: {
    status: 401,
    message: 'The phone number you entered is not the one on the SIM in this device.',
  },
  not_on_mobile_network: {
    status: 403,
    message:
      'Your mobile operator could not see this device on its network. Turn off Wi-Fi, use mobile data, and try again.',
  },
  code_required: {
    status: 401,
    message: 'We could not sign you in silently, so we sent you a code. Enter it to continue.',
  },
  invalid_code: {
    status: 401,
    message: 'That code is not right. Check it and try again.',
  },
  too_many_attempts: {
    status: 403,
    message: 'Too many wrong codes. Please start again to get a new one.',
  },
  expired: {
    status: 403,
    message: 'This sign-in attempt has expired. Please start again.',
  },
  verification_in_progress: {
    status: 409,
    message:
      'A sign-in for this number is already in progress. Finish it, or wait a few minutes and try again.',
  },
  user_rejected: {
    status: 401,
    message: 'This phone number is verified, but it is not allowed to sign in here.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type FailureCode = keyof typeof FAILURES;

/** The `info` object handed to `fail` by the strategy. */
export interface FailureInfo {
  code: FailureCode;
  message: string;
}

export function failure(code: FailureCode): { info: FailureInfo; status: number } {
  const { status, message } = FAILURES[code];
  return { info: { code, message }, status };
}
