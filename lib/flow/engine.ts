/**
 * The sign-in flow engine every strategy of this package runs on. A strategy owns its legs (which
 * operator calls, in which order); the engine owns what does not differ between strategies:
 *
 * - `create` + `save`: a pending flow (fresh `state`, expiry, the app's data with a safe
 *   `returnTo`, the sign-in's `x-correlator`, plus the strategy's own fields), saved before the
 *   redirect leaves;
 * - `take`: the one-time lookup of the flow on the way back, `invalid_state` when unknown, used,
 *   expired, or made by another strategy instance;
 * - `complete`: the app's verify run once for the verified number → `success` / `fail` / `error`;
 * - `fail` / `error` / `fault`: the only way outcomes are reported, so `info.state`,
 *   `info.correlator` and `err.correlator` are always there once a flow exists.
 *
 * Every method takes `actions` (Passport's per-request strategy object, i.e. `this` inside
 * `authenticate`) and reports its own failures; a method returning `undefined` has already
 * reported the outcome. Typical use in a strategy's `authenticate(req, options)`:
 *
 *     const flow = this.engine.create({ callbackURL, phoneNumber, requestId }, options);
 *     if (!(await this.engine.save(this, req, flow))) return;
 *     this.redirect(url);
 *     // … on the way back:
 *     const flow = await this.engine.take(this, req, state, options);
 *     if (!flow) return;
 *     try { await operatorStep(flow) } catch (err) { return this.engine.fault(this, err, flow) }
 *     return this.engine.complete(this, req, flow, flow.phoneNumber);
 */
import type { Request } from 'express';
import { debug } from '../debug.js';
import { traceStep, type StepContext } from '../diagnostics.js';
import { failure, NumberVerificationError, TokenError, type FailureCode } from '../errors.js';
import { isRecord } from '../guards.js';
import type { VerifyFunction, VerifyFunctionWithRequest } from '../options.js';
import type { PassportActions } from '../passport-base.js';
import { redactPhoneNumber } from '../phone-number.js';
import { correlatorFrom } from '../protocol/correlator.js';
import { isSafeReturnTo } from '../return-to.js';
import { createStateValue } from '../state/state-value.js';
import { isFlowFor, type PendingFlow, type StateStore } from '../state/store.js';
import { runAppVerify } from './app-verify.js';

export interface FlowSettings {
  /** The strategy's `name`: recorded in each flow, and a flow made under another name is refused. */
  name: string;
  /** The strategy's class, for messages. */
  owner: string;
  store: StateStore;
  /** How long, in ms, a started sign-in stays valid. */
  stateMaxAge: number;
  verify: VerifyFunction | VerifyFunctionWithRequest;
  passReqToCallback: boolean;
}

/** Per-request options the engine reads: the app's data and the sign-in's correlator. */
export interface FlowRequestOptions {
  appState?: unknown;
  /** The same as `appState` (its name in 0.1.0), read when `appState` is absent. */
  state?: unknown;
  correlator?: unknown;
}

/** A flow in progress: its correlator is always chosen. */
export type ActiveFlow = PendingFlow & { correlator: string };

/** The fields a strategy decides; the engine adds the others. */
export type FlowFields = Omit<
  PendingFlow,
  'state' | 'strategy' | 'expiresAt' | 'appState' | 'correlator'
>;

export class FlowEngine {
  constructor(readonly settings: FlowSettings) {}

  /** A new pending flow. Throws TypeError for a bad `appState` or `correlator` option (an app bug). */
  create(fields: FlowFields, options: FlowRequestOptions): ActiveFlow {
    const requested = options.appState ?? options.state;
    if (requested !== undefined && !isRecord(requested)) {
      throw new TypeError(`${this.settings.owner}: the appState option must be a plain object`);
    }
    const appState = withSafeReturnTo(requested);
    return {
      ...fields,
      state: createStateValue(),
      strategy: this.settings.name,
      ...(appState === undefined ? {} : { appState }),
      correlator: correlatorFrom(options.correlator, this.settings.owner),
      expiresAt: Date.now() + this.settings.stateMaxAge,
    };
  }

  /** Persists the flow; `false` once a store failure has been reported. */
  async save(actions: PassportActions, req: Request, flow: PendingFlow): Promise<boolean> {
    const { phoneNumber, correlator } = flow;
    const context = {
      strategy: this.settings.name,
      ...(phoneNumber === undefined ? {} : { phoneNumber: redactPhoneNumber(phoneNumber) }),
      ...(correlator === undefined ? {} : { correlator }),
    };
    try {
      await traceStep('firstLeg', context, () => this.settings.store.save(req, flow));
      return true;
    } catch (err) {
      this.error(actions, err, flow);
      return false;
    }
  }

