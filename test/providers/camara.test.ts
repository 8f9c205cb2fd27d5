/**
 * camara() end to end over loopback against the sandbox's CAMARA v2 side: private_key_jwt (RS256
 * and ES256), PKCE, discovery, hashed numbers, share mode and x-correlator.
 */
import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  camara,
  DiscoveryError,
  NumberVerificationStrategy,
  vonage,
  type Provider,
} from '../../lib/index.js';
import { startLoginApp, testKeyPair, type LoginHarness } from '../helpers/login-app.js';
import { debugOutput } from '../helpers/secrets.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

const VERIFIED = '+99012345678';
const NOT_VERIFIED = '+99012345677';
const NOT_ON_MOBILE_NETWORK = '+99011111199';
/** `printf '%s' '+99012345678' | sha256sum`, computed outside this package. */
const VERIFIED_SHA256 = 'cf4010e902b3c8799617ffafaa38dad107c3c6caa63f0d8108cb92ce550373cc';
const NOT_VERIFIED_SHA256 = '5c8acb059d88e79904268254f8725e4c5f6e58d526d066ddf406c3dbde186ace';

interface Sent {
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A dispatcher that records each back-channel request (path, headers, body) on its way out. */
function recordingDispatcher(sent: Sent[]): Dispatcher {
  return new Agent().compose((dispatch) => (opts, handler) => {
    const headers: Record<string, string> = {};
    const raw = opts.headers as Record<string, string> | undefined;
    for (const [name, value] of Object.entries(raw ?? {})) headers[name.toLowerCase()] = value;
    sent.push({
      path: opts.path,
      headers,
      body: typeof opts.body === 'string' ? opts.body : undefined,
    });
    return dispatch(opts, handler);
  });
}

let h: LoginHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('camara(): sign-in with private_key_jwt and PKCE', () => {
  it('sends the CAMARA authorization request: space-separated scope, prompt=none, S256, tel: hint', async () => {
    h = await startLoginApp({ provider: 'camara' });
    const url = await h.start(VERIFIED);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: h.applicationId,
      response_type: 'code',
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
      redirect_uri: h.callbackURL,
      state: expect.stringMatching(/^[\w-]{43}$/),
      login_hint: `tel:${VERIFIED}`,
      prompt: 'none',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
    });
  });

  it.each([
    ['RSA (RS256)', 'rsa' as const],
    ['EC P-256 (ES256)', 'ec' as const],
  ])('signs in with an %s key; the assertion is exactly RFC 7523', async (_, type) => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys =
      type === 'ec' ? { privateKey: ec.privateKey, publicKey: ec.publicKey } : testKeyPair();
    const sent: Sent[] = [];
    h = await startLoginApp({
      provider: 'camara',
      application: { publicKey: keys.publicKey, keyId: 'key-2026' },
      camara: { privateKey: keys.privateKey, keyId: 'key-2026' },
      strategy: { dispatcher: recordingDispatcher(sent) },
    });
    expect(await h.login(VERIFIED)).toMatchObject({
      outcome: 'success',
      info: { phoneNumber: VERIFIED },
    });
    const token = sent.find((s) => s.path === '/oauth2/token');
    const form = new URLSearchParams(token?.body);
    expect(token?.headers.authorization).toBeUndefined();
    expect(form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(form.get('code_verifier')).toMatch(/^[\w-]{43}$/);
    const assertion = form.get('client_assertion') ?? '';
    const alg = type === 'ec' ? 'ES256' : 'RS256';
    expect(decodeProtectedHeader(assertion)).toEqual({ alg, kid: 'key-2026' });
    const { payload } = await jwtVerify(assertion, keys.publicKey, {
      algorithms: [alg],
      issuer: h.applicationId,
      subject: h.applicationId,
      audience: h.sandbox.camaraEndpoints.tokenURL,
    });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(300);
    const verify = sent.find((s) => s.path === '/number-verification/v2/verify');
    expect(JSON.parse(verify?.body ?? '')).toEqual({ phoneNumber: VERIFIED });
  });

  it('maps v2 answers to not_verified and not_on_mobile_network', async () => {
    h = await startLoginApp({ provider: 'camara' });
    expect(await h.login(NOT_VERIFIED)).toMatchObject({
      outcome: 'fail',
      status: 401,
      info: { code: 'not_verified' },
    });
    expect(await h.login(NOT_ON_MOBILE_NETWORK)).toMatchObject({
      outcome: 'fail',
      status: 403,
      info: { code: 'not_on_mobile_network' },
    });
  });

