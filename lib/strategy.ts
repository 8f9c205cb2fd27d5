import type { Request } from 'express';
import { observeOutcome } from './diagnostics.js';
import type { ActiveFlow } from './flow/engine.js';
import { FlowStrategy } from './flow/flow-strategy.js';
import {
  callbackError,
  isCallback,
  isCallbackPath,
  readCallbackParameters,
  readQuery,
  type CallbackParameters,
  type Query,
} from './flow/callback.js';
import { isRecord } from './guards.js';
import { checkWithOperator, type OperatorResult } from './operator-check.js';
import { resolveOptions } from './options.js';
import type {
  AuthenticateOptions,
  ResolvedOptions,
  StrategyOptions,
  StrategyOptionsWithRequest,
  VerifyFunction,
  VerifyFunctionWithRequest,
} from './options.js';
import { normalizePhoneNumber } from './phone-number.js';
import { codeChallengeS256, createCodeVerifier } from './protocol/pkce.js';

/**
 * Passport strategy for silent login with CAMARA Number Verification, through a provider
 * (Vonage by default, any CAMARA v2 operator with `camara()`, or your own).
 *
 * First leg: redirects the browser to the operator (with the typed number as `login_hint` in
 * verify mode). Callback: consumes the state, then token, verify or share, then the app's `verify`.
 */
export class NumberVerificationStrategy extends FlowStrategy {
  /** @internal */
  declare protected readonly _options: ResolvedOptions;

  constructor(options: StrategyOptions, verify: VerifyFunction);
  constructor(options: StrategyOptionsWithRequest, verify: VerifyFunctionWithRequest);
  constructor(
    options: StrategyOptions | StrategyOptionsWithRequest,
    verify: VerifyFunction | VerifyFunctionWithRequest,
  ) {
    super('NumberVerificationStrategy', () => resolveOptions(options), verify);
  }

  /** [Passport method] Runs the first leg or the callback; every outcome goes through an action. */
  override authenticate(req: Request, options: AuthenticateOptions = {}): void {
    // Each phase reports its own errors; the catch is the last line of defence, so that not
    // even a bug can become an unhandled rejection.
    this.route(req, options).catch((err: unknown) => this.error(err));
  }

  private async route(req: Request, options: AuthenticateOptions): Promise<void> {
    const query = readQuery(req);
    // A bare request for the callback URL (a reload or bookmark without its query) is a callback
    // that lost its state, not a first leg without a number.
    const bareCallback =
      this._options.mode === 'verify' &&
      this.requestedPhoneNumber(req, query, options) === undefined &&
      isCallbackPath(req, this._options.callbackURL);
    const callback = isCallback(query) || bareCallback;
    observeOutcome(this, this.name, callback ? 'callback' : 'first-leg');
    if (callback) return this.handleCallback(req, readCallbackParameters(query), options);
    return this.startAuthorization(req, query, options);
  }

  /** First leg: store a pending flow and redirect to the operator (RFC 6749 §4.1.1). */
  private async startAuthorization(
    req: Request,
    query: Query,
    options: AuthenticateOptions,
  ): Promise<void> {
    const { provider, mode, callbackURL, timeout, dispatcher } = this._options;
    let phoneNumber: string | undefined;
    if (mode === 'verify') {
      const typed = this.requestedPhoneNumber(req, query, options);
      phoneNumber = normalizePhoneNumber(typed, this._options.defaultCountry);
      if (phoneNumber === undefined) return this._engine.fail(this, 'invalid_phone_number');
    }
    let flow: ActiveFlow;
    let url: URL;
    try {
      flow = this._engine.create(
        {
          callbackURL,
          ...(phoneNumber === undefined ? {} : { phoneNumber }),
          ...(provider.pkce ? { codeVerifier: createCodeVerifier() } : {}),
        },
        options,
      );
      url = await provider.authorizationURL(
        {
          mode,
          redirectUri: callbackURL,
          state: flow.state,
          phoneNumber,
          codeChallenge: flow.codeVerifier && codeChallengeS256(flow.codeVerifier),
        },
        { timeout, dispatcher, correlator: flow.correlator },
      );
    } catch (err) {
      return this._engine.error(this, err);
    }
    if (!(await this._engine.save(this, req, flow))) return;
    this.redirect(url.href);
  }

  /** Callback: state, then the operator's answer, then token, verify or share, and the app's verify. */
  private async handleCallback(
    req: Request,
    params: CallbackParameters,
    options: AuthenticateOptions,
  ): Promise<void> {
    const flow = await this._engine.take(this, req, params.state, options);
    if (flow === undefined) return;
    // RFC 6749 §4.1.2.1: an error response wins over a code.
    if (params.error === 'access_denied') return this._engine.fail(this, 'access_denied', flow);
    if (params.error !== undefined || params.code === undefined) {
      return this._engine.error(this, callbackError(params), flow);
    }
    let result: OperatorResult;
    try {
      result = await checkWithOperator(this._options, params.code, flow);
    } catch (err) {
      return this._engine.fault(this, err, flow);
    }
    if ('failure' in result) return this._engine.fail(this, result.failure, flow);
    return this._engine.complete(this, req, flow, result.phoneNumber);
  }

  private requestedPhoneNumber(req: Request, query: Query, options: AuthenticateOptions): unknown {
    if (options.phoneNumber !== undefined) return options.phoneNumber;
    const field = this._options.phoneNumberField;
    const body: unknown = req.body;
    if (isRecord(body) && Object.hasOwn(body, field)) return body[field];
    return Object.hasOwn(query, field) ? query[field] : undefined;
  }
}
