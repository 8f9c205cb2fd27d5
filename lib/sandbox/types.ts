import type { OutboxMessage } from './outbox.js';
import type { KeyObject } from 'node:crypto';

/**
 * An application as registered with the operator: its ID, public key and redirect URIs. One
 * registration serves both dialects: Vonage's (application JWT as a Bearer credential) and
 * CAMARA's (`applicationId` is the `client_id` of a `private_key_jwt` assertion).
 */
export interface SandboxApplication {
  applicationId: string;
  /**
   * PEM (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN RSA PUBLIC KEY`) or a `KeyObject`: RSA (RS256) or
   * EC P-256 (ES256, CAMARA assertions only; Vonage application JWTs are RS256).
   */
  publicKey: string | Buffer | KeyObject;
  /** The key's `kid`: an assertion naming another `kid` is refused. */
  keyId?: string;
  /**
   * A client secret, for operators that authenticate clients with `client_secret_basic`
   * (RFC 6749 §2.3.1) instead: then `Authorization: Basic` is accepted too.
   */
  clientSecret?: string;
  /** Compared byte for byte with `redirect_uri` (RFC 6749 §3.1.2.3 simple string comparison). */
  redirectUris: string[];
}

export interface SandboxOptions {
  /** Registered applications. Without any, the sandbox makes a demo application (see `strategyOptions`, `verifyStrategyOptions`). */
  applications?: SandboxApplication[];
  /**
   * The demo application to use instead of a fresh one (the CLI keeps one across restarts), with
   * the redirect URIs it accepts from the start. Ignored when `applications` lists any.
   */
  demoApplication?: {
    applicationId: string;
    /** RSA private key: PEM (PKCS#8 or PKCS#1) or a `KeyObject`. */
    privateKey: string | Buffer | KeyObject;
    redirectUris?: string[];
  };
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** `login_hint` number → number of the SIM the "device" really holds (numbers outside `+990`). */
  devices?: Record<string, string>;
  /**
   * The number of the SIM in the device that opens the authorization page without a `login_hint`
   * (CAMARA share mode), subject to the Virtual Operator rules. Default `+99012345678`.
   */
  deviceNumber?: string;
  /** Lifetime of an authorization code (default 60 000 ms). */
  codeTtlMs?: number;
  /** `expires_in` of access tokens (default 300 s). */
  tokenTtlSeconds?: number;
  /** Furthest `exp` accepted in a client JWT, counted from now (default 900 s, Vonage's default TTL). */
  jwtMaxLifetimeSeconds?: number;
  /** Clock in epoch milliseconds; tests pass a fake one to expire codes, tokens and JWTs. */
  clock?: () => number;
  /**
   * Refuse what Vonage's service lets through but a careful client never sends: a missing or short
   * `state` (fewer than 8 characters; RFC 6749 §10.12) and a second call with one access token.
   * Default `false`, which behaves as Vonage's SDKs expect: their authorization URLs may carry no
   * `state` or a short one, and the Node SDK reuses a token until its `expires_in`. This package's
   * own tests run strict, so a regression in the strategy cannot hide behind the leniency.
   */
  strict?: boolean;
}

/** The endpoints a request is reported under. */
export type SandboxEndpoint =
  | 'auth'
  | 'token'
  | 'verify'
  | 'device-phone-number'
  | 'discovery'
  | Verify2Endpoint
  | 'outbox'
  | 'other';

/**
 * Verify v2: `POST /v2/verify` (start), `POST /v2/verify/{id}` (check), `…/next_workflow` (next),
 * `DELETE /v2/verify/{id}` (cancel) and the `check_url` the device opens (silent-auth).
 */
export type Verify2Endpoint =
  'verify2-start' | 'verify2-check' | 'verify2-next' | 'verify2-cancel' | 'silent-auth';

/** The endpoints a fault can be injected into; `verify` covers the Vonage and the CAMARA v2 path. */
export type FaultEndpoint =
  'auth' | 'token' | 'verify' | 'device-phone-number' | 'discovery' | Verify2Endpoint;

/** The error body shapes operators answer with. */
export type ErrorShape = 'rfc6749' | 'camara' | 'rfc7807';

export interface FaultInjection {
  endpoint: FaultEndpoint;
  /** Answer this status instead of the real one (with a default body for the endpoint unless `body` is given). */
  status?: number;
  /** Answer this body: objects are sent as JSON, strings as they are. */
  body?: string | object;
  /** Content-Type of `body` (default `application/json` for objects, `text/plain; charset=utf-8` for strings). */
  contentType?: string;
  /** Extra response headers, added to whatever is answered. */
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection before any byte of the response, or after the headers and half the body. */
  reset?: 'before-body' | 'during-body';
  /** Send the response body `chunkBytes` at a time, one chunk every `intervalMs`. */
  trickle?: { chunkBytes: number; intervalMs: number };
  /** Answer a truncated JSON document (status 200 unless `status` is given). */
  malformedJson?: true;
  /** Answer a valid JSON document of exactly this many bytes (status 200 unless `status` is given). */
  oversizedBytes?: number;
  /**
   * `token` and `verify` only, with `status`: the shape of the default error body — `rfc6749`
   * (`{error, error_description}`, the token endpoint's default), `camara` (ErrorInfo
   * `{status, code, message}`, the verify endpoint's default) or `rfc7807` (problem+json
   * `{type, title, status, detail}`). All three come from Vonage's endpoints.
   */
  errorShape?: ErrorShape;
  /** `auth` only: redirect back with `?error=<error>&error_description=..&state=..` (e.g. `access_denied`). */
  error?: string;
  /** Apply to this many requests, then retire (default: unlimited). */
  times?: number;
  /** Probability (0..1) that a request gets the fault (default 1). */
  rate?: number;
}

