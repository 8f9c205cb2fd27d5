import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultInjection } from '../../lib/sandbox/index.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const VERIFIED = '+99012345678';
const TIMEOUT = 300;

type Expected = Record<string, unknown>;

const cases: [string, Omit<FaultInjection, 'times'>, Expected][] = [
  [
    'token 400 invalid_grant',
    { endpoint: 'token', status: 400, body: { error: 'invalid_grant' } },
    { outcome: 'fail', status: 403, info: { code: 'invalid_grant', message: expect.any(String) } },
  ],
  [
    'token 401 invalid_client',
    {
      endpoint: 'token',
      status: 401,
      body: { error: 'invalid_client', error_description: 'JWT signature invalid' },
    },
    { outcome: 'error', error: { name: 'TokenError', code: 'invalid_client', status: 401 } },
  ],
  [
    'token 503 HTML',
    { endpoint: 'token', status: 503, body: '<html>down</html>', contentType: 'text/html' },
    { outcome: 'error', error: { name: 'TokenError', code: 'token_request_failed', status: 503 } },
  ],
  [
    'token 200 without access_token',
    { endpoint: 'token', status: 200, body: { token_type: 'Bearer' } },
    {
      outcome: 'error',
      error: { name: 'TokenError', code: 'invalid_token_response', status: 200 },
    },
  ],
  [
    'token 200 that is not JSON',
    { endpoint: 'token', status: 200, body: 'access_token=abc', contentType: 'text/plain' },
    {
      outcome: 'error',
      error: { name: 'TokenError', code: 'invalid_token_response', status: 200 },
    },
  ],
  [
    'token 200 malformed JSON',
    { endpoint: 'token', malformedJson: true },
    { outcome: 'error', error: { name: 'TokenError', code: 'invalid_token_response' } },
  ],
  [
    'token reset before the body',
    { endpoint: 'token', reset: 'before-body' },
    { outcome: 'error', error: { name: 'TokenError', code: 'network_error' } },
  ],
  [
    'token 2 MiB body',
    { endpoint: 'token', oversizedBytes: 2 * 1024 * 1024 },
    { outcome: 'error', error: { name: 'TokenError', code: 'response_too_large', status: 200 } },
  ],
  [
    'token slower than timeout',
    { endpoint: 'token', delayMs: TIMEOUT + 500 },
    { outcome: 'error', error: { name: 'TokenError', code: 'timeout' } },
  ],
  [
    'verify 500 ErrorInfo',
    { endpoint: 'verify', status: 500, body: { status: 500, code: 'INTERNAL', message: 'boom' } },
    { outcome: 'error', error: { name: 'VerificationError', code: 'INTERNAL', status: 500 } },
  ],
  [
    'verify 403 PERMISSION_DENIED',
    {
      endpoint: 'verify',
      status: 403,
      body: { status: 403, code: 'PERMISSION_DENIED', message: 'no scope' },
    },
    {
      outcome: 'error',
      error: { name: 'VerificationError', code: 'PERMISSION_DENIED', status: 403 },
    },
  ],
  [
    'verify 502 empty body',
    { endpoint: 'verify', status: 502, body: '' },
    {
      outcome: 'error',
      error: { name: 'VerificationError', code: 'verify_request_failed', status: 502 },
    },
  ],
  [
    'verify 200 with a non-boolean answer',
    { endpoint: 'verify', status: 200, body: { devicePhoneNumberVerified: 'true' } },
    {
      outcome: 'error',
      error: { name: 'VerificationError', code: 'invalid_verify_response', status: 200 },
    },
  ],
  [
    'verify reset during the body',
    { endpoint: 'verify', reset: 'during-body' },
    { outcome: 'error', error: { name: 'VerificationError', code: 'network_error' } },
  ],
  [
    'verify body trickling slower than timeout',
    { endpoint: 'verify', trickle: { chunkBytes: 1, intervalMs: 100 } },
    { outcome: 'error', error: { name: 'VerificationError', code: 'timeout', status: 200 } },
  ],
];

describe('operator failures on the back channel', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginApp({ strategy: { timeout: TIMEOUT } });
  });
  afterAll(() => h.close());

  it.each(cases)('%s', async (_, fault, expected) => {
    const injected = h.sandbox.inject({ ...fault, times: 1 });
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const started = performance.now();
    const outcome = await h.callback(callbackURL, browser);
    const elapsed = performance.now() - started;
    expect(injected.count).toBe(1);
    expect(outcome).toMatchObject(expected);
    // One deadline per request: two back-channel calls at most, each within timeout.
    expect(elapsed).toBeLessThan(2 * TIMEOUT + 250);
  });

  it('answers the next login normally after each fault', async () => {
    expect((await h.login(VERIFIED)).outcome).toBe('success');
  });
});

describe('unreachable operator', () => {
  it('errors with network_error when the token endpoint refuses connections', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const h = await startLoginApp({
      strategy: { tokenURL: `http://127.0.0.1:${closedPort}/oauth2/token` },
    });
    try {
      const outcome = await h.login(VERIFIED);
      expect(outcome.error).toMatchObject({ name: 'TokenError', code: 'network_error' });
      expect(outcome.error?.status).toBeUndefined();
      expect(outcome.error?.message).toMatch(/ECONNREFUSED/);
    } finally {
      await h.close();
    }
  });
});
