import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanOperatorText } from '../../lib/errors.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';

const VERIFIED = '+99012345678';
const FIXTURES = JSON.parse(
  readFileSync(new URL('fixtures/vonage-error-bodies.json', import.meta.url), 'utf8'),
) as Record<string, { status: number; contentType: string; body: object }>;

function fixture(name: string): { status: number; contentType: string; body: object } {
  const found = FIXTURES[name];
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

/** Every character that could start a line in a log or drive a terminal. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const LINE_BREAKERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HOSTILE = 'first\r\n2026-01-01 INFO admin signed in\u2028next\u0085nel\u001b[31mred\ttab';

let h: LoginHarness;
beforeAll(async () => {
  h = await startLoginApp();
});
afterAll(() => h.close());

describe('cleanOperatorText', () => {
  it('removes C0, DEL, C1 and U+2028/2029, then cuts to 256 characters', () => {
    expect(cleanOperatorText(HOSTILE)).toBe(
      'first2026-01-01 INFO admin signed innextnel[31mredtab',
    );
    expect(cleanOperatorText(`${'\n'.repeat(500)}ok`)).toBe('ok');
    const long = cleanOperatorText('é'.repeat(300));
    expect(long).toHaveLength(256);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('the callback error (RFC 6749 §4.1.2.1) with a valid state of the sender’s own', () => {
  async function callbackWith(params: Record<string, string>) {
    const browser = h.browser();
    const redirect = await h.start(VERIFIED, browser);
    const url = new URL(h.callbackURL);
    url.searchParams.set('state', redirect.searchParams.get('state') ?? '');
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return h.callback(url, browser);
  }

  it.each([
    ['CR LF', 'server_error\r\n2026-01-01 INFO admin signed in'],
    ['a double quote', 'server"error'],
    ['a backslash', 'server\\error'],
    ['non-ASCII', 'sérver_error'],
    ['U+2028', 'server_error\u2028x'],
  ])('turns an error with %s into invalid_request', async (_, error) => {
    const outcome = await callbackWith({ error, error_description: 'x' });
    expect(outcome.outcome).toBe('error');
    expect(outcome.error?.name).toBe('AuthorizationError');
    expect(outcome.error?.code).toBe('invalid_request');
    expect(outcome.error?.message).not.toMatch(LINE_BREAKERS);
    expect(outcome.error?.message).not.toContain('admin signed in');
  });

  it('keeps an error in the RFC charset and removes control characters from error_description', async () => {
    const outcome = await callbackWith({ error: 'server_error', error_description: HOSTILE });
    expect(outcome.error?.code).toBe('server_error');
    expect(outcome.error?.description).toBe(cleanOperatorText(HOSTILE));
    expect(outcome.error?.message).toContain('server_error');
    expect(outcome.error?.message).not.toMatch(LINE_BREAKERS);
  });
});

describe('operator error bodies in all three shapes, read by both back-channel legs', () => {
  afterAll(() => h.sandbox.clearFaults());

  async function failing(leg: 'token' | 'verify', fault: object) {
    h.sandbox.inject({ endpoint: leg, times: 1, ...fault });
    const outcome = await h.login(VERIFIED);
    expect(outcome.outcome).toBe('error');
    expect(outcome.error?.name).toBe(leg === 'token' ? 'TokenError' : 'VerificationError');
    return outcome.error ?? { code: undefined, message: '', status: undefined };
  }

  it.each(['token', 'verify'] as const)(
    '%s: CAMARA ErrorInfo (Vonage Java SDK fixture, 403 PERMISSION_DENIED) gives its code and message',
    async (leg) => {
      const error = await failing(leg, fixture('javaTokenPermissionDenied'));
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.status).toBe(403);
      expect(error.message).toContain(
        'HTTP 403 (PERMISSION_DENIED): Client does not have sufficient permissions to perform this action',
      );
    },
  );

  it.each([
    ['token', 'token_request_failed'],
    ['verify', 'verify_request_failed'],
  ] as const)(
    '%s: RFC 7807 (Vonage Python SDK fixture) keeps the fallback code and adds title, detail and type',
    async (leg, fallback) => {
      const error = await failing(leg, fixture('pythonNoNetworkApplication'));
      expect(error.code).toBe(fallback);
      expect(error.status).toBe(400);
      expect(error.message).toContain(
        'HTTP 400: Bad Request: No Network Application associated with Vonage Application: 29f760f8-7ce1-46c9-ade3-f2dedee4ed5f (https://developer.vonage.com/api-errors#invalid-param)',
      );
    },
  );

  it('verify: an RFC 6749 body gives the OAuth error as the code', async () => {
    const error = await failing('verify', {
      status: 401,
      body: { error: 'invalid_token', error_description: 'The access token expired' },
    });
    expect(error.code).toBe('invalid_token');
    expect(error.message).toContain('HTTP 401 (invalid_token): The access token expired');
  });

  it.each([
    ['token', 'rfc6749', 'temporarily_unavailable', 'Injected fault.'],
    ['token', 'camara', 'UNAVAILABLE', 'Injected fault.'],
    ['token', 'rfc7807', 'token_request_failed', 'Service Unavailable: Injected fault.'],
    ['verify', 'rfc6749', 'temporarily_unavailable', 'Injected fault.'],
    ['verify', 'camara', 'UNAVAILABLE', 'Injected fault.'],
    ['verify', 'rfc7807', 'verify_request_failed', 'Service Unavailable: Injected fault.'],
  ] as const)(
    '%s: the sandbox answers 503 as %s, read as %s',
    async (leg, errorShape, code, text) => {
      const error = await failing(leg, { status: 503, errorShape });
      expect(error.code).toBe(code);
      expect(error.message).toMatch(new RegExp(`HTTP 503( \\(${code}\\))?: ${text}`));
    },
  );

  it.each(['token', 'verify'] as const)(
    '%s: control characters never reach the message; a code outside the RFC charset is no code',
    async (leg) => {
      const error = await failing(leg, {
        status: 400,
        body: {
          error: 'bad\r\ncode',
          code: 'ALSO\nBAD',
          error_description: HOSTILE,
          detail: HOSTILE,
        },
      });
      expect(error.code).toBe(leg === 'token' ? 'token_request_failed' : 'verify_request_failed');
      expect(error.message).not.toMatch(LINE_BREAKERS);
      expect(error.message).toContain(cleanOperatorText(HOSTILE));
    },
  );
});

describe('user-agent on the back channel', () => {
  let proxy: RecordingProxy;
  let recorded: LoginHarness;
  beforeAll(async () => {
    proxy = await startRecordingProxy();
    recorded = await startLoginApp({
      strategy: {
        tokenURL: `${proxy.url}/oauth2/token`,
        verifyURL: `${proxy.url}/camara/number-verification/v031/verify`,
      },
    });
    proxy.target = recorded.sandbox.url;
  });
  afterAll(async () => {
    await recorded.close();
    await proxy.close();
  });

  it('names this package with the version in package.json, and Node', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect((await recorded.login(VERIFIED)).outcome).toBe('success');
    expect(proxy.exchanges).toHaveLength(2);
    for (const exchange of proxy.exchanges) {
      expect(exchange.headers['user-agent']).toBe(
        `passport-number-verification/${version} node/${process.versions.node}`,
      );
    }
  });
});
