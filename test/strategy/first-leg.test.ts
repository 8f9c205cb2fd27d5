import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

describe('first leg: redirect to the operator', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginApp();
  });
  afterAll(() => h.close());

  it('redirects to authorizationURL with every RFC 6749 §4.1.1 parameter and login_hint', async () => {
    const url = await h.start('+447700900001');
    expect(`${url.origin}${url.pathname}`).toBe(h.sandbox.endpoints.authorizationURL);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: h.applicationId,
      response_type: 'code',
      scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
      redirect_uri: h.callbackURL,
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      login_hint: 'tel:+447700900001',
    });
    // '#' would start a fragment and '+' would decode to a space: both must be escaped.
    expect(url.search).toContain('%23number-verification-verify-read');
    expect(url.search).toContain('login_hint=tel%3A%2B447700900001');
    expect(url.search).not.toMatch(/[#+ ]/);
  });

  it('issues a fresh, unique state per request', async () => {
    const browser = h.browser();
    const states = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      states.add((await h.start('+447700900001', browser)).searchParams.get('state') ?? '');
    }
    expect(states.size).toBe(20);
  });

  it.each([
    ['letters', '+44 7700 9000AB'],
    ['no plus', '447700900001'],
    ['too short', '+4477'],
    ['an empty field', ''],
    ['non-ASCII digits', '+٤٤٧٧٠٠٩٠٠٠٠١'],
  ])('fails invalid_phone_number (400) for %s', async (_, phoneNumber) => {
    const outcome = await h.startOutcome({ phoneNumber });
    expect(outcome).toMatchObject({
      outcome: 'fail',
      status: 400,
      info: { code: 'invalid_phone_number', message: expect.any(String) },
    });
  });

  it('fails invalid_phone_number when the field is missing or repeated', async () => {
    expect((await h.startOutcome({})).info?.code).toBe('invalid_phone_number');
    expect(
      (await h.startOutcome('phoneNumber=%2B447700900001&phoneNumber=%2B447700900002')).info?.code,
    ).toBe('invalid_phone_number');
  });

  it('reads the number from the query when the body has none', async () => {
    const response = await h.browser().post('/login?phoneNumber=%2B447700900001');
    expect(response.status).toBe(302);
    expect(new URL(response.headers.location as string).searchParams.get('login_hint')).toBe(
      'tel:+447700900001',
    );
  });
});

describe('first leg options', () => {
  it('sends login_hint as plain E.164 with loginHintFormat e164, and keeps existing query parameters', async () => {
    const h = await startLoginApp({ strategy: { loginHintFormat: 'e164' } });
    try {
      const base = new URL(h.sandbox.endpoints.authorizationURL);
      base.searchParams.set('tenant', 'eu');
      base.searchParams.set('client_id', 'overridden');
      const withQuery = await startLoginApp({
        strategy: { loginHintFormat: 'e164', authorizationURL: base.toString() },
      });
      try {
        const url = await withQuery.start('+447700900001');
        expect(url.searchParams.get('login_hint')).toBe('+447700900001');
        expect(url.searchParams.get('tenant')).toBe('eu');
        expect(url.searchParams.getAll('client_id')).toEqual([withQuery.applicationId]);
      } finally {
        await withQuery.close();
      }
    } finally {
      await h.close();
    }
  });

  it('takes the number from the per-request phoneNumber option first', async () => {
    const h = await startLoginApp({ authenticate: { phoneNumber: '+99012345678' } });
    try {
      const url = await h.start('+447700900001');
      expect(url.searchParams.get('login_hint')).toBe('tel:+99012345678');
    } finally {
      await h.close();
    }
  });

  it('reads a custom phoneNumberField', async () => {
    const h = await startLoginApp({ strategy: { phoneNumberField: 'msisdn' } });
    try {
      const response = await h
        .browser()
        .post('/login')
        .type('form')
        .send({ msisdn: '+447700900001' });
      expect(response.status).toBe(302);
    } finally {
      await h.close();
    }
  });

  it('errors with session_required when no session middleware is installed, on either leg', async () => {
    const h = await startLoginApp({ withoutSession: true });
    try {
      const first = await h.startOutcome({ phoneNumber: '+447700900001' });
      expect(first.error).toMatchObject({
        name: 'NumberVerificationError',
        code: 'session_required',
      });
      expect(first.error?.message).toMatch(/session/);
      const callback = await h.callback('/auth/callback?code=abc&state=def', h.browser());
      expect(callback.error?.code).toBe('session_required');
    } finally {
      await h.close();
    }
  });

  it.each([
    ['state', { state: 'returnTo=/cart' as unknown as Record<string, unknown> }],
    ['appState', { appState: ['/cart'] as unknown as Record<string, unknown> }],
  ])('errors when the per-request %s is not a plain object', async (_name, authenticate) => {
    const h = await startLoginApp({ authenticate });
    try {
      const outcome = await h.startOutcome({ phoneNumber: '+447700900001' });
      expect(outcome.error).toMatchObject({ name: 'TypeError' });
      expect(outcome.error?.message).toMatch(/appState option must be a plain object/);
    } finally {
      await h.close();
    }
  });
});
