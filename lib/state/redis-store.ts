import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { cutOperatorText, NumberVerificationError } from '../errors.js';
import { isRecord } from '../guards.js';
import { appendSetCookie, isCookieName, readCookie } from './cookie-header.js';
import { isPendingFlow } from './flow-shape.js';
import { redisCommand, type RedisClient, type RedisCommand } from './redis-client.js';
import type { PendingFlow, StateStore } from './store.js';

export type { IoRedisClient, NodeRedisClient, RedisClient } from './redis-client.js';

export interface RedisStateStoreOptions {
  /**
   * The app's own connected client: node-redis (`redis` 4 or later, the one `connect-redis` uses)
   * or `ioredis`. Redis 6.2 or later (or Valkey): `take` is one `GETDEL`.
   */
  client: RedisClient;
  /** Key prefix; each pending flow is the key `prefix + state`. Default `'nv:state:'`. */
  prefix?: string;
  /**
   * What ties a flow to the browser that started it: `'session'` (default) binds it to
   * `req.sessionID` (express-session or compatible); `'cookie'` to a random HttpOnly cookie, for
   * apps without sessions.
   */
  bindTo?: 'session' | 'cookie';
  /** Deadline of each Redis command in milliseconds. Default 2000. */
  timeout?: number;
  /** With `bindTo: 'cookie'`: the cookie's name. Default `'nv_browser'`. */
  cookieName?: string;
  /** With `bindTo: 'cookie'`: send the cookie only over https. Default `true`. */
  secure?: boolean;
}

/** What Redis holds under a state: the whole flow, and a hash of what identifies the browser. */
interface StoredFlow {
  browser: string;
  flow: PendingFlow;
}

// States this package creates are 43 base64url characters; custom ones stay well under 128. Anything
// else is refused before Redis is asked, so a crafted callback cannot reach other keys or send
// Redis a large argument.
const STATE_VALUE = /^[A-Za-z0-9_-]{16,128}$/;
const KEY_PREFIX = /^[\x21-\x7e]{1,64}$/;
const BROWSER_COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
// With express-session's `saveUninitialized: false`, a session nobody wrote to is neither saved nor
// given a cookie, and the callback would arrive with a new session ID: this mark makes it stick.
const SESSION_MARK = 'passport-number-verification:bound';

/**
 * Keeps each pending flow in Redis under its own key, `SET … PX <ms left> NX`, and consumes it
 * with one atomic `GETDEL`: a state is used at most once across every instance of the app, even
 * when one callback is delivered twice at once to two instances. The flow stays bound to the
 * browser that started it (a SHA-256 hash of `req.sessionID`, or of a random HttpOnly cookie);
 * a flow taken by another browser is refused and gone. Any Redis failure or timeout is an error
 * with code `state_store_unavailable`: never a hang, never a flow taken on faith.
 */
export class RedisStateStore implements StateStore {
  readonly #send: RedisCommand;
  readonly #prefix: string;
  readonly #bindTo: 'session' | 'cookie';
  readonly #timeout: number;
  readonly #cookieName: string;
  readonly #cookieAttributes: string;

