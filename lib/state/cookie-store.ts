import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { NumberVerificationError } from '../errors.js';
import { isRecord } from '../guards.js';
import type { PendingFlow, StateStore } from './store.js';

export interface CookieStateStoreOptions {
  /** At least 32 bytes of secret; the encryption key is derived from it. Rotate it like a session secret. */
  secret: string | Buffer;
  /** Cookie name. Default `'nv_pending'`. */
  cookieName?: string;
  /** Most pending flows kept in the cookie; the oldest is dropped beyond it. Default 3. */
  maxPendingFlows?: number;
  /** Send the cookie only over https. Default `true`; set `false` only for http on localhost. */
  secure?: boolean;
  /** Cookie path. Default `'/'`. */
  path?: string;
}

// Browsers keep at least 4096 bytes per cookie, name and attributes included.
const MAX_COOKIE_LENGTH = 4000;
const decoder = new TextDecoder();

/**
 * Keeps pending flows in an encrypted, HttpOnly, SameSite=Lax cookie (JWE, `dir` + A256GCM), for
 * apps without server-side sessions (serverless, stateless APIs). The cookie binds each flow to the
 * browser that started it; encryption keeps the phone number and app data private and makes the
 * cookie tamper-proof.
 *
 * Unlike the session store, a cookie cannot be revoked server-side: a browser that replays an old
 * cookie can present a state again. The authorization code is still single-use at the operator,
 * so such a replay ends in `invalid_grant`.
 */
export class CookieStateStore implements StateStore {
  readonly #key: Uint8Array;
  readonly #cookieName: string;
  readonly #maxPendingFlows: number;
  readonly #attributes: string;

  constructor(options: CookieStateStoreOptions) {
    const {
      secret,
      cookieName = 'nv_pending',
      maxPendingFlows = 3,
      secure = true,
      path = '/',
    } = options;
    const secretBytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (!Buffer.isBuffer(secretBytes) || secretBytes.length < 32) {
      throw new TypeError('CookieStateStore requires a secret of at least 32 bytes');
    }
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
      throw new TypeError('CookieStateStore requires cookieName to be a valid cookie name');
    }
    if (!Number.isInteger(maxPendingFlows) || maxPendingFlows < 1) {
      throw new TypeError('CookieStateStore requires maxPendingFlows to be a positive integer');
    }
    // A fixed-purpose key derived from the secret, so the same secret can serve other uses.
    this.#key = createHash('sha256')
      .update('passport-number-verification cookie state store\0')
      .update(secretBytes)
      .digest();
    this.#cookieName = cookieName;
    this.#maxPendingFlows = maxPendingFlows;
    this.#attributes = `Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  async save(req: Request, flow: PendingFlow): Promise<void> {
    const now = Date.now();
    const flows = (await this.#read(req))
      .filter((pending) => pending.expiresAt > now && pending.state !== flow.state)
      .slice(-(this.#maxPendingFlows - 1));
    flows.push(flow);
    let cookie = await this.#cookieFor(flows);
    // Keep the cookie within what every browser stores: drop the oldest flows if needed.
    while (cookie.length > MAX_COOKIE_LENGTH && flows.length > 1) {
      flows.shift();
      cookie = await this.#cookieFor(flows);
    }
    if (cookie.length > MAX_COOKIE_LENGTH) {
      throw new NumberVerificationError(
        'CookieStateStore: the pending flow is too large for a cookie (reduce the state option)',
        { code: 'state_too_large' },
      );
    }
    this.#setCookie(req, cookie);
  }

  async take(req: Request, state: string): Promise<PendingFlow | undefined> {
    const flows = await this.#read(req);
    const flow = flows.find((pending) => pending.state === state);
    if (flow === undefined) return undefined;
    this.#setCookie(req, await this.#cookieFor(flows.filter((pending) => pending !== flow)));
    return flow;
  }

  /** The Set-Cookie value holding `flows`, living as long as the longest-lived of them. */
  async #cookieFor(flows: PendingFlow[]): Promise<string> {
    if (flows.length === 0) return `${this.#cookieName}=; Max-Age=0; ${this.#attributes}`;
    const lastExpiry = Math.max(...flows.map((pending) => pending.expiresAt));
    const maxAge = Math.max(1, Math.ceil((lastExpiry - Date.now()) / 1000));
    const value = await this.#seal(flows);
    return `${this.#cookieName}=${value}; Max-Age=${maxAge}; ${this.#attributes}`;
  }

  /** The flows in the request's cookie; a missing, forged, stale-key or garbled cookie holds none. */
  async #read(req: Request): Promise<PendingFlow[]> {
    const value = readCookie(req.headers.cookie, this.#cookieName);
    if (value === undefined) return [];
    try {
      const { plaintext } = await compactDecrypt(value, this.#key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      const payload: unknown = JSON.parse(decoder.decode(plaintext));
      return Array.isArray(payload) ? payload.filter(isPendingFlow) : [];
    } catch {
      return [];
    }
  }

  #seal(flows: PendingFlow[]): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(flows)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(this.#key);
  }

  #setCookie(req: Request, cookie: string): void {
    const res = (req as { res?: Request['res'] }).res;
    if (res === undefined || res.headersSent) {
      throw new NumberVerificationError(
        'CookieStateStore needs Express (req.res) and a response whose headers are not sent yet',
        { code: 'response_required' },
      );
    }
    res.append('Set-Cookie', cookie);
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}

function isPendingFlow(value: unknown): value is PendingFlow {
  return (
    isRecord(value) &&
    typeof value.state === 'string' &&
    typeof value.phoneNumber === 'string' &&
    typeof value.callbackURL === 'string' &&
    typeof value.expiresAt === 'number' &&
    (value.appState === undefined || isRecord(value.appState))
  );
}
