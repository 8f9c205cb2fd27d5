import { setTimeout as sleep } from 'node:timers/promises';
import session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxEvent } from '../../lib/sandbox/index.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const VERIFIED = '+99012345678';
const OTHER_VERIFIED = '+99012345680';
const LATENCY_MS = 30;

type Callback = (err?: unknown, data?: session.SessionData | null) => void;

/** express-session's MemoryStore behind 30 ms of latency each way, like a remote session store. */
class SlowStore extends session.Store {
  readonly #memory = new session.MemoryStore();

  override get(sid: string, callback: Callback): void {
    void sleep(LATENCY_MS).then(() => this.#memory.get(sid, callback));
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    void sleep(LATENCY_MS).then(() => this.#memory.set(sid, data, callback));
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    void sleep(LATENCY_MS).then(() => this.#memory.destroy(sid, callback));
  }
}

describe('SessionStateStore with a slow session store: concurrent requests of one session', () => {
  let h: LoginHarness;
  const events: SandboxEvent[] = [];
  beforeAll(async () => {
    h = await startLoginApp({ sessionStore: new SlowStore() });
    h.sandbox.on('request', (event) => events.push(event));
  });
  afterAll(() => h.close());

  const tokenRequests = () => events.filter((event) => event.endpoint === 'token').length;

  it('keeps both flows when two tabs start signing in at the same moment', async () => {
    const browser = h.browser();
    // A first sign-in creates the session, so both tabs send the same session cookie.
    const earlier = await h.followOperator(await h.start(VERIFIED, browser));
    const [first, second] = await Promise.all([
      h.start(VERIFIED, browser),
      h.start(OTHER_VERIFIED, browser),
    ]);
    const callbacks = await Promise.all([first, second].map((url) => h.followOperator(url)));
    const outcomes = [];
    for (const url of [...callbacks, earlier]) outcomes.push(await h.callback(url, browser));
    expect(outcomes.map((outcome) => outcome.info?.phoneNumber)).toEqual([
      VERIFIED,
      OTHER_VERIFIED,
      VERIFIED,
    ]);
  });

  it('sends a callback delivered twice at once to the operator once: the second copy ends invalid_state', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const before = tokenRequests();
    const outcomes = await Promise.all([
      h.callback(callbackURL, browser),
      h.callback(callbackURL, browser),
    ]);
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['fail', 'success']);
    expect(outcomes.find((outcome) => outcome.outcome === 'fail')?.info?.code).toBe(
      'invalid_state',
    );
    // Sandbox events are emitted when a response closes: give a stray second request time to land.
    await sleep(100);
    expect(tokenRequests() - before).toBe(1);
  });
});
