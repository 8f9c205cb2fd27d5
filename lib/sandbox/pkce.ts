import { codeChallengeS256, PKCE_METHOD } from '../protocol/pkce.js';

/** RFC 7636 §4.1 and §4.2: 43 to 128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export type ChallengeResult =
  { ok: true; challenge: string | undefined } | { ok: false; description: string };

/**
 * Reads `code_challenge` / `code_challenge_method` of an authorization request (RFC 7636 §4.3).
 * Only S256 is accepted: `plain` puts the verifier itself in the front channel (RFC 9700 §2.1.1).
 */
export function readCodeChallenge(params: URLSearchParams): ChallengeResult {
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === null) {
    return method === null
      ? { ok: true, challenge: undefined }
      : { ok: false, description: 'code_challenge_method without code_challenge' };
  }
  if (!PKCE_VALUE.test(challenge)) {
    return { ok: false, description: 'code_challenge must be 43 to 128 unreserved characters' };
  }
  if (method !== PKCE_METHOD) {
    return {
      ok: false,
      description: 'code_challenge_method must be S256 (transform algorithm not supported)',
    };
  }
  return { ok: true, challenge };
}

/**
 * RFC 7636 §4.6: the verifier must hash to the code's challenge. A verifier for a code issued
 * without a challenge is refused too (RFC 9700 §2.1.1): otherwise an attacker could strip the
 * challenge from a victim's authorization request and redeem the code with any verifier.
 * Returns the `invalid_grant` description, or `undefined` when the pair matches.
 */
export function checkCodeVerifier(
  challenge: string | undefined,
  verifier: string | null,
): string | undefined {
  if (challenge === undefined) {
    return verifier === null
      ? undefined
      : 'code_verifier sent for a code issued without code_challenge';
  }
  if (verifier === null)
    return 'code_verifier is required: the code was issued with a code_challenge';
  if (!PKCE_VALUE.test(verifier) || codeChallengeS256(verifier) !== challenge) {
    return 'code_verifier does not match the code_challenge';
  }
  return undefined;
}
