/** The sandbox's private_key_jwt (OIDC Core §9, RFC 7523 §3), checked claim by claim. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';
import { assertionTokenRequest, clientAssertion } from '../helpers/sandbox-flow.js';

let running: RunningSandbox;
beforeAll(async () => {
  running = await startSandbox();
});
afterAll(() => running.sandbox.close());

function assertion(claims: Record<string, unknown> = {}, alg = 'RS256'): Promise<string> {
  return clientAssertion(running.sandbox, running.app, claims, { alg });
}

function tokenRequest(jwt: string, extra: Record<string, string> = {}) {
  return assertionTokenRequest(running.sandbox, running.app, jwt, extra);
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
    expect(await assertionTokenRequest(sandbox, app, await assertion(), {}, false)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });
});
