import {
  createSandbox,
  type Sandbox,
  type SandboxEvent,
  type SandboxOptions,
} from '../../lib/sandbox/index.js';
import {
  createTestApplication,
  sandboxApplication,
  type TestApplication,
} from './application-keys.js';

export interface RunningSandbox {
  sandbox: Sandbox;
  app: TestApplication;
  /** Every request event, in order. */
  events: SandboxEvent[];
}

/**
 * A strict sandbox (unless `strict: false` is given) on 127.0.0.1 with one registered application;
 * close it with `sandbox.close()`.
 */
export async function startSandbox(
  options: Omit<SandboxOptions, 'applications'> = {},
  app: TestApplication = createTestApplication(),
): Promise<RunningSandbox> {
  const sandbox = await createSandbox({
    strict: true,
    ...options,
    applications: [sandboxApplication(app)],
  });
  const events: SandboxEvent[] = [];
  sandbox.on('request', (event) => events.push(event));
  await sandbox.listen(0, '127.0.0.1');
  return { sandbox, app, events };
}

/** Waits until the sandbox has reported `count` events (they are emitted when a response closes). */
export async function waitForEvents(events: SandboxEvent[], count: number): Promise<void> {
  for (let i = 0; i < 200 && events.length < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