  constructor(options: RedisStateStoreOptions) {
    if (!isRecord(options)) throw new TypeError('RedisStateStore requires an options object');
    const {
      client,
      prefix = 'nv:state:',
      bindTo = 'session',
      timeout = 2_000,
      cookieName = 'nv_browser',
      secure = true,
    } = options;
    const send = redisCommand(client);
    if (send === undefined) {
      throw new TypeError(
        'RedisStateStore requires client: a node-redis (`redis`) or ioredis client',
      );
    }
    if (typeof prefix !== 'string' || !KEY_PREFIX.test(prefix)) {
      throw new TypeError(
        'RedisStateStore requires prefix to be 1 to 64 printable ASCII characters without spaces',
      );
    }
    if (bindTo !== 'session' && bindTo !== 'cookie') {
      throw new TypeError("RedisStateStore requires bindTo to be 'session' or 'cookie'");
    }
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError(
        'RedisStateStore requires timeout to be a positive number of milliseconds',
      );
    }
    if (!isCookieName(cookieName)) {
      throw new TypeError('RedisStateStore requires cookieName to be a valid cookie name');
    }
    this.#send = send;
    this.#prefix = prefix;
    this.#bindTo = bindTo;
    this.#timeout = timeout;
    this.#cookieName = cookieName;
    this.#cookieAttributes = `Path=/; HttpOnly; SameSite=Lax${secure === false ? '' : '; Secure'}`;
  }

  async save(req: Request, flow: PendingFlow): Promise<void> {
    if (!isPendingFlow(flow) || !STATE_VALUE.test(flow.state)) {
      throw new TypeError('RedisStateStore.save requires a pending flow with a base64url state');
    }
    const ttl = Math.max(1, Math.ceil(flow.expiresAt - Date.now()));
    const stored: StoredFlow = { browser: this.#bindBrowser(req, ttl), flow };
    const reply = await this.#command([
      'SET',
      this.#prefix + flow.state,
      JSON.stringify(stored),
      'PX',
      String(ttl),
      'NX',
    ]);
    // NX: a state is never overwritten. With 256 random bits this means a caller reused a state.
    if (reply !== 'OK') {
      throw new NumberVerificationError('RedisStateStore: a flow with this state already exists', {
        code: 'state_conflict',
      });
    }
  }

  async take(req: Request, state: string): Promise<PendingFlow | undefined> {
    if (typeof state !== 'string' || !STATE_VALUE.test(state)) return undefined;
    const browser = this.#browserOf(req);
    // One atomic read-and-delete: of two callbacks racing on any instances, one gets the flow.
    const reply = await this.#command(['GETDEL', this.#prefix + state]);
    const stored = parseStoredFlow(reply);
    if (stored === undefined || stored.flow.state !== state) return undefined;
    // A flow presented by another browser is refused; GETDEL has already made it unusable for all.
    return browser !== undefined && sameHash(stored.browser, browser) ? stored.flow : undefined;
  }

  /** Hash of the browser's binding on the first leg; sets the binding cookie when needed. */
  #bindBrowser(req: Request, ttl: number): string {
    if (this.#bindTo === 'session') {
      const hash = this.#browserOf(req) as string;
      const session: unknown = (req as { session?: unknown }).session;
      if (isRecord(session)) session[SESSION_MARK] = true;
      return hash;
    }
    let value = readCookie(req.headers.cookie, this.#cookieName);
    if (value === undefined || !BROWSER_COOKIE_VALUE.test(value)) {
      value = randomBytes(32).toString('base64url');
    }
    // Refreshed on each first leg, so it outlives the newest pending flow.
    const maxAge = Math.ceil(ttl / 1000);
    appendSetCookie(
      req,
      'RedisStateStore',
      `${this.#cookieName}=${value}; Max-Age=${maxAge}; ${this.#cookieAttributes}`,
    );
    return hashBinding(value);
  }

  /** Hash of what identifies the browser of this request, if it carries anything. */
  #browserOf(req: Request): string | undefined {
    if (this.#bindTo === 'cookie') {
      const value = readCookie(req.headers.cookie, this.#cookieName);
      return value !== undefined && BROWSER_COOKIE_VALUE.test(value)
        ? hashBinding(value)
        : undefined;
    }
    const sessionID: unknown = (req as { sessionID?: unknown }).sessionID;
    if (typeof sessionID !== 'string' || sessionID === '') {
      throw new NumberVerificationError(
        "RedisStateStore binds flows to req.sessionID: add express-session (or compatible) before passport, or use bindTo: 'cookie'",
        { code: 'session_required' },
      );
    }
    return hashBinding(sessionID);
  }

  /** Sends one command with a deadline; any failure becomes `state_store_unavailable`. */
  async #command(args: [string, ...string[]]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`no answer within ${this.#timeout} ms`)),
        this.#timeout,
      );
    });
    const reply = Promise.resolve()
      .then(() => this.#send(args))
      // The reply may fail after the deadline has answered: that failure is already reported.
      .catch((err: unknown) => Promise.reject(unavailable(describe(err))));
    reply.catch(() => undefined);
    try {
      return await Promise.race([reply, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function hashBinding(value: string): string {
  return createHash('sha256')
    .update('passport-number-verification browser binding\0')
    .update(value)
    .digest('base64url');
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseStoredFlow(reply: unknown): StoredFlow | undefined {
  const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : reply;
  if (typeof text !== 'string') return undefined;
  try {
    const stored: unknown = JSON.parse(text);
    return isRecord(stored) && typeof stored.browser === 'string' && isPendingFlow(stored.flow)
      ? (stored as unknown as StoredFlow)
      : undefined;
  } catch {
    return undefined;
  }
}

function unavailable(reason: string): NumberVerificationError {
  // No `cause`: client errors can carry the command's arguments, which hold the phone number.
  return new NumberVerificationError(`RedisStateStore: Redis is unavailable (${reason})`, {
    code: 'state_store_unavailable',
  });
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return cutOperatorText(message.replace(/[\p{Cc}\u2028\u2029]/gu, ' '));
}
