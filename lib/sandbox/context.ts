import type { IncomingHttpHeaders } from 'node:http';
import type { RegisteredApplication } from './applications.js';
import type { Outbox } from './outbox.js';
import type { SandboxStore } from './store.js';

/** The sandbox's configuration and state, shared by every handler. */
export interface SandboxContext {
  readonly applications: Map<string, RegisteredApplication>;
  readonly devices: ReadonlyMap<string, string>;
  readonly store: SandboxStore;
  readonly clock: () => number;
  /** The SIM of the device that opens the authorization page without a `login_hint`. */
  readonly deviceNumber: string;
  readonly codeTtlMs: number;
  readonly tokenTtlSeconds: number;
  readonly jwtMaxLifetimeSeconds: number;
  /** `SandboxOptions.strict`: `state` required (≥ 8 characters) and access tokens single-use. */
  readonly strict: boolean;
  /** Codes "sent" by SMS, RCS, WhatsApp, voice or e-mail. */
  readonly outbox: Outbox;
  /** The sandbox's own base URL (for `check_url`), once it listens. */
  baseUrl(): string;
}

/** A request once its body has been read (bounded) — all a handler needs. */
export interface SandboxRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client's address: the outbox page answers loopback clients only. */
  remoteAddress?: string | undefined;
}
