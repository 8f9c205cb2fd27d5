import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoginApp, testKeyPair, type LoginHarness } from '../helpers/login-app.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';

const VERIFIED = '+99012345678';
const TOKEN_PATH = '/oauth2/token';
const VERIFY_PATH = '/camara/number-verification/v031/verify';

describe('back-channel wire format, recorded on the way to the sandbox', () => {
  let h: LoginHarness;
  let proxy: RecordingProxy;

  beforeAll(async () => {
    proxy = await startRecordingProxy();
    h = await startLoginApp({
      strategy: { tokenURL: `${proxy.url}${TOKEN_PATH}`, verifyURL: `${proxy.url}${VERIFY_PATH}` },
    });
    proxy.target = h.sandbox.url;
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
  });

  it('sends RFC 6749 §4.1.3 token requests with a Vonage application JWT, and CAMARA verify requests', async () => {
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    const code = callbackURL.searchParams.get('code');
    expect((await h.callback(callbackURL, browser)).outcome).toBe('success');

    const [token, verify] = proxy.exchanges;
    if (!token || !verify) throw new Error('expected a token and a verify exchange');

    // Token request: form body with exactly the three RFC 6749 §4.1.3 parameters.
    expect(token.method).toBe('POST');
    expect(token.path).toBe(TOKEN_PATH);
    expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: h.callbackURL,
    });
    const authorization = token.headers.authorization ?? '';
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const jwt = authorization.slice('Bearer '.length);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, testKeyPair().publicKey, { algorithms: ['RS256'] });
    expect(Object.keys(payload).sort()).toEqual(['application_id', 'exp', 'iat', 'jti']);
    expect(payload.application_id).toBe(h.applicationId);
    const { exp = Infinity, iat = -Infinity } = payload;
    expect(exp - iat).toBeLessThanOrEqual(300);
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(30);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);

    // Verify request: CAMARA NV POST /verify with the access token from the token response.
    const { access_token: accessToken } = JSON.parse(token.responseBody) as {
      access_token: string;
    };
    expect(verify.method).toBe('POST');
    expect(verify.path).toBe(VERIFY_PATH);
    expect(verify.headers['content-type']).toBe('application/json');
    expect(verify.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(verify.headers['x-correlator']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(verify.body)).toEqual({ phoneNumber: VERIFIED });
    expect(verify.body).toBe(`{"phoneNumber":"${VERIFIED}"}`);
  });

  it('mints a JWT with a fresh jti for every token request', async () => {
    proxy.exchanges.length = 0;
    await h.login(VERIFIED);
    await h.login(VERIFIED);
    const jtis = proxy.exchanges
      .filter((exchange) => exchange.path === TOKEN_PATH)
      .map((exchange) => {
        const [, payload = ''] = (exchange.headers.authorization ?? '').split('.');
        return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { jti: string }).jti;
      });
    expect(jtis).toHaveLength(2);
    expect(new Set(jtis).size).toBe(2);
  });
});
