import { createHash, hkdfSync } from 'node:crypto';
import type { Request } from 'express';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { NumberVerificationError } from '../errors.js';
import { appendSetCookie, isCookieName, readCookie, readCookies } from './cookie-header.js';
import { isPendingFlow } from './flow-shape.js';
import type { PendingFlow, StateStore } from './store.js';
import { TakenStates } from './taken-states.js';

export interface CookieStateStoreOptions {
  /** At least 32 bytes of secret; the encryption key is derived from it. Shorthand for `secrets: [secret]`. */
  secret?: string | Buffer;
  /**
   * For rotation: `[current, ...previous]`, each at least 32 bytes. New cookies are sealed with the
   * first; a cookie sealed with any of them still opens. Give `secret` or `secrets`, not both.
   */
  secrets?: readonly (string | Buffer)[];
  /** Cookie name; each pending flow gets its own cookie `<cookieName>.<hash of its state>`. Default `'nv_pending'`. */
  cookieName?: string;
  /** Most pending flows kept per browser; the oldest is dropped beyond it. Default 3. */
  maxPendingFlows?: number;
  /** Send the cookie only over https. Default `true`; set `false` only for http on localhost. */
  secure?: boolean;
  /** Cookie path: starts with `/`, no `;` or control characters. Default `'/'`. */
  path?: string;
}

// Browsers keep at least 4096 bytes per cookie, name and attributes included.
const MAX_COOKIE_LENGTH = 4000;
// Base64url characters of the state's SHA-256 in a cookie name: 72 bits, no collisions among a
// browser's few pending flows.
const NAME_HASH_LENGTH = 12;
const NAME_HASH = new RegExp(`^[\\w-]{${NAME_HASH_LENGTH}}$`);
const KEY_SALT = 'passport-number-verification';
const STORE = 'CookieStateStore';
// States remembered as taken, per store instance: ~150 bytes each, so at most a few MiB.
const TAKEN_STATES_LIMIT = 20_000;
const decoder = new TextDecoder();

interface PendingCookie {
  name: string;
  flow: PendingFlow | undefined;
}

/**
 * Keeps each pending flow in an encrypted, HttpOnly, SameSite=Lax cookie of its own (JWE, `dir` +
 * A256GCM), for apps without server-side sessions (serverless, stateless APIs). The cookie binds
 * the flow to the browser that started it; encryption keeps the phone number and app data private
 * and makes the cookie tamper-proof. One cookie per flow means that two first legs at the same
 * moment (two tabs) never overwrite each other.
 *
 * A cookie cannot be revoked server-side, so each store instance remembers the states it handed out
 * until they expire: within one process a state is taken once (a replayed cookie or a callback
 * delivered twice ends `invalid_state`). Another process does not know them; there the operator's
 * single-use code makes a replay end in `invalid_grant`.
 *
 * Outside Express, the response must be reachable as `req.res` (set `req.res = res`).
 */
export class CookieStateStore implements StateStore {
  /** Sealing uses the first key; opening tries each. */
  readonly #keys: Uint8Array[];
  readonly #cookieName: string;
  readonly #maxPendingFlows: number;
  readonly #attributes: string;
  readonly #taken = new TakenStates(TAKEN_STATES_LIMIT);