  /**
   * Takes the flow saved under `state`, consuming it (RFC 6749 §10.12: the state ties the callback
   * to the browser that started the flow, and is used up before anything else so that a replayed
   * or failed callback cannot reuse it); a flow made by another strategy instance is refused even
   * when both share a store. A `correlator` option given on the callback replaces the
   * one chosen on the first leg.
   */
  async take(
    actions: PassportActions,
    req: Request,
    state: string | undefined,
    options: FlowRequestOptions = {},
  ): Promise<ActiveFlow | undefined> {
    let flow: PendingFlow | undefined;
    try {
      flow =
        state === undefined
          ? undefined
          : await traceStep(
              'state',
              { strategy: this.settings.name },
              () => this.settings.store.take(req, state),
              (taken) =>
                isFlowFor(taken, state, this.settings.name) ? found(taken) : { found: false },
            );
    } catch (err) {
      this.error(actions, err);
      return undefined;
    }
    if (!isFlowFor(flow, state, this.settings.name)) {
      debug('callback refused: unknown, used or expired state, or made by another strategy');
      this.fail(actions, 'invalid_state');
      return undefined;
    }
    try {
      const correlator = options.correlator ?? flow.correlator;
      return { ...flow, correlator: correlatorFrom(correlator, this.settings.owner) };
    } catch (err) {
      this.error(actions, err, flow);
      return undefined;
    }
  }

  /** Runs the app's verify once for the verified number and reports what it decided. */
  async complete(
    actions: PassportActions,
    req: Request,
    flow: PendingFlow,
    phoneNumber: string,
  ): Promise<void> {
    const { verify, passReqToCallback } = this.settings;
    const verdict = await runAppVerify(verify, passReqToCallback, req, phoneNumber);
    if (verdict.err) return this.error(actions, verdict.err, flow);
    if (!verdict.user) {
      debug('verify refused %s', redactPhoneNumber(phoneNumber));
      return verdict.info ? actions.fail(verdict.info) : this.fail(actions, 'user_rejected', flow);
    }
    actions.success(verdict.user, {
      ...verdict.info,
      phoneNumber,
      ...this.flowInfo(flow),
    });
  }

  /**
   * `fail` with a stable code; once a flow was consumed, its app data rides along as `info.state`
   * and its correlator as `info.correlator`. `extra` adds strategy-specific fields.
   */
  fail(
    actions: PassportActions,
    code: FailureCode,
    flow?: PendingFlow,
    extra?: Record<string, unknown>,
  ): void {
    const { info, status } = failure(code);
    actions.fail({ ...extra, ...info, ...this.flowInfo(flow) }, status);
  }

  /** `error`, with the sign-in's correlator on the package's own errors. */
  error(actions: PassportActions, err: unknown, flow?: PendingFlow): void {
    if (
      err instanceof NumberVerificationError &&
      err.correlator === undefined &&
      flow?.correlator !== undefined
    ) {
      err.correlator = flow.correlator;
    }
    actions.error(err);
  }

  /**
   * An operator step threw: the user's situation becomes a `fail`, anything else an `error`.
   * RFC 6749 §5.2 `invalid_grant` (code expired, used, or from another flow) is the user's.
   */
  fault(actions: PassportActions, err: unknown, flow: PendingFlow): void {
    const status = err instanceof TokenError ? err.status : undefined;
    if (err instanceof TokenError && err.code === 'invalid_grant' && isClientError(status)) {
      return this.fail(actions, 'invalid_grant', flow);
    }
    this.error(actions, err, flow);
  }

  private flowInfo(flow: PendingFlow | undefined): Record<string, unknown> {
    if (flow === undefined) return {};
    return {
      ...(flow.appState === undefined ? {} : { state: flow.appState }),
      ...(flow.correlator === undefined ? {} : { correlator: flow.correlator }),
    };
  }
}

/** What the `state` step shows of a flow it found: never the flow itself (it holds the verifier). */
function found(flow: PendingFlow): Partial<StepContext> {
  return {
    found: true,
    ...(flow.phoneNumber === undefined ? {} : { phoneNumber: redactPhoneNumber(flow.phoneNumber) }),
    ...(flow.correlator === undefined ? {} : { correlator: flow.correlator }),
  };
}

function isClientError(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500;
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
