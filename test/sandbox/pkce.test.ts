import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeChallengeS256, createCodeVerifier } from '../../lib/protocol/pkce.js';
import { authorize, exchangeCode } from '../helpers/sandbox-flow.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';

const PHONE = '+99012345678';
let s: RunningSandbox;

beforeAll(async () => {
  s = await startSandbox();
});
afterAll(() => s.sandbox.close());

async function codeFor(params: Record<string, string | null>): Promise<string> {
  const { code, error } = await authorize(s.sandbox, s.app, { phoneNumber: PHONE, params });
  if (code === undefined) throw new Error(`no code: ${String(error)}`);
  return code;
}

async function tokenError(code: string, codeVerifier?: string): Promise<string | undefined> {
  const response = await exchangeCode(
    s.sandbox,
    s.app,
    code,
    codeVerifier === undefined ? {} : { codeVerifier },
  );
  if (response.status === 200) return undefined;
  expect(response.status).toBe(400);
  return ((await response.json()) as { error: string }).error;
}

describe('PKCE in the sandbox (RFC 7636)', () => {
  it('computes the S256 challenge of RFC 7636 Appendix B', () => {
    expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    const verifier = createCodeVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes = 256 bits, base64url
    expect(createCodeVerifier()).not.toBe(verifier);
  });

  it('issues a code for an S256 challenge and redeems it only with the matching verifier', async () => {
    const verifier = createCodeVerifier();
    const challenge = {
      code_challenge: codeChallengeS256(verifier),
      code_challenge_method: 'S256',
    };
    expect(await tokenError(await codeFor(challenge), verifier)).toBeUndefined();
    expect(await tokenError(await codeFor(challenge))).toBe('invalid_grant');
    expect(await tokenError(await codeFor(challenge), createCodeVerifier())).toBe('invalid_grant');
  });

  it('refuses a verifier for a code issued without a challenge (RFC 9700 §2.1.1 downgrade)', async () => {
    expect(await tokenError(await codeFor({}), createCodeVerifier())).toBe('invalid_grant');
    expect(await tokenError(await codeFor({}))).toBeUndefined();
  });

  it('refuses plain, unknown methods and malformed challenges on the authorization request', async () => {
    const challenge = codeChallengeS256(createCodeVerifier());
    for (const params of [
      { code_challenge: challenge, code_challenge_method: 'plain' },
      { code_challenge: challenge, code_challenge_method: null },
      { code_challenge: 'short', code_challenge_method: 'S256' },
      { code_challenge: null, code_challenge_method: 'S256' },
    ]) {
      const result = await authorize(s.sandbox, s.app, { phoneNumber: PHONE, params });
      expect(result.error).toBe('invalid_request');
      expect(result.code).toBeUndefined();
    }
  });
});