export interface FaultHandle {
  /** How many requests the fault has been applied to. */
  readonly count: number;
  remove(): void;
}

/** One handled request; never carries tokens, codes, JWTs or full phone numbers. */
export interface SandboxEvent {
  endpoint: SandboxEndpoint;
  method: string;
  /** HTTP status answered; 0 when the connection was dropped before a status line. */
  status: number;
  /** e.g. `code_issued`, `invalid_client`, `token_issued`, `verified`, `not_verified`, `fault`. */
  outcome: string;
  durationMs: number;
  /** The number involved, redacted with `redactPhoneNumber`. */
  phoneNumber?: string;
  /** True when an injected fault touched the request (latency, trickle, headers or a whole answer). */
  faulted?: boolean;
}

export interface SandboxEndpoints {
  authorizationURL: string;
  tokenURL: string;
  /** Vonage's path: `/camara/number-verification/v031/verify`. */
  verifyURL: string;
}

/** Verify v2: the base URL to give the strategy's `verifyBaseURL` and the local outbox page. */
export interface Verify2Endpoints {
  verifyBaseURL: string;
  outboxURL: string;
}

/** CAMARA v2 (`camara()` provider): the issuer, its endpoints and the API root. */
export interface CamaraEndpoints {
  /** OIDC issuer: `{issuer}/.well-known/openid-configuration` is served. */
  issuer: string;
  discoveryURL: string;
  authorizationURL: string;
  tokenURL: string;
  /** CAMARA `apiRoot`: the v2 paths below are under it. */
  apiRoot: string;
  verifyURL: string;
  devicePhoneNumberURL: string;
}

/** The demo application's ID and key, and the callback URL the sandbox registered for it. */
export interface SandboxDemoCredentials {
  applicationId: string;
  /** The demo application's private key, PKCS#8 PEM. */
  privateKey: string;
  callbackURL: string;
}

/** Everything `new NumberVerificationStrategy(...)` needs to sign in against the sandbox. */
export interface SandboxStrategyOptions extends SandboxEndpoints, SandboxDemoCredentials {}

/** What `new VerifySilentAuthStrategy(options, verify)` needs against the sandbox. */
export interface SandboxVerifyStrategyOptions extends SandboxDemoCredentials {
  /** The sandbox's Verify v2 base URL (`verify2Endpoints.verifyBaseURL`). */
  verifyBaseURL: string;
  /** Shown in the code messages of the outbox (`'Sandbox'` unless given). */
  brand: string;
}

/** The demo application the sandbox made (or was given): its ID and its private key (PKCS#8 PEM). */
export interface SandboxDemoApplication {
  readonly applicationId: string;
  readonly privateKey: string;
}

export interface Sandbox {
  listen(port?: number, host?: string): Promise<void>;
  /** The demo application, when the sandbox was created without `applications`. */
  readonly demoApplication: SandboxDemoApplication | undefined;
  /**
   * After `listen`: registers `callbackURL` as a redirect URI of the demo application and returns
   * `{ applicationId, privateKey, callbackURL, authorizationURL, tokenURL, verifyURL }`.
   * Throws when the sandbox has no demo application (it was given `applications`).
   */
  strategyOptions(options: { callbackURL: string }): SandboxStrategyOptions;
  /**
   * The same for `VerifySilentAuthStrategy`: registers `callbackURL` and returns
   * `{ applicationId, privateKey, callbackURL, verifyBaseURL, brand }` (`brand` default
   * `'Sandbox'`). Throws like `strategyOptions`.
   */
  verifyStrategyOptions(options: {
    callbackURL: string;
    brand?: string;
  }): SandboxVerifyStrategyOptions;
  readonly url: string;
  readonly endpoints: SandboxEndpoints;
  readonly camaraEndpoints: CamaraEndpoints;
  readonly verify2Endpoints: Verify2Endpoints;
  /** Codes "sent" by Verify v2 to `to` (`+447…`, `447…` or an e-mail address), oldest first; all without `to`. */
  outbox(to?: string): OutboxMessage[];
  addApplication(application: SandboxApplication): void;
  inject(fault: FaultInjection): FaultHandle;
  clearFaults(): void;
  on(event: 'request', listener: (event: SandboxEvent) => void): this;
  off(event: 'request', listener: (event: SandboxEvent) => void): this;
  close(): Promise<void>;
}
