import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createTestApplication, sandboxApplication } from '../helpers/application-keys.js';
import { signApplicationJwt } from '../helpers/application-jwt.js';
import { authorize, callVerify, exchangeCode } from '../helpers/sandbox-flow.js';

const PHONE = '+99012345678';
const app = createTestApplication();
const other = createTestApplication();
let now = Date.now();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({
    strict: true,
    applications: [sandboxApplication(app), sandboxApplication(other)],
    clock: () => now,
  });
  await sandbox.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await sandbox.close();
});

async function freshCode(): Promise<string> {
  const { code } = await authorize(sandbox, app, { phoneNumber: PHONE });
  if (code === undefined) throw new Error('no code');
  return code;
}

async function expectOAuthError(response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
}

describe('POST /oauth2/token', () => {
  it('exchanges a code for a Bearer token (no-store)', async () => {
    const response = await exchangeCode(sandbox, app, await freshCode());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 300,
    });
  });

  it('uses a code once and revokes its token when it is replayed (RFC 6749 §4.1.2)', async () => {
    const code = await freshCode();
    const first = await exchangeCode(sandbox, app, code);
    const { access_token: token } = (await first.json()) as { access_token: string };
    await expectOAuthError(await exchangeCode(sandbox, app, code), 400, 'invalid_grant');
    const verify = await callVerify(sandbox, token, { body: { phoneNumber: PHONE } });
    expect(verify.status).toBe(401);
  });

  describe('client authentication → 401 invalid_client', () => {
    const sign = (claims: Record<string, unknown>, ttlSeconds?: number, iat?: number) =>
      signApplicationJwt({
        applicationId: app.applicationId,
        privateKey: app.privateKey,
        claims,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        ...(iat === undefined ? {} : { iat }),
      });
    const nowSeconds = () => Math.floor(now / 1000);

    it.each<[string, () => Promise<string>]>([
      ['no JWT', async () => ''],
      ['garbage', async () => 'not.a.jwt'],
      ['unknown application_id', () => sign({ application_id: randomUUID() })],
      ['missing application_id', () => sign({ application_id: undefined })],
      ['missing iat', () => sign({ iat: undefined })],
      ['missing exp', () => sign({ exp: undefined })],
      ['missing jti', () => sign({ jti: undefined })],
      ['iat in the future', () => sign({}, 60, nowSeconds() + 120)],
      ['exp too far ahead', () => sign({}, 3600)],
      ['expired', () => sign({}, 60, nowSeconds() - 120)],
      [
        'signed by another key',
        () =>
          signApplicationJwt({ applicationId: app.applicationId, privateKey: other.privateKey }),
      ],
      [
        'PS256 instead of RS256',
        () =>
          new SignJWT({ application_id: app.applicationId, jti: randomUUID() })
            .setProtectedHeader({ alg: 'PS256', typ: 'JWT' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(app.privateKey),
      ],
      [
        'HS256',
        () =>
          new SignJWT({ application_id: app.applicationId, jti: randomUUID() })
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef')),
      ],
    ])('%s', async (_name, makeJwt) => {
      const response = await exchangeCode(sandbox, app, await freshCode(), {
        jwt: await makeJwt(),
      });
      await expectOAuthError(response, 401, 'invalid_client');
    });

    it('without an Authorization header', async () => {
      const response = await fetch(sandbox.endpoints.tokenURL, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=x&redirect_uri=y',
      });
      await expectOAuthError(response, 401, 'invalid_client');
    });

    it('a replayed jti', async () => {
      const jwt = await sign({});
      expect((await exchangeCode(sandbox, app, await freshCode(), { jwt })).status).toBe(200);
      const replay = await exchangeCode(sandbox, app, await freshCode(), { jwt });
      await expectOAuthError(replay, 401, 'invalid_client');
    });

    it('accepts a JWT with a few seconds of clock skew', async () => {
      const jwt = await sign({}, 900, nowSeconds() + 10);
      expect((await exchangeCode(sandbox, app, await freshCode(), { jwt })).status).toBe(200);
    });
  });

  describe('request errors', () => {
    it('JSON body → 400 invalid_request', async () => {
      const code = await freshCode();
      const response = await exchangeCode(sandbox, app, code, {
        contentType: 'application/json',
        body: JSON.stringify({
          grant_type: 'authorization_code',
          code,
          redirect_uri: app.redirectUri,
        }),
      });
      await expectOAuthError(response, 400, 'invalid_request');
    });

    it.each([
      ['missing grant_type', 'code=abc&redirect_uri=x', 'invalid_request'],
      ['client_credentials', 'grant_type=client_credentials', 'unsupported_grant_type'],
      ['missing code', 'grant_type=authorization_code&redirect_uri=x', 'invalid_request'],
      [
        'repeated code',
        'grant_type=authorization_code&code=a&code=b&redirect_uri=x',
        'invalid_request',
      ],
      ['unknown code', 'grant_type=authorization_code&code=nope&redirect_uri=x', 'invalid_grant'],
    ])('%s → %s', async (_name, body, error) => {
      await expectOAuthError(await exchangeCode(sandbox, app, '', { body }), 400, error);
    });

    it('missing redirect_uri → invalid_request', async () => {
      const body = `grant_type=authorization_code&code=${await freshCode()}`;
      await expectOAuthError(
        await exchangeCode(sandbox, app, '', { body }),
        400,
        'invalid_request',
      );
    });

    it('redirect_uri different from the authorization request → invalid_grant', async () => {
      const response = await exchangeCode(sandbox, app, await freshCode(), {
        redirectUri: `${app.redirectUri}/`,
      });
      await expectOAuthError(response, 400, 'invalid_grant');
    });

    it('a code issued to another application → invalid_grant', async () => {
      await expectOAuthError(
        await exchangeCode(sandbox, other, await freshCode()),
        400,
        'invalid_grant',
      );
    });

    it('an expired code (60 s) → invalid_grant', async () => {
      const code = await freshCode();
      now += 61_000;
      try {
        await expectOAuthError(await exchangeCode(sandbox, app, code), 400, 'invalid_grant');
      } finally {
        now -= 61_000;
      }
    });

    it('GET → 405', async () => {
      const response = await fetch(sandbox.endpoints.tokenURL);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });
});