  it('is refused by the sandbox without PKCE (pkce: false): invalid_grant', async () => {
    h = await startLoginApp({ provider: 'camara', camara: { pkce: false } });
    expect((await h.login(VERIFIED)).info?.code).toBe('invalid_grant');
  });
});

describe('hashPhoneNumber: true', () => {
  it.each(['vonage', 'camara'] as const)(
    'sends hashedPhoneNumber (lower-case hex SHA-256 of +E164) through %s',
    async (provider) => {
      const sent: Sent[] = [];
      h = await startLoginApp({
        provider,
        strategy: { hashPhoneNumber: true, dispatcher: recordingDispatcher(sent) },
      });
      expect(await h.login(VERIFIED)).toMatchObject({ outcome: 'success' });
      expect((await h.login(NOT_VERIFIED)).info?.code).toBe('not_verified');
      const bodies = sent.filter((s) => s.path.endsWith('/verify')).map((s) => s.body);
      expect(bodies).toEqual([
        JSON.stringify({ hashedPhoneNumber: VERIFIED_SHA256 }),
        JSON.stringify({ hashedPhoneNumber: NOT_VERIFIED_SHA256 }),
      ]);
    },
  );
});

describe("mode: 'share'", () => {
  it('needs no number: no login_hint, the share scope, and the device number is the user', async () => {
    h = await startLoginApp({ provider: 'camara', strategy: { mode: 'share' } });
    const browser = h.browser();
    const response = await browser.post('/login').type('form').send({});
    expect(response.status).toBe(302);
    const url = new URL(response.headers.location as string);
    expect(url.searchParams.has('login_hint')).toBe(false);
    expect(url.searchParams.get('scope')).toBe(
      'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read',
    );
    const outcome = await h.callback(await h.followOperator(url), browser);
    expect(outcome).toMatchObject({
      outcome: 'success',
      user: { id: VERIFIED },
      info: { phoneNumber: VERIFIED, correlator: expect.any(String) },
    });
  });

  it('fails not_on_mobile_network when the operator cannot see the device', async () => {
    h = await startLoginApp({
      provider: 'camara',
      strategy: { mode: 'share' },
      sandbox: { deviceNumber: NOT_ON_MOBILE_NETWORK },
    });
    const browser = h.browser();
    const response = await browser.post('/login').type('form').send({});
    const outcome = await h.callback(
      await h.followOperator(new URL(response.headers.location as string)),
      browser,
    );
    expect(outcome).toMatchObject({ outcome: 'fail', info: { code: 'not_on_mobile_network' } });
  });

  it('errors invalid_share_response when the device number is not E.164', async () => {
    h = await startLoginApp({ provider: 'camara', strategy: { mode: 'share' } });
    h.sandbox.inject({
      endpoint: 'device-phone-number',
      status: 200,
      body: { devicePhoneNumber: '0034 666 111' },
    });
    const browser = h.browser();
    const response = await browser.post('/login').type('form').send({});
    const outcome = await h.callback(
      await h.followOperator(new URL(response.headers.location as string)),
      browser,
    );
    expect(outcome.error).toMatchObject({
      name: 'VerificationError',
      code: 'invalid_share_response',
    });
  });

  it('is refused at construction for a provider without share (Vonage)', () => {
    const provider = vonage({ applicationId: 'app', privateKey: testKeyPair().privateKeyPem });
    expect(
      () =>
        new NumberVerificationStrategy(
          { provider, callbackURL: 'https://app.example/cb', mode: 'share' },
          () => undefined,
        ),
    ).toThrow(/share/);
  });
});

