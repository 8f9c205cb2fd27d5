import type { Request } from 'express';
import { NumberVerificationError } from '../errors.js';
import { isRecord } from '../guards.js';
import { withSessionLock } from './session-lock.js';
import { isLastWritten, recordWritten } from './session-writes.js';
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

/** What express-session puts on the request besides `req.session`. */
interface SessionRequest {
  sessionID?: unknown;
  sessionStore?: { get?: unknown };
}

type StoreGet = (sid: string, callback: (err: unknown, data?: unknown) => void) => void;

/**
 * Keeps pending flows in `req.session` (express-session or compatible), as a map keyed by state.
 *
 * Within one process, first legs and callbacks of one session run one at a time (a per-session
 * lock), and each re-reads the flows from the session store (express-session's `req.sessionStore`)
 * before changing them: two tabs signing in at once keep both flows, and a callback delivered
 * twice reaches the operator once. Across processes this needs an atomic store.
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
    await withSessionLock(sessionIdOf(req), async () => {
      const now = Date.now();
      const live = Object.entries(await this.#currentFlows(req, session)).filter(
        ([state, pending]) => pending.expiresAt > now && state !== flow.state,
      );
      // Insertion order is age order: keep the newest, so a session stays small however many
      // first legs one browser starts.
      const kept = live.slice(Math.max(0, live.length - (this.#maxPendingFlows - 1)));
      session[this.#key] = Object.fromEntries([...kept, [flow.state, flow]]);
      // The operator redirects back within milliseconds; persist before we redirect, or a slow
      // session store loses the race and the callback finds no state (passport#680).
      await this.#persist(req, session);
    });
  }

  async take(req: Request, state: string): Promise<PendingFlow | undefined> {
    const session = requireSession(req);
    return withSessionLock(sessionIdOf(req), async () => {
      const flows = await this.#currentFlows(req, session);
      const flow = Object.hasOwn(flows, state) ? flows[state] : undefined;
      const rest = Object.entries(flows).filter(([pending]) => pending !== state);
      // Also when nothing is taken: the request's copy of the session is brought up to date, so
      // express-session's save at the end of the request cannot write stale flows back.
      if (rest.length === 0) Reflect.deleteProperty(session, this.#key);
      else session[this.#key] = Object.fromEntries(rest);
      // Persist the consumption before the token exchange, so a replayed callback cannot race it.
      if (flow !== undefined) await this.#persist(req, session);
      return flow;
    });
  }

  /**
   * The flows as the session store holds them now: the request's copy when this process wrote
   * exactly those last (no store round trip), else re-read; the request's copy when it cannot tell.
   */
  async #currentFlows(req: Request, session: SessionLike): Promise<PendingFlows> {
    const sessionId = sessionIdOf(req);
    if (sessionId !== undefined && isLastWritten(sessionId, this.#key, session[this.#key])) {
      return this.#pendingFlows(session);
    }
    const stored = await readStoredSession(req);
    return this.#pendingFlows(stored === NOT_READABLE ? session : stored);
  }

  async #persist(req: Request, session: SessionLike): Promise<void> {
    await saveSession(session);
    const sessionId = sessionIdOf(req);
    if (sessionId !== undefined) recordWritten(sessionId, this.#key, session[this.#key]);
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

function sessionIdOf(req: Request): string | undefined {
  const { sessionID } = req as SessionRequest;
  return typeof sessionID === 'string' ? sessionID : undefined;
}

const NOT_READABLE = Symbol('not readable');

/**
 * The session as its store holds it now (express-session: `req.sessionStore.get`), `{}` when the
 * store has none (new, expired or destroyed), or NOT_READABLE without a store to ask.
 */
function readStoredSession(req: Request): Promise<SessionLike | typeof NOT_READABLE> {
  const sessionId = sessionIdOf(req);
  const store = (req as SessionRequest).sessionStore;
  const get = store?.get;
  if (sessionId === undefined || typeof get !== 'function') return Promise.resolve(NOT_READABLE);
  return new Promise((resolve, reject) => {
    (get as StoreGet).call(store, sessionId, (err, data) => {
      if (err) reject(toError(err));
      else resolve(isRecord(data) ? data : {});
    });
  });
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
