/** The sandbox's private_key_jwt (OIDC Core §9, RFC 7523 §3), checked claim by claim. */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeChallengeS256, createCodeVerifier } from '../../lib/protocol/pkce.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';
import { authorize, CAMARA_VERIFY_SCOPE } from '../helpers/sandbox-flow.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let running: RunningSandbox;
beforeAll(async () => {
  running = await startSandbox();
});
afterAll(() => running.sandbox.close());

async function assertion(claims: Record<string, unknown> = {}, alg = 'RS256'): Promise<string> {
  const { app, sandbox } = running;
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      iss: app.applicationId,
      sub: app.applicationId,
      aud: sandbox.camaraEndpoints.tokenURL,
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(app.privateKey);
}

/** A fresh PKCE code, then the token request with `clientAssertion`. */
async function tokenRequest(clientAssertion: string, extra: Record<string, string> = {}) {
  const { app, sandbox } = running;
  const verifier = createCodeVerifier();
  const { code } = await authorize(sandbox, app, {
    phoneNumber: '+99012345678',
    scope: CAMARA_VERIFY_SCOPE,
    params: { code_challenge: codeChallengeS256(verifier), code_challenge_method: 'S256' },
  });
  const response = await fetch(sandbox.camaraEndpoints.tokenURL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: app.redirectUri,
      code_verifier: verifier,
      client_assertion_type: JWT_BEARER,
      client_assertion: clientAssertion,
      ...extra,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('private_key_jwt at the sandbox token endpoint', () => {
  it('issues a token for an exact assertion, and refuses its replay (jti)', async () => {
    const jwt = await assertion();
    expect((await tokenRequest(jwt)).status).toBe(200);
    expect(await tokenRequest(jwt)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: expect.stringMatching(/jti/) },
    });
  });

  it.each([
    ['another audience', { aud: 'https://elsewhere.example/token' }, /aud/],
    ['an expired assertion', { iat: 1_000_000, exp: 1_000_300 }, /expired/],
    ['a lifetime over 300 s', { exp: Math.floor(Date.now() / 1000) + 600 }, /300/],
    ['sub unlike iss', { sub: 'someone-else' }, /sub/],
    ['no jti', { jti: undefined }, /jti/],
    ['an unknown client', { iss: 'unknown', sub: 'unknown' }, /registered/],
  ])('refuses %s (invalid_client)', async (_, claims, description) => {
    expect(await tokenRequest(await assertion(claims))).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: expect.stringMatching(description) },
    });
  });

  it('allows only the algorithm of the registered key: no none, no HS256, no PS256', async () => {
    const [header, payload] = (await assertion()).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect((await tokenRequest(none)).status).toBe(401);
    expect((await tokenRequest(`${header}.${payload}.AAAA`)).status).toBe(401);
    expect((await tokenRequest(await assertion({}, 'PS256'))).body.error_description).toMatch(
      /RS256/,
    );
  });

  it('refuses a client_id that differs from iss', async () => {
    expect((await tokenRequest(await assertion(), { client_id: 'other' })).status).toBe(401);
  });

  it('requires PKCE of CAMARA clients (invalid_grant without a challenge)', async () => {
    const { app, sandbox } = running;
    const { code } = await authorize(sandbox, app, {
      phoneNumber: '+99012345678',
      scope: CAMARA_VERIFY_SCOPE,
    });
    const response = await fetch(sandbox.camaraEndpoints.tokenURL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code ?? '',
        redirect_uri: app.redirectUri,
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(),
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