describe('camara.discover(issuer, options)', () => {
  const options = () => ({
    clientId: 'unused',
    privateKey: testKeyPair().privateKeyPem,
    apiRoot: 'http://127.0.0.1:1',
  });

  it('reads the endpoints from the sandbox document (issuer = sandbox.url) and signs in', async () => {
    h = await startLoginApp({
      provider: async (sandbox) =>
        camara.discover(sandbox.url, {
          ...options(),
          clientId: '8b1a3e5c-5f0a-4d5b-9a57-6f1f7a2b9c10',
          apiRoot: sandbox.url,
        }),
    });
    expect(await h.login(VERIFIED)).toMatchObject({ outcome: 'success' });
  });

  it.each([
    ['another issuer', { issuer: 'https://evil.example' }, 'issuer_mismatch'],
    ['no S256', { code_challenge_methods_supported: ['plain'] }, 'pkce_unsupported'],
    [
      'no private_key_jwt',
      { token_endpoint_auth_methods_supported: ['client_secret_basic'] },
      'client_authentication_unsupported',
    ],
  ])('refuses a document with %s at start-up', async (_, change, code) => {
    h = await startLoginApp({ provider: 'vonage' });
    const { sandbox } = h;
    const document = (await (await fetch(sandbox.camaraEndpoints.discoveryURL)).json()) as object;
    sandbox.inject({ endpoint: 'discovery', status: 200, body: { ...document, ...change } });
    const error = await camara.discover(sandbox.url, options()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error).toMatchObject({ code, correlator: expect.any(String) });
  });

  it('times out with a DiscoveryError, then reads the document once and caches it', async () => {
    h = await startLoginApp({ provider: 'vonage' });
    const { sandbox } = h;
    const reads: string[] = [];
    sandbox.on('request', (event) => {
      if (event.endpoint === 'discovery') reads.push(event.outcome);
    });
    sandbox.inject({ endpoint: 'discovery', delayMs: 500, times: 1 });
    const error = await camara
      .discover(sandbox.url, { ...options(), timeout: 100 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'DiscoveryError', code: 'timeout' });
    const first = await camara.discover(sandbox.url, options());
    const second = await camara.discover(sandbox.url, options());
    expect(first.name).toBe('camara');
    expect(second.name).toBe('camara');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(reads.filter((outcome) => outcome === 'discovery')).toHaveLength(1);
  });

  it('camara({ issuer }) discovers at the first sign-in; a bad document is an error there', async () => {
    let issuer = '';
    h = await startLoginApp({
      provider: (sandbox) => {
        issuer = sandbox.url;
        return camara({ ...options(), issuer: sandbox.url, apiRoot: sandbox.url });
      },
    });
    h.sandbox.inject({ endpoint: 'discovery', status: 200, body: { issuer }, times: 1 });
    const outcome = await h.startOutcome({ phoneNumber: VERIFIED });
    expect(outcome.error).toMatchObject({ name: 'DiscoveryError' });
  });
});

describe('x-correlator', () => {
  it("carries the app's correlator on every request, in info, and back from the operator", async () => {
    const sent: Sent[] = [];
    h = await startLoginApp({
      provider: 'camara',
      authenticate: { correlator: 'ticket-4711' },
      strategy: { dispatcher: recordingDispatcher(sent) },
    });
    expect(await h.login(VERIFIED)).toMatchObject({ info: { correlator: 'ticket-4711' } });
    expect(await h.login(NOT_VERIFIED)).toMatchObject({
      info: { code: 'not_verified', correlator: 'ticket-4711' },
    });
    expect(sent.length).toBe(4);
    for (const request of sent) expect(request.headers['x-correlator']).toBe('ticket-4711');
  });

  it('puts the correlator on errors and logs an echo that differs', async () => {
    h = await startLoginApp({ provider: 'vonage' });
    h.sandbox.inject({ endpoint: 'verify', status: 503, headers: { 'x-correlator': 'other' } });
    const mark = debugOutput.length;
    const outcome = await h.login(VERIFIED);
    expect(outcome.error).toMatchObject({ name: 'VerificationError', status: 503 });
    const correlator = outcome.error?.correlator;
    expect(correlator).toMatch(/^[0-9a-f-]{36}$/);
    const lines = debugOutput.slice(mark).join('\n');
    expect(lines).toContain(`operator echoed x-correlator "other" for ${correlator}`);
  });

  it('refuses a correlator the CAMARA pattern does not allow', async () => {
    h = await startLoginApp({ provider: 'camara', authenticate: { correlator: 'bad value\n' } });
    const outcome = await h.startOutcome({ phoneNumber: VERIFIED });
    expect(outcome.error).toMatchObject({ name: 'TypeError' });
  });
});

describe('provider option', () => {
  it('refuses flat Vonage options beside a provider', () => {
    const provider: Provider = camara({
      clientId: 'c',
      privateKey: testKeyPair().privateKeyPem,
      authorizationURL: 'https://op.example/auth',
      tokenURL: 'https://op.example/token',
      apiRoot: 'https://api.op.example',
    });
    expect(
      () =>
        new NumberVerificationStrategy(
          {
            provider,
            callbackURL: 'https://app.example/cb',
            applicationId: 'x',
          } as unknown as ConstructorParameters<typeof NumberVerificationStrategy>[0],
          () => undefined,
        ),
    ).toThrow(/applicationId/);
  });
});
