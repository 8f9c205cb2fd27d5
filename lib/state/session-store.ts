import type { Request } from 'express';
import { NumberVerificationError } from '../errors.js';
import { isRecord } from '../guards.js';
import type { PendingFlow, StateStore } from './store.js';

export interface SessionStateStoreOptions {
  /** Session property holding the pending flows. Default `'passport-number-verification'`. */
  key?: string;
  /** Most pending flows kept per session; the oldest is dropped beyond it. Default 10. */
  maxPendingFlows?: number;
}

type PendingFlows = Record<string, PendingFlow>;

interface SessionLike {
  [key: string]: unknown;
  save?: (callback: (err?: unknown) => void) => void;
}

/**
 * Keeps pending flows in `req.session` (express-session or compatible), as a map keyed by state so
 * that two tabs signing in at once do not overwrite each other's flow.
 */
export class SessionStateStore implements StateStore {
  readonly #key: string;
  readonly #maxPendingFlows: number;

  constructor(options: SessionStateStoreOptions = {}) {
    const { key = 'passport-number-verification', maxPendingFlows = 10 } = options;
    if (typeof key !== 'string' || key === '') {
      throw new TypeError('SessionStateStore requires the key option to be a non-empty string');
    }
    if (!Number.isInteger(maxPendingFlows) || maxPendingFlows < 1) {
      throw new TypeError('SessionStateStore requires maxPendingFlows to be a positive integer');
    }
    this.#key = key;
    this.#maxPendingFlows = maxPendingFlows;
  }

  async save(req: Request, flow: PendingFlow): Promise<void> {
    const session = requireSession(req);
    const now = Date.now();
    const live = Object.entries(this.#pendingFlows(session)).filter(
      ([state, pending]) => pending.expiresAt > now && state !== flow.state,
    );
    // Insertion order is age order: keep the newest, so a session stays small however many
    // first legs one browser starts.
    const kept = live.slice(Math.max(0, live.length - (this.#maxPendingFlows - 1)));
    session[this.#key] = Object.fromEntries([...kept, [flow.state, flow]]);
    // The operator redirects back within milliseconds; persist before we redirect, or a slow
    // session store loses the race and the callback finds no state (passport#680).
    await saveSession(session);
  }

  async take(req: Request, state: string): Promise<PendingFlow | undefined> {
    const session = requireSession(req);
    const flows = this.#pendingFlows(session);
    if (!Object.hasOwn(flows, state)) return undefined;
    const { [state]: flow, ...rest } = flows;
    if (Object.keys(rest).length === 0) Reflect.deleteProperty(session, this.#key);
    else session[this.#key] = rest;
    // Persist the consumption before the token exchange, so a replayed callback cannot race it.
    await saveSession(session);
    return flow;
  }

  #pendingFlows(session: SessionLike): PendingFlows {
    const flows = session[this.#key];
    return isRecord(flows) ? (flows as PendingFlows) : {};
  }
}

function requireSession(req: Request): SessionLike {
  const session: unknown = (req as { session?: unknown }).session;
  if (!isRecord(session)) {
    throw new NumberVerificationError(
      'NumberVerificationStrategy requires session support: add express-session (or compatible) middleware before passport, or pass a custom store',
      { code: 'session_required' },
    );
  }
  return session as SessionLike;
}

function saveSession(session: SessionLike): Promise<void> {
  const { save } = session;
  if (typeof save !== 'function') return Promise.resolve();
  return new Promise((resolve, reject) => {
    save.call(session, (err?: unknown) => (err ? reject(toError(err)) : resolve()));
  });
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`Session store failed: ${String(err)}`);
}
