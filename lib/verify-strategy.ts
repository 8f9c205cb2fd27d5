import type { Request } from 'express';
import { observeOutcome } from './diagnostics.js';
import type { FailureCode } from './errors.js';
import { verifyFailure, type VerifyLeg } from './verify-outcomes.js';
import type { ActiveFlow } from './flow/engine.js';
import { FlowStrategy } from './flow/flow-strategy.js';
import { readQuery, singleString, type Query } from './flow/callback.js';
import { isRecord } from './guards.js';
import type { VerifyFunction, VerifyFunctionWithRequest } from './options.js';
import { normalizePhoneNumber } from './phone-number.js';
import { silentAuthWorkflow } from './protocol/verify2.js';
import { VerifyCalls } from './verify-calls.js';
import { readCallbackRequest } from './verify-callback.js';
import { isSilent, isVerifyFlow, type VerifyFlow } from './verify-flow.js';
import {
  resolveVerifyOptions,
  type ResolvedVerifyOptions,
  type VerifyAuthenticateOptions,
  type VerifyStrategyOptions,
  type VerifyStrategyOptionsWithRequest,
} from './verify-options.js';
import { SCRIPT_ASSET, sendFragmentPage, sendFragmentScript } from './verify-page.js';

/**
 * Passport strategy for Vonage Verify v2: silent authentication first, then a one-time code by
 * SMS, RCS, WhatsApp, voice or e-mail (docs/verify.md).
 *
 * First leg (a `phoneNumber`): starts the workflow and redirects to Vonage's `check_url`.
 * Callback `GET`: a small page posts the URL fragment (`request_id`, `code`) back. Callback `POST`:
 * checks the fragment's code, or the code the user typed, against this browser's pending flow.
 */
export class VerifySilentAuthStrategy extends FlowStrategy {
  /** @internal */
  declare protected readonly _options: ResolvedVerifyOptions;

  /** @internal */
  protected readonly _calls: VerifyCalls;

  constructor(options: VerifyStrategyOptions, verify: VerifyFunction);
  constructor(options: VerifyStrategyOptionsWithRequest, verify: VerifyFunctionWithRequest);
  constructor(
    options: VerifyStrategyOptions | VerifyStrategyOptionsWithRequest,
    verify: VerifyFunction | VerifyFunctionWithRequest,
  ) {
    super('VerifySilentAuthStrategy', () => resolveVerifyOptions(options), verify);
    this._calls = new VerifyCalls(this._options);
  }

  /** [Passport method] Routes the request; every outcome goes through an action. */
  override authenticate(req: Request, options: VerifyAuthenticateOptions = {}): void {
    this.route(req, options).catch((err: unknown) => this.error(err));
  }

  private async route(req: Request, options: VerifyAuthenticateOptions): Promise<void> {
    const query = readQuery(req);
    const body: Query = isRecord(req.body) ? req.body : {};
    const field = this._options.phoneNumberField;
    // A first leg names a number; the callback never does.
    const phone = options.phoneNumber ?? (Object.hasOwn(body, field) ? body[field] : query[field]);
    // The callback page and its script answer themselves: only Passport's actions are outcomes.
    observeOutcome(this, this.name, phone === undefined ? 'callback' : 'first-leg');
    if (phone !== undefined) {
      const { emailField } = this._options;
      const email =
        options.email ?? singleString(body, emailField) ?? singleString(query, emailField);
      return this.start(req, phone, email, options);
    }
    if (req.method === 'POST') return this.callback(req, body, options);
    if (singleString(query, 'asset') === SCRIPT_ASSET) return sendFragmentScript(req);
    return sendFragmentPage(req, this._options.callbackURL, singleString(query, 'state'));
  }

  /** First leg: `POST /v2/verify` with silent auth first, save the flow, redirect to `check_url`. */
  private async start(
    req: Request,
    requested: unknown,
    email: string | undefined,
    options: VerifyAuthenticateOptions,
  ): Promise<void> {
    const phoneNumber = normalizePhoneNumber(requested, this._options.defaultCountry);
    if (phoneNumber === undefined) return this._engine.fail(this, 'invalid_phone_number');
    const { fallback, callbackURL, brand, codeLength, locale, channelTimeout } = this._options;
    let flow: ActiveFlow;
    try {
      flow = this._engine.create({ callbackURL, phoneNumber }, options);
    } catch (err) {
      return this.error(err);
    }
    // The state rides in the redirect URL's query, so the fragment page can post it back.
    const redirectURL = new URL(callbackURL);
    redirectURL.searchParams.set('state', flow.state);
    const workflow = silentAuthWorkflow(phoneNumber, fallback, redirectURL.href, email);
    if (options.skipSilentAuth === true && workflow.length < 2) {
      return this.error(new TypeError('VerifySilentAuthStrategy: skipSilentAuth needs a fallback'));
    }
    let started;
    try {
      const request = { brand, workflow, codeLength, locale, channelTimeout };
      started = await this._calls.start(flow, request);
    } catch (err) {
      return this.fault(req, err, flow, 'start');
    }
    const channels = workflow.map((step) => step.channel);
    const pending: VerifyFlow = { ...flow, phoneNumber, requestId: started.requestId, channels };
    if (options.skipSilentAuth === true) return this.moveOn(req, pending);
    if (!(await this._engine.save(this, req, pending))) return;
    this.redirect(started.checkURL as string);
  }

