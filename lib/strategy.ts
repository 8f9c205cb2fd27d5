import type { Request } from 'express';
import { debug } from './debug.js';
import { isPromiseLike, isRecord } from './guards.js';
import {
  AuthorizationError,
  cutOperatorText,
  failure,
  TokenError,
  VerificationError,
  type FailureCode,
} from './errors.js';
import {
  resolveOptions,
  type AuthenticateOptions,
  type ResolvedOptions,
  type StrategyOptions,
  type StrategyOptionsWithRequest,
  type VerifyCallback,
  type VerifyFunction,
  type VerifyFunctionWithRequest,
} from './options.js';
import { PassportStrategyBase } from './passport-base.js';
import { isSafeReturnTo } from './return-to.js';
import { normalizePhoneNumber, redactPhoneNumber } from './phone-number.js';
import { buildAuthorizationURL } from './protocol/authorization-url.js';
import { leaseDefaultDispatcher, type DispatcherLease } from './protocol/dispatcher.js';
import { codeChallengeS256, createCodeVerifier } from './protocol/pkce.js';
import { exchangeCode } from './protocol/token.js';
import { NOT_ON_MOBILE_NETWORK_CODE, verifyPhoneNumber } from './protocol/verify.js';
import { createStateValue } from './state/state-value.js';
import { isFlowFor, type PendingFlow } from './state/store.js';

type Query = Record<string, unknown>;

interface CallbackParameters {
  code: string | undefined;
  state: string | undefined;
  error: string | undefined;
  errorDescription: string | undefined;
}

interface VerifyOutcome {
  err: unknown;
  user: unknown;
  info: Record<string, unknown> | undefined;
}

/**
 * Passport strategy for silent login with Vonage / CAMARA Number Verification.
 *
 * First leg: redirects the browser to the operator with the typed number as `login_hint`.
 * Callback: consumes the state, exchanges the code, asks `/verify`, then calls `verify`.
 *
 * Passport runs each request on `Object.create(strategy)`, so state lives in ordinary
 * properties (not `#private` fields, which a derived object cannot reach).
 */
export class NumberVerificationStrategy extends PassportStrategyBase {
  override name: string;
  /** @internal */
  protected readonly _options: ResolvedOptions;
  /** @internal */
  protected readonly _verify: VerifyFunction | VerifyFunctionWithRequest;
  /** @internal The shared default pool, held unless the app passed its own `dispatcher`. */
  protected readonly _dispatcherLease: DispatcherLease | undefined;

  constructor(options: StrategyOptions, verify: VerifyFunction);
  constructor(options: StrategyOptionsWithRequest, verify: VerifyFunctionWithRequest);
  constructor(
    options: StrategyOptions | StrategyOptionsWithRequest,
    verify: VerifyFunction | VerifyFunctionWithRequest,
  ) {
    super();
    if (typeof verify !== 'function') {
      throw new TypeError('NumberVerificationStrategy requires a verify function');
    }
    const resolved = resolveOptions(options);
    this._dispatcherLease = resolved.dispatcher ? undefined : leaseDefaultDispatcher();
    this._options = {
      ...resolved,
      dispatcher: resolved.dispatcher ?? this._dispatcherLease?.dispatcher,
    };
    this._verify = verify;
    this.name = this._options.name;
  }

  /**
   * Lets go of the default back-channel pool, closing it once no other strategy uses it (on
   * shutdown, in tests). A `dispatcher` passed in the options is the app's to close. Idempotent.
   */
  close(): Promise<void> {
    return this._dispatcherLease?.release() ?? Promise.resolve();
  }

  /** [Passport method] Runs the first leg or the callback; every outcome goes through an action. */
  override authenticate(req: Request, options: AuthenticateOptions = {}): void {
    // Each phase reports its own errors with this.error; the catch is the last line of defence,
    // so that not even a bug can become an unhandled rejection.
    this.route(req, options).catch((err: unknown) => this.error(err));
  }

  private async route(req: Request, options: AuthenticateOptions): Promise<void> {
    const query = readQuery(req);
    if (isCallback(query)) return this.handleCallback(req, readCallbackParameters(query));
    return this.startAuthorization(req, query, options);
  }

