import type { Dispatcher } from 'undici';
import type { VerifyFunction, VerifyFunctionWithRequest } from '../options.js';
import { PassportStrategyBase } from '../passport-base.js';
import { leaseDefaultDispatcher, type DispatcherLease } from '../protocol/dispatcher.js';
import type { StateStore } from '../state/store.js';
import { FlowEngine } from './engine.js';

/** The resolved options both strategies have, as far as their shared set-up reads them. */
export interface FlowStrategyOptions {
  name: string;
  store: StateStore;
  stateMaxAge: number;
  passReqToCallback: boolean;
  dispatcher: Dispatcher | undefined;
}

/**
 * What `NumberVerificationStrategy` and `VerifySilentAuthStrategy` share: the verify-function
 * check, the back-channel pool (the app's `dispatcher`, or a lease on the shared default pool),
 * the flow engine, and `close()`.
 *
 * Passport runs each request on `Object.create(strategy)`, so state lives in ordinary
 * properties (not `#private` fields, which a derived object cannot reach).
 */
export abstract class FlowStrategy extends PassportStrategyBase {
  override name: string;
  /** @internal Each strategy declares its own, fuller type (it is the object `resolve` returned). */
  protected readonly _options: FlowStrategyOptions;
  /** @internal */
  protected readonly _engine: FlowEngine;
  /** @internal The shared default pool, held unless the app passed its own `dispatcher`. */
  protected readonly _dispatcherLease: DispatcherLease | undefined;

  /**
   * @internal `resolve` runs after the verify check, so a missing verify function is reported
   * first.
   */
  protected constructor(
    owner: string,
    resolve: () => FlowStrategyOptions,
    verify: VerifyFunction | VerifyFunctionWithRequest,
  ) {
    super();
    if (typeof verify !== 'function') throw new TypeError(`${owner} requires a verify function`);
    const resolved = resolve();
    this._dispatcherLease = resolved.dispatcher ? undefined : leaseDefaultDispatcher();
    this._options = {
      ...resolved,
      dispatcher: resolved.dispatcher ?? this._dispatcherLease?.dispatcher,
    };
    this.name = this._options.name;
    const { store, stateMaxAge, passReqToCallback } = this._options;
    this._engine = new FlowEngine({
      name: this.name,
      owner,
      store,
      stateMaxAge,
      verify,
      passReqToCallback,
    });
  }

  /**
   * Lets go of the default back-channel pool, closing it once no other strategy uses it (on
   * shutdown, in tests). A `dispatcher` passed in the options is the app's to close. Idempotent.
   */
  close(): Promise<void> {
    return this._dispatcherLease?.release() ?? Promise.resolve();
  }
}
