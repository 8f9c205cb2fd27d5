import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationUrl,
  authorize,
  CAMARA_SHARE_SCOPE,
  CAMARA_VERIFY_SCOPE,
  VONAGE_SCOPE,
} from '../helpers/sandbox-flow.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';

let running: RunningSandbox;
beforeAll(async () => {
  running = await startSandbox();
});
afterAll(async () => {
  await running.sandbox.close();
});

const PHONE = '+99012345678';

describe('GET /oauth2/auth', () => {
  it('redirects to redirect_uri with a fresh code and the same state', async () => {
    const { sandbox, app } = running;
    const result = await authorize(sandbox, app, { phoneNumber: PHONE, state: 'abcdefgh-1' });
    expect(result.status).toBe(302);
    expect(`${result.location?.origin}${result.location?.pathname}`).toBe(app.redirectUri);
    expect(result.state).toBe('abcdefgh-1');
    // ≥ 128 bits of randomness, base64url.
    expect(result.code).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    const again = await authorize(sandbox, app, { phoneNumber: PHONE });
    expect(again.code).not.toBe(result.code);
  });

  it.each([
    ['Vonage # form', VONAGE_SCOPE],
    ['CAMARA verify', CAMARA_VERIFY_SCOPE],
    ['CAMARA share', CAMARA_SHARE_SCOPE],
    [
      'CAMARA verify + share',
      'openid dpv:FraudPreventionAndDetection number-verification:verify number-verification:device-phone-number:read',
    ],
  ])('accepts the %s scope', async (_name, scope) => {
    const result = await authorize(running.sandbox, running.app, { phoneNumber: PHONE, scope });
    expect(result.code).toBeDefined();
  });

  it('accepts login_hint as tel:+E164 and as +E164', async () => {
    const { sandbox, app } = running;
    const bare = await authorize(sandbox, app, {
      phoneNumber: PHONE,
      params: { login_hint: PHONE },
    });
    expect(bare.code).toBeDefined();
  });

  describe('never redirects when client_id or redirect_uri is wrong (RFC 6749 §4.1.2.1)', () => {
    it.each([
      ['unknown client_id', { client_id: 'not-registered' }],
      ['missing client_id', { client_id: null }],
      [
        'redirect_uri with a trailing slash',
        { redirect_uri: 'http://127.0.0.1:3000/auth/callback/' },
      ],
      ['redirect_uri on another host', { redirect_uri: 'http://evil.example/auth/callback' }],
      ['missing redirect_uri', { redirect_uri: null }],
    ])('%s → 400 page', async (_name, params) => {
      const url = authorizationUrl(running.sandbox, running.app, { phoneNumber: PHONE, params });
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('Sign-in error');
    });

    it('repeated client_id → 400 page', async () => {
      const url = authorizationUrl(running.sandbox, running.app, { phoneNumber: PHONE });
      url.searchParams.append('client_id', running.app.applicationId);
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    });
  });

  describe('redirects back with an error', () => {
    it.each<[string, Record<string, string | null>, string]>([
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['missing response_type', { response_type: null }, 'invalid_request'],
      ['missing scope', { scope: null }, 'invalid_request'],
      [
        'scope without openid',
        { scope: 'dpv:FraudPreventionAndDetection number-verification:verify' },
        'invalid_scope',
      ],
      ['scope without purpose', { scope: 'openid number-verification:verify' }, 'invalid_scope'],
      [
        'scope with two purposes',
        { scope: 'openid dpv:A dpv:B number-verification:verify' },
        'invalid_scope',
      ],
      [
        'scope with no API scope',
        { scope: 'openid dpv:FraudPreventionAndDetection' },
        'invalid_scope',
      ],
      [
        'unknown scope',
        { scope: 'openid dpv:FraudPreventionAndDetection sim-swap' },
        'invalid_scope',
      ],
      [
        'wrong # scope',
        { scope: 'openid dpv:FraudPreventionAndDetection#check-sim-swap' },
        'invalid_scope',
      ],
      [
        '__proto__ scope',
        { scope: 'openid dpv:FraudPreventionAndDetection __proto__' },
        'invalid_scope',
      ],
      [
        'double space in scope',
        { scope: 'openid  dpv:FraudPreventionAndDetection number-verification:verify' },
        'invalid_scope',
      ],
      ['short state', { state: 'short' }, 'invalid_request'],
      ['missing login_hint', { login_hint: null }, 'invalid_request'],
      ['login_hint without +', { login_hint: 'tel:99012345678' }, 'invalid_request'],
      [
        'login_hint with an unencoded + (decoded as a space)',
        { login_hint: ' 99012345678' },
        'invalid_request',
      ],
      ['login_hint with separators', { login_hint: 'tel:+44 7700 900000' }, 'invalid_request'],
    ])('%s → %s', async (_name, params, error) => {
      const result = await authorize(running.sandbox, running.app, { phoneNumber: PHONE, params });
      expect(result.status).toBe(302);
      expect(result.error).toBe(error);
      expect(result.code).toBeUndefined();
      expect(result.location?.searchParams.get('error_description')).toBeTruthy();
      const state = params.state ?? 'state-0123456789';
      expect(result.state).toBe(state);
    });

    it('missing state → invalid_request without state', async () => {
      const result = await authorize(running.sandbox, running.app, {
        phoneNumber: PHONE,
        params: { state: null },
      });
      expect(result.error).toBe('invalid_request');
      expect(result.state).toBeUndefined();
    });

    it('repeated scope → invalid_request', async () => {
      const url = authorizationUrl(running.sandbox, running.app, { phoneNumber: PHONE });
      url.searchParams.append('scope', VONAGE_SCOPE);
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe(
        'invalid_request',
      );
    });
  });

  it('answers 405 to POST', async () => {
    const response = await fetch(running.sandbox.endpoints.authorizationURL, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