  /** First leg: store a pending flow and redirect to the operator (RFC 6749 §4.1.1). */
  private async startAuthorization(
    req: Request,
    query: Query,
    options: AuthenticateOptions,
  ): Promise<void> {
    const phoneNumber = normalizePhoneNumber(this.requestedPhoneNumber(req, query, options));
    if (phoneNumber === undefined) return this.failWith('invalid_phone_number');
    const requested: unknown = options.appState ?? options.state;
    if (requested !== undefined && !isRecord(requested)) {
      return this.error(
        new TypeError('NumberVerificationStrategy: the appState option must be a plain object'),
      );
    }
    const appState = withSafeReturnTo(requested);
    const { callbackURL, stateMaxAge, store } = this._options;
    const flow: PendingFlow = {
      state: createStateValue(),
      strategy: this.name,
      phoneNumber,
      callbackURL,
      ...(appState === undefined ? {} : { appState }),
      ...(this._options.pkce ? { codeVerifier: createCodeVerifier() } : {}),
      expiresAt: Date.now() + stateMaxAge,
    };
    try {
      await store.save(req, flow);
    } catch (err) {
      return this.error(err);
    }
    debug('redirecting %s to the operator', redactPhoneNumber(phoneNumber));
    this.redirect(
      buildAuthorizationURL({
        authorizationURL: this._options.authorizationURL,
        applicationId: this._options.applicationId,
        scope: this._options.scope,
        redirectUri: callbackURL,
        state: flow.state,
        phoneNumber,
        loginHintFormat: this._options.loginHintFormat,
        codeChallenge: flow.codeVerifier && codeChallengeS256(flow.codeVerifier),
      }),
    );
  }

  /** Callback: state, then the operator's answer, then token, verify, and the app's verify. */
  private async handleCallback(req: Request, params: CallbackParameters): Promise<void> {
    let flow: PendingFlow | undefined;
    try {
      // RFC 6749 §10.12: the state ties this callback to the browser that started the flow.
      // It is consumed before anything else, so a replayed or failed callback cannot reuse it.
      flow =
        params.state === undefined ? undefined : await this._options.store.take(req, params.state);
    } catch (err) {
      return this.error(err);
    }
    if (!isFlowFor(flow, params.state, this.name)) {
      debug('callback refused: unknown, used or expired state, or made by another strategy');
      return this.failWith('invalid_state');
    }
    // RFC 6749 §4.1.2.1: an error response wins over a code.
    if (params.error === 'access_denied') return this.failWith('access_denied', flow);
    if (params.error !== undefined) {
      return this.error(
        new AuthorizationError(
          `The operator refused the authorization request (${params.error})${params.errorDescription ? `: ${params.errorDescription}` : ''}`,
          { code: params.error, description: params.errorDescription },
        ),
      );
    }
    if (params.code === undefined) {
      return this.error(
        new AuthorizationError('The operator redirected back with neither a code nor an error', {
          code: 'invalid_request',
        }),
      );
    }
    let verified: boolean;
    try {
      verified = await this.checkWithOperator(params.code, flow);
    } catch (err) {
      const code = failureCodeOf(err);
      return code === undefined ? this.error(err) : this.failWith(code, flow);
    }
    if (!verified) return this.failWith('not_verified', flow);
    const outcome = await this.runVerify(req, flow.phoneNumber);
    if (outcome.err) return this.error(outcome.err);
    if (!outcome.user) {
      return outcome.info ? this.fail(outcome.info) : this.failWith('user_rejected', flow);
    }
    this.success(outcome.user, {
      ...outcome.info,
      phoneNumber: flow.phoneNumber,
      ...(flow.appState === undefined ? {} : { state: flow.appState }),
    });
  }

  /** Token exchange (RFC 6749 §4.1.3) then CAMARA NV `POST /verify` for the stored number. */
  private async checkWithOperator(code: string, flow: PendingFlow): Promise<boolean> {
    const backChannel = { timeout: this._options.timeout, dispatcher: this._options.dispatcher };
    const accessToken = await exchangeCode(
      {
        tokenURL: this._options.tokenURL,
        applicationId: this._options.applicationId,
        privateKey: this._options.privateKey,
        code,
        redirectUri: flow.callbackURL,
        codeVerifier: flow.codeVerifier,
      },
      backChannel,
    );
    debug('token obtained for %s', redactPhoneNumber(flow.phoneNumber));
    const verified = await verifyPhoneNumber(
      { verifyURL: this._options.verifyURL, accessToken, phoneNumber: flow.phoneNumber },
      backChannel,
    );
    debug('operator answered %s for %s', verified, redactPhoneNumber(flow.phoneNumber));
    return verified;
  }

