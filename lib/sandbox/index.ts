/**
 * `passport-number-verification/sandbox`: a local, Vonage-compatible Number Verification operator
 * (OIDC authorization, token endpoint, Vonage v0.3.1 and CAMARA v2.1.0 APIs) and Vonage Verify v2
 * with silent authentication and an outbox for the codes it "sends". Lenient like Vonage by
 * default; `strict: true` for the RFC rules.
 */
import { SandboxServer } from './server.js';
import type { Sandbox, SandboxOptions } from './types.js';

export type {
  CamaraEndpoints,
  ErrorShape,
  FaultEndpoint,
  FaultHandle,
  FaultInjection,
  Sandbox,
  SandboxApplication,
  SandboxDemoApplication,
  SandboxDemoCredentials,
  SandboxEndpoint,
  SandboxEndpoints,
  SandboxEvent,
  SandboxOptions,
  SandboxStrategyOptions,
  SandboxVerifyStrategyOptions,
  Verify2Endpoint,
  Verify2Endpoints,
} from './types.js';
export type { OutboxMessage } from './outbox.js';

/**
 * Creates a sandbox (not yet listening: call `listen`). Without `applications`, it makes a demo
 * application: `sandbox.strategyOptions({ callbackURL })` then gives the strategy all it needs
 * (`sandbox.verifyStrategyOptions({ callbackURL })` the Verify v2 one).
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return new SandboxServer(options);
}