  constructor(options: CookieStateStoreOptions) {
    const { cookieName = 'nv_pending', maxPendingFlows = 3, secure = true, path = '/' } = options;
    if (!isCookieName(cookieName)) {
      throw new TypeError('CookieStateStore requires cookieName to be a valid cookie name');
    }
    if (!Number.isInteger(maxPendingFlows) || maxPendingFlows < 1) {
      throw new TypeError('CookieStateStore requires maxPendingFlows to be a positive integer');
    }
    // RFC 6265 §4.1.1: a path value has no `;` and no control characters (they would add attributes
    // or split the header).
    if (typeof path !== 'string' || !/^\/[\x20-\x3a\x3c-\x7e]*$/.test(path)) {
      throw new TypeError(
        'CookieStateStore requires path to start with / and hold no ; or control characters',
      );
    }
    this.#keys = secretsOf(options).map((secret) => deriveKey(secret, cookieName));
    this.#cookieName = cookieName;
    this.#maxPendingFlows = maxPendingFlows;
    this.#attributes = `Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  async save(req: Request, flow: PendingFlow): Promise<void> {
    const name = this.#nameFor(flow.state);
    const maxAge = Math.max(1, Math.ceil((flow.expiresAt - Date.now()) / 1000));
    const cookie = `${name}=${await this.#seal(flow)}; Max-Age=${maxAge}; ${this.#attributes}`;
    if (cookie.length > MAX_COOKIE_LENGTH) {
      throw new NumberVerificationError(
        'CookieStateStore: the pending flow is too large for a cookie (reduce the state option)',
        { code: 'state_too_large' },
      );
    }
    const now = Date.now();
    const others = (await this.#pendingCookies(req)).filter((pending) => pending.name !== name);
    const live = others
      .filter((pending) => pending.flow !== undefined && pending.flow.expiresAt > now)
      .sort((a, b) => (a.flow?.expiresAt ?? 0) - (b.flow?.expiresAt ?? 0));
    // Keep the newest flows, making room for this one; expire the rest and any cookie that no
    // longer opens (a retired secret), so a browser's cookies stay few and small.
    const kept = new Set(live.slice(Math.max(0, live.length - (this.#maxPendingFlows - 1))));
    for (const pending of others) {
      if (!kept.has(pending)) appendSetCookie(req, STORE, this.#clear(pending.name));
    }
    appendSetCookie(req, STORE, cookie);
  }

  async take(req: Request, state: string): Promise<PendingFlow | undefined> {
    const name = this.#nameFor(state);
    const value = readCookie(req.headers.cookie, name);
    if (value === undefined) return undefined;
    appendSetCookie(req, STORE, this.#clear(name));
    const flow = await this.#open(value);
    // A cookie renamed to another state's name opens, but holds another state.
    if (flow?.state !== state) return undefined;
    // The cookie cannot be revoked, but within this process its state opens once.
    return this.#taken.claim(state, flow.expiresAt) ? flow : undefined;
  }

  #nameFor(state: string): string {
    const hash = createHash('sha256').update(state).digest('base64url');
    return `${this.#cookieName}.${hash.slice(0, NAME_HASH_LENGTH)}`;
  }

  #clear(name: string): string {
    return `${name}=; Max-Age=0; ${this.#attributes}`;
  }

  /** This store's cookies in the request; a forged, retired-key or garbled one holds no flow. */
  async #pendingCookies(req: Request): Promise<PendingCookie[]> {
    const prefix = `${this.#cookieName}.`;
    const pending: PendingCookie[] = [];
    for (const [name, value] of readCookies(req.headers.cookie)) {
      if (!name.startsWith(prefix) || !NAME_HASH.test(name.slice(prefix.length))) continue;
      const flow = await this.#open(value);
      pending.push({ name, flow: flow && this.#nameFor(flow.state) === name ? flow : undefined });
    }
    return pending;
  }

  async #open(value: string): Promise<PendingFlow | undefined> {
    for (const key of this.#keys) {
      try {
        const { plaintext } = await compactDecrypt(value, key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        const payload: unknown = JSON.parse(decoder.decode(plaintext));
        return isPendingFlow(payload) ? payload : undefined;
      } catch {
        // Sealed with another key, or not ours at all: try the next key.
      }
    }
    return undefined;
  }

  #seal(flow: PendingFlow): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(flow)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(this.#keys[0] as Uint8Array);
  }
}

function secretsOf(options: CookieStateStoreOptions): Buffer[] {
  const { secret, secrets } = options;
  if (secret !== undefined && secrets !== undefined) {
    throw new TypeError('CookieStateStore takes secret or secrets, not both');
  }
  const list = secrets ?? (secret === undefined ? [] : [secret]);
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      'CookieStateStore requires a secret of at least 32 bytes (or secrets: [current, ...previous])',
    );
  }
  return list.map((value: unknown) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (!Buffer.isBuffer(bytes) || bytes.length < 32) {
      throw new TypeError('CookieStateStore requires a secret of at least 32 bytes');
    }
    return bytes;
  });
}

/**
 * RFC 5869 HKDF-SHA-256 with the cookie name in `info`: one key per purpose and cookie name, so the
 * secret can serve other uses, and a cookie renamed to another store's name does not open there.
 */
function deriveKey(secret: Buffer, cookieName: string): Uint8Array {
  const info = `CookieStateStore\0${cookieName}`;
  return new Uint8Array(hkdfSync('sha256', secret, KEY_SALT, info, 32));
}