  /** Callback POST: the fragment's result, or a code the user typed. */
  private async callback(
    req: Request,
    body: Query,
    options: VerifyAuthenticateOptions,
  ): Promise<void> {
    const flow = await this._engine.take(this, req, singleString(body, 'state'), options);
    if (flow === undefined) return;
    if (!isVerifyFlow(flow)) return this._engine.fail(this, 'invalid_state', flow);
    const request = readCallbackRequest(body, flow);
    if (request.kind === 'check') return this.check(req, flow, request.code);
    if (request.kind === 'silent_failed') {
      return this.silentFailed(req, flow, 'not_on_mobile_network');
    }
    if (request.kind === 'foreign') return this._engine.fail(this, 'invalid_state', flow);
    // A replayed fragment or an unusable code: the flow stays, so the code form stays usable.
    if (!(await this._engine.save(this, req, flow))) return;
    if (request.kind === 'replayed') return this._engine.fail(this, 'invalid_state', flow);
    return this.failWithChannel('invalid_code', flow);
  }

  /** `POST /v2/verify/{id}` with the code, once; `completed` runs the app's verify. */
  private async check(req: Request, flow: VerifyFlow, code: string): Promise<void> {
    let completed: boolean;
    try {
      completed = await this._calls.check(flow, code);
    } catch (err) {
      // A silent-auth code Verify calls wrong (garbled, tampered) is a failed silent auth.
      const wrongSilentCode = verifyFailure(err, 'check') === 'invalid_code' && isSilent(flow);
      if (wrongSilentCode) return this.silentFailed(req, flow, 'not_verified');
      return this.fault(req, err, flow, 'check');
    }
    if (completed) return this._engine.complete(this, req, flow, flow.phoneNumber);
    if (isSilent(flow)) return this.silentFailed(req, flow, 'not_verified');
    await this._calls.cancel(flow);
    return this._engine.fail(this, 'not_verified', flow);
  }

  /** Silent auth failed or could not run: the next channel, or `fallbackless` without one. */
  private async silentFailed(
    req: Request,
    flow: VerifyFlow,
    fallbackless: FailureCode,
  ): Promise<void> {
    if (flow.channels.length > 1) return this.moveOn(req, flow);
    // Free the number at once, or the user's next attempt would meet verification_in_progress.
    await this._calls.cancel(flow);
    return this._engine.fail(this, fallbackless, flow);
  }

  /** `next_workflow`, keep the flow, and ask the app for the code form (`code_required`). */
  private async moveOn(req: Request, flow: VerifyFlow): Promise<void> {
    try {
      await this._calls.next(flow);
    } catch (err) {
      return this.fault(req, err, flow, 'next');
    }
    const next: VerifyFlow = { ...flow, channels: flow.channels.slice(1) };
    if (!(await this._engine.save(this, req, next))) return;
    this.failWithChannel('code_required', next);
  }

  /** A Verify error: the user's situation becomes a `fail`, anything else (429 too) an `error`. */
  private async fault(req: Request, err: unknown, flow: ActiveFlow, leg: VerifyLeg): Promise<void> {
    const code = verifyFailure(err, leg);
    if (code === undefined) return this._engine.error(this, err, flow);
    if (code !== 'invalid_code') return this._engine.fail(this, code, flow);
    // A wrong code: the flow stays so the user can try again.
    if (!(await this._engine.save(this, req, flow))) return;
    this.failWithChannel('invalid_code', flow as VerifyFlow);
  }

  /** `info.channel` tells the app where the code went; `info.flowState` goes back with the form. */
  private failWithChannel(code: FailureCode, flow: VerifyFlow): void {
    this._engine.fail(this, code, flow, { channel: flow.channels[0], flowState: flow.state });
  }
}
