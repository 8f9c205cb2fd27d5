import { randomBytes } from 'node:crypto';
import type { DeviceResolution } from './virtual-operator.js';
import type { VerifyRequestRecord } from './verify2-requests.js';

/** What a token lets its holder do, whichever scope form (Vonage `#` or CAMARA space) granted it. */
export type Permission = 'verify' | 'share';

export interface AuthorizationCode {
  applicationId: string;
  redirectUri: string;
  permissions: ReadonlySet<Permission>;
  device: DeviceResolution;
  expiresAt: number;
  /** The S256 `code_challenge` of the authorization request (RFC 7636 §4.3), when it sent one. */
  codeChallenge?: string;
  used: boolean;
  /** Access tokens issued from this code, revoked if the code is presented again (RFC 6749 §4.1.2). */
  tokens: string[];
}

export interface AccessToken {
  applicationId: string;
  permissions: ReadonlySet<Permission>;
  device: DeviceResolution;
  expiresAt: number;
}

/** 256 random bits, base64url: codes and tokens are unguessable (RFC 6749 §10.10). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** How often expired entries are swept, at most. */
const SWEEP_INTERVAL_MS = 1_000;

/** A map whose entries expire; swept lazily on insert so memory stays bounded under load. */
export class ExpiringMap<V extends { expiresAt: number }> {
  private readonly entries = new Map<string, V>();
  private lastSweep = 0;

  constructor(private readonly clock: () => number) {}

  set(key: string, value: V): void {
    this.sweep();
    this.entries.set(key, value);
  }

  /** The entry, or undefined when unknown or expired. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    if (value.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private sweep(): void {
    const now = this.clock();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, value] of this.entries) if (value.expiresAt <= now) this.entries.delete(key);
  }
}

export class SandboxStore {
  readonly codes: ExpiringMap<AuthorizationCode>;
  readonly tokens: ExpiringMap<AccessToken>;
  /** `application_id:jti` of every client JWT accepted, kept until the JWT's `exp`. */
  readonly seenJwtIds: ExpiringMap<{ expiresAt: number }>;
  /** Verify v2 requests by `request_id`. */
  readonly verifyRequests: ExpiringMap<VerifyRequestRecord>;
  /** The live Verify v2 request per phone number (Vonage refuses concurrent ones). */
  readonly verifyInFlight: ExpiringMap<{ requestId: string; expiresAt: number }>;

  constructor(clock: () => number) {
    this.codes = new ExpiringMap(clock);
    this.tokens = new ExpiringMap(clock);
    this.seenJwtIds = new ExpiringMap(clock);
    this.verifyRequests = new ExpiringMap(clock);
    this.verifyInFlight = new ExpiringMap(clock);
  }
}
