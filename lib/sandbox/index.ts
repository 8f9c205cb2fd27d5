/**
 * `passport-number-verification/sandbox`: a local, strict, Vonage-compatible Number Verification
 * operator (OIDC authorization, token endpoint, Vonage v0.3.1 and CAMARA v2.1.0 APIs).
 */
import { SandboxServer } from './server.js';
import type { Sandbox, SandboxOptions } from './types.js';

export type {
  CamaraEndpoints,
  FaultEndpoint,
  FaultHandle,
  FaultInjection,
  Sandbox,
  SandboxApplication,
  SandboxEndpoint,
  SandboxEndpoints,
  SandboxEvent,
  SandboxOptions,
} from './types.js';

/** Creates a sandbox (not yet listening: call `listen`). */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return new SandboxServer(options);
}
