import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieStateStore } from '../../lib/index.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const VERIFIED = '+99012345678';
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

describe.each([
  ['SessionStateStore (both strategies on the default session key)', {}],
  [
    'CookieStateStore (both strategies on one cookie name and secret)',
    {
      withoutSession: true,
      strategy: { store: new CookieStateStore({ secret: SECRET, secure: false }) },
      otherStore: new CookieStateStore({ secret: SECRET, secure: false }),
    },
  ],
])('a pending flow belongs to the strategy that made it: %s', (_name, setup) => {
  let h: LoginHarness;
  beforeAll(async () => {
    const { otherStore, ...options } = setup as {
      otherStore?: CookieStateStore;
      withoutSession?: boolean;
      strategy?: { store: CookieStateStore };
    };
    h = await startLoginApp({
      ...options,
      otherStrategy: {
        name: 'other-number-verification',
        ...(otherStore && { store: otherStore }),
      },
    });
  });
  afterAll(() => h.close());

  it('refuses (invalid_state) a callback that another strategy instance started, without a token request', async () => {
    const events: string[] = [];
    h.sandbox.on('request', (event) => events.push(event.endpoint));
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const outcome = await h.callback(`/other/callback${callbackURL.search}`, browser);
    expect(outcome).toMatchObject({ outcome: 'fail', info: { code: 'invalid_state' } });
    expect(events).not.toContain('token');
  });

  it('still completes the flow at the strategy that made it', async () => {
    const browser = h.browser();
    const first = await browser.post('/other/login').type('form').send({ phoneNumber: VERIFIED });
    const callbackURL = await h.followOperator(new URL(first.headers.location as string));
    const outcome = await h.callback(`/other/callback${callbackURL.search}`, browser);
    expect(outcome).toMatchObject({ outcome: 'success', info: { phoneNumber: VERIFIED } });
  });
});
