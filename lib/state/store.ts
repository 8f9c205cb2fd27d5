import type { Request } from 'express';

/**
 * Everything the callback needs, saved on the first leg. It is the only memory between the two
 * legs: nothing but `code`, `state`, `error` and `error_description` is read from the callback.
 */
export interface PendingFlow {
  /** The OAuth `state` value (RFC 6749 §10.12): ≥ 128 random bits, base64url. */
  state: string;
  /**
   * The `name` of the strategy that made the flow: a callback served by another strategy instance
   * (another operator, another application) is refused, even when both share a store.
   */
  strategy: string;
  /**
   * The normalised E.164 number the user typed; the only number ever sent to `/verify`. Absent in
   * share mode, where the operator tells the number.
   */
  phoneNumber?: string;
  /** The exact `redirect_uri` sent to the authorization endpoint (RFC 6749 §4.1.3 requires it again). */
  callbackURL: string;
  /** Application data from `authenticate(name, { state })`, handed back as `info.state`. */
  appState?: Record<string, unknown>;
  /**
   * The PKCE `code_verifier` (RFC 7636), when the strategy runs with `pkce: true`. A secret: it binds
   * the authorization code to this flow, so a store must keep it as confidential as the session.
   */
  codeVerifier?: string;
  /** The CAMARA `x-correlator` sent with every back-channel request of this sign-in. */
  correlator?: string;
  /** Verify v2: the `request_id` of the verification this flow runs. */
  requestId?: string;
  /**
   * Verify v2: the workflow's channels not yet passed, the current one first (`silent_auth`, then
   * the fallback channels), so the callback knows whether a code comes from the fragment or a form.
   */
  channels?: string[];
  /** Epoch milliseconds after which the flow is refused. */
  expiresAt: number;
}

/**
 * Where pending flows live between the redirect and the callback. A store persists the whole flow
 * object (as JSON), including fields it does not know.
 *
 * A store must bind each flow to the browser that started it (the default {@link SessionStateStore}
 * does so by living in the session): a store shared across browsers turns `state` into a bearer
 * ticket and re-opens login CSRF.
 */
export interface StateStore {
  /** Persists the flow; the redirect to the operator follows only once this resolves. */
  save(req: Request, flow: PendingFlow): Promise<void>;
  /** Returns the flow saved under `state` and deletes it, so that it is returned at most once. */
  take(req: Request, state: string): Promise<PendingFlow | undefined>;
}

/**
 * Whether a flow taken from the store may complete this callback: it exists, was stored under the
 * callback's `state` (RFC 6749 §10.12), was made by this strategy instance (`name`), and is not
 * expired. Checked here rather than in each store, so every store, custom ones included, gets it.
 */
export function isFlowFor(
  flow: PendingFlow | undefined,
  state: string | undefined,
  strategyName: string,
): flow is PendingFlow {
  return (
    flow !== undefined &&
    flow.state === state &&
    flow.strategy === strategyName &&
    flow.expiresAt > Date.now()
  );
}
