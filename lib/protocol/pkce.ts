import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 §4.4: the only transform this package sends; `plain` would hand the verifier out. */
export const PKCE_METHOD = 'S256';

/**
 * A fresh `code_verifier` (RFC 7636 §4.1): 32 random bytes, base64url — 256 bits of entropy in 43
 * characters of the unreserved set, the shortest length the RFC allows.
 */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** `code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2, S256). */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** The authorization request's RFC 7636 §4.3 parameters, or none without a challenge. */
export function pkceParameters(codeChallenge: string | undefined): Record<string, string> {
  return codeChallenge === undefined
    ? {}
    : { code_challenge: codeChallenge, code_challenge_method: PKCE_METHOD };
}
