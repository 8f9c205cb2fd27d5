import { Dispatcher, RoundRobinPool } from 'undici';

/**
 * Most connections the default dispatcher opens to one operator origin. A login makes two
 * back-channel calls one after the other, so 64 connections carry hundreds of concurrent logins;
 * beyond that, requests wait for a free connection instead of opening (and later idling out)
 * new ones, which is what made an unbounded pool churn TLS handshakes under load.
 */
export const DEFAULT_CONNECTIONS = 64;

/**
 * How long an idle connection is kept, in ms, unless the operator announces a shorter
 * `Keep-Alive: timeout` (undici then closes it just before the operator would). Long enough to
 * outlast the quiet gaps between logins, so a connection's TLS handshake is paid once.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 60_000;

const POOL_OPTIONS: RoundRobinPool.Options = {
  connections: DEFAULT_CONNECTIONS,
  // Operators answer one request at a time per connection.
  pipelining: 1,
  keepAliveTimeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
};

/**
 * One bounded keep-alive pool per operator origin, kept for the dispatcher's lifetime (the origins
 * are the few configured endpoints). Unlike undici's Agent, which drops and re-creates an origin's
 * pool whenever its connections all close, the pool and its bound stay put. Round robin, not
 * first-free: every open connection carries its share of the calls, so none sits idle long enough
 * to time out between bursts and be opened again with a new TLS handshake.
 */
class OperatorPools extends Dispatcher {
  readonly #pools = new Map<string, RoundRobinPool>();

  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    const origin = String(options.origin);
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new RoundRobinPool(origin, POOL_OPTIONS);
      this.#pools.set(origin, pool);
    }
    return pool.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = Promise.all([...this.#pools.values()].map((pool) => pool.close())).then(
      () => undefined,
    );
    this.#pools.clear();
    if (callback === undefined) return closed;
    void closed.then(callback);
  }
}

/** A strategy's hold on the shared default dispatcher; `release` once, when the strategy closes. */
export interface DispatcherLease {
  readonly dispatcher: Dispatcher;
  release(): Promise<void>;
}

interface Shared {
  dispatcher: OperatorPools;
  holders: number;
}

let shared: Shared | undefined;

/**
 * The default back-channel dispatcher, shared by every strategy that has no `dispatcher` option,
 * so strategies talking to the same operator share its connections. It closes when the last
 * strategy holding it closes; a strategy created later gets a new one. Idle connections never keep
 * the process alive (undici unrefs them), so an app that never closes its strategy still exits.
 */
export function leaseDefaultDispatcher(): DispatcherLease {
  shared ??= { dispatcher: new OperatorPools(), holders: 0 };
  const entry = shared;
  entry.holders += 1;
  let released = false;
  return {
    dispatcher: entry.dispatcher,
    async release() {
      if (released) return;
      released = true;
      entry.holders -= 1;
      if (entry.holders > 0) return;
      if (shared === entry) shared = undefined;
      await entry.dispatcher.close();
    },
  };
}
