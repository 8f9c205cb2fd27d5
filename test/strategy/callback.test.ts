import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const VERIFIED = '+99012345678';
const NOT_VERIFIED = '+99012345677';
const NOT_ON_MOBILE_NETWORK = '+99011111199';

describe('callback leg against the sandbox operator', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginApp({ authenticate: { state: { returnTo: '/cart' } } });
  });
  afterAll(() => h.close());

  it('logs in when the operator confirms the number, with info.phoneNumber and info.state', async () => {
    const outcome = await h.login(VERIFIED);
    expect(outcome).toEqual({
      outcome: 'success',
      user: { id: VERIFIED },
      info: {
        phoneNumber: VERIFIED,
        state: { returnTo: '/cart' },
        // CAMARA x-correlator of the sign-in, a UUID unless the app chose one.
        correlator: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
  });

  it('fails with not_verified (401) when the device holds another number', async () => {
    const outcome = await h.login(NOT_VERIFIED);
    expect(outcome.outcome).toBe('fail');
    expect(outcome.status).toBe(401);
    // The app data comes back on a fail too, so the login page can keep returnTo.
    expect(outcome.info).toMatchObject({ code: 'not_verified', state: { returnTo: '/cart' } });
    expect(outcome.info?.message).toEqual(expect.any(String));
  });

  it('fails with not_on_mobile_network (403) and tells the user to turn off Wi-Fi', async () => {
    const outcome = await h.login(NOT_ON_MOBILE_NETWORK);
    expect(outcome.status).toBe(403);
    expect(outcome.info?.code).toBe('not_on_mobile_network');
    expect(outcome.info?.message).toMatch(/Wi-Fi/);
  });

  it('normalises what the user typed before sending it as login_hint', async () => {
    const outcome = await h.login('+990 (1234) 56-78');
    expect(outcome).toMatchObject({ outcome: 'success', info: { phoneNumber: VERIFIED } });
  });

  it('fails with access_denied (403) when the operator redirects with error=access_denied', async () => {
    const fault = h.sandbox.inject({ endpoint: 'auth', error: 'access_denied', times: 1 });
    const outcome = await h.login(VERIFIED);
    expect(fault.count).toBe(1);
    expect(outcome).toMatchObject({
      outcome: 'fail',
      status: 403,
      info: { code: 'access_denied' },
    });
  });

  it('errors with AuthorizationError carrying the OAuth error and its description', async () => {
    const browser = h.browser();
    const authorizationURL = await h.start(VERIFIED, browser);
    const state = authorizationURL.searchParams.get('state') ?? '';
    const outcome = await h.callback(
      `/auth/callback?error=temporarily_unavailable&error_description=${'x'.repeat(400)}&state=${state}`,
      browser,
    );
    expect(outcome.outcome).toBe('error');
    expect(outcome.error).toMatchObject({
      name: 'AuthorizationError',
      code: 'temporarily_unavailable',
    });
    expect(outcome.error?.description?.length).toBeLessThanOrEqual(256);
    expect(outcome.error?.message.length).toBeLessThan(400);
  });

  it('lets error decide when both error and code are present', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    callbackURL.searchParams.set('error', 'access_denied');
    const outcome = await h.callback(callbackURL, browser);
    expect(outcome.info?.code).toBe('access_denied');
  });

  it('errors with AuthorizationError invalid_request for a valid state with neither code nor error', async () => {
    const browser = h.browser();
    const state = (await h.start(VERIFIED, browser)).searchParams.get('state') ?? '';
    const outcome = await h.callback(`/auth/callback?state=${state}`, browser);
    expect(outcome.error).toMatchObject({ name: 'AuthorizationError', code: 'invalid_request' });
  });

  describe('state', () => {
    it('reads a bare GET of the callback URL (no code, error or state) as a failed sign-in: invalid_state', async () => {
      const browser = h.browser();
      const pending = await h.followOperator(await h.start(VERIFIED, browser));
      expect(await h.callback('/auth/callback', browser)).toMatchObject({
        outcome: 'fail',
        status: 403,
        info: { code: 'invalid_state' },
      });
      // The pending flow is untouched: the bare request had no state to consume.
      expect((await h.callback(pending, browser)).outcome).toBe('success');
    });

    it('still starts a sign-in on the callback path when a number is given (one route for both legs)', async () => {
      const response = await h
        .browser()
        .get(`/auth/callback?phoneNumber=${encodeURIComponent(VERIFIED)}`);
      expect(response.status).toBe(302);
      expect(new URL(response.headers.location as string).searchParams.get('login_hint')).toBe(
        `tel:${VERIFIED}`,
      );
    });

    it('fails invalid_state (403) when the state is missing, and uses up nothing', async () => {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      const withoutState = new URL(callbackURL);
      withoutState.searchParams.delete('state');
      expect(await h.callback(withoutState, browser)).toMatchObject({
        outcome: 'fail',
        status: 403,
        info: { code: 'invalid_state' },
      });
      expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
    });

    it.each([
      ['repeated', (state: string) => `state=${state}&state=${state}`],
      ['nested', (state: string) => `state[a]=${state}`],
      ['empty', () => 'state='],
    ])('treats a %s state as absent and does not consume the stored one', async (_, query) => {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      const state = callbackURL.searchParams.get('state') ?? '';
      const code = callbackURL.searchParams.get('code') ?? '';
      const tampered = await h.callback(`/auth/callback?code=${code}&${query(state)}`, browser);
      expect(tampered.info?.code).toBe('invalid_state');
      expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
    });

    it('fails invalid_state for an unknown state', async () => {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      callbackURL.searchParams.set('state', 'forged-state-value-000000000000000');
      expect((await h.callback(callbackURL, browser)).info?.code).toBe('invalid_state');
    });

    it('fails invalid_state when a completed callback is replayed', async () => {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
      expect((await h.callback(callbackURL, browser)).info?.code).toBe('invalid_state');
    });

    it('fails invalid_state when the callback arrives in another browser (login CSRF)', async () => {
      const victim = h.browser();
      const attacker = h.browser();
      await h.start(NOT_VERIFIED, victim);
      const attackerCallback = await h.followOperator(await h.start(VERIFIED, attacker));
      expect((await h.callback(attackerCallback, victim)).info?.code).toBe('invalid_state');
    });

    it('keeps two tabs of one browser apart: both complete, in either order', async () => {
      const browser = h.browser();
      const first = await h.followOperator(await h.start(VERIFIED, browser));
      const second = await h.followOperator(await h.start('+99012345680', browser));
      expect(await h.callback(second, browser)).toMatchObject({
        outcome: 'success',
        info: { phoneNumber: '+99012345680' },
      });
      expect(await h.callback(first, browser)).toMatchObject({
        outcome: 'success',
        info: { phoneNumber: VERIFIED },
      });
    });

    it('takes the number from the stored flow, never from the callback URL', async () => {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(NOT_VERIFIED, browser));
      callbackURL.searchParams.set('phoneNumber', VERIFIED);
      callbackURL.searchParams.set('login_hint', `tel:${VERIFIED}`);
      expect((await h.callback(callbackURL, browser)).info?.code).toBe('not_verified');
    });
  });
});

describe('expired state', () => {
  it('fails invalid_state once stateMaxAge has passed', async () => {
    const h = await startLoginApp({ strategy: { stateMaxAge: 50 } });
    try {
      const browser = h.browser();
      const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect((await h.callback(callbackURL, browser)).info?.code).toBe('invalid_state');
    } finally {
      await h.close();
    }
  });
});

describe('per-request application data', () => {
  it('takes appState (typed in passport’s AuthenticateOptions) over an object state', async () => {
    const h = await startLoginApp({
      authenticate: { appState: { returnTo: '/cart' }, state: { returnTo: '/ignored' } },
    });
    try {
      const outcome = await h.login(VERIFIED);
      expect(outcome).toMatchObject({ outcome: 'success', info: { state: { returnTo: '/cart' } } });
      const refused = await h.login(NOT_VERIFIED);
      expect(refused.info).toMatchObject({ code: 'not_verified', state: { returnTo: '/cart' } });
    } finally {
      await h.close();
    }
  });
});