  /** Calls the app's verify; the first of `done` or the returned promise decides, once. */
  private runVerify(req: Request, phoneNumber: string): Promise<VerifyOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const done: VerifyCallback = (err, user, info) => {
        if (settled) return;
        settled = true;
        resolve({ err, user, info });
      };
      try {
        const result = this._options.passReqToCallback
          ? (this._verify as VerifyFunctionWithRequest)(req, phoneNumber, done)
          : (this._verify as VerifyFunction)(phoneNumber, done);
        if (isPromiseLike(result)) {
          result.then(
            (user) => done(null, user),
            (err: unknown) => done(err ?? new Error('verify rejected without a reason')),
          );
        }
      } catch (err) {
        done(err);
      }
    });
  }

  private requestedPhoneNumber(req: Request, query: Query, options: AuthenticateOptions): unknown {
    if (options.phoneNumber !== undefined) return options.phoneNumber;
    const field = this._options.phoneNumberField;
    const body: unknown = req.body;
    if (isRecord(body) && Object.hasOwn(body, field)) return body[field];
    return Object.hasOwn(query, field) ? query[field] : undefined;
  }

  /** `fail` with a stable code; once a flow was consumed, its app data rides along as `info.state`. */
  private failWith(code: FailureCode, flow?: PendingFlow): void {
    const { info, status } = failure(code);
    this.fail(
      flow?.appState === undefined ? { ...info } : { ...info, state: flow.appState },
      status,
    );
  }
}

/**
 * Drops a `returnTo` that is not a same-origin relative path, so `info.state.returnTo` is always
 * safe to redirect to: a crafted login link cannot turn the app into an open redirector.
 */
function withSafeReturnTo(
  appState: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (appState === undefined || !Object.hasOwn(appState, 'returnTo')) return appState;
  if (isSafeReturnTo(appState.returnTo)) return appState;
  debug('dropping a returnTo that is not a same-origin relative path');
  return Object.fromEntries(Object.entries(appState).filter(([key]) => key !== 'returnTo'));
}

/** Errors that are the user's situation rather than a fault: they become `fail`, not `error`. */
function failureCodeOf(err: unknown): FailureCode | undefined {
  // RFC 6749 §5.2: the code expired, was used, or belongs to another flow.
  if (err instanceof TokenError && err.code === 'invalid_grant' && isClientError(err.status)) {
    return 'invalid_grant';
  }
  // CAMARA NV: the operator could not see the device on its mobile network (Wi-Fi, roaming).
  if (
    err instanceof VerificationError &&
    err.status === 403 &&
    err.code === NOT_ON_MOBILE_NETWORK_CODE
  ) {
    return 'not_on_mobile_network';
  }
  return undefined;
}

function isClientError(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500;
}

function readQuery(req: Request): Query {
  const query: unknown = req.query;
  if (isRecord(query)) return query;
  // Without Express's query parser, read the raw URL.
  const parsed: Query = {};
  for (const [name, value] of new URL(req.url ?? '/', 'http://localhost').searchParams) {
    const previous = parsed[name];
    parsed[name] = previous === undefined ? value : [previous, value].flat();
  }
  return parsed;
}

function isCallback(query: Query): boolean {
  return (
    Object.hasOwn(query, 'code') || Object.hasOwn(query, 'error') || Object.hasOwn(query, 'state')
  );
}

/** Each parameter counts only as one non-empty string; repeated, nested or empty values count as absent. */
function readCallbackParameters(query: Query): CallbackParameters {
  return {
    code: singleString(query, 'code'),
    state: singleString(query, 'state'),
    error: operatorText(singleString(query, 'error')),
    errorDescription: operatorText(singleString(query, 'error_description')),
  };
}

function operatorText(value: string | undefined): string | undefined {
  return value === undefined ? undefined : cutOperatorText(value);
}

function singleString(query: Query, name: string): string | undefined {
  const value = Object.hasOwn(query, name) ? query[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
