import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { claimJwtId, CLOCK_SKEW_SECONDS, type ClientAuthResult } from './client-auth.js';
import type { SandboxContext } from './context.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** CAMARA ICM "Client Authentication": an assertion lives at most 300 s. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/** Whether a token request authenticates with a client assertion rather than a header. */
export function usesClientAssertion(form: URLSearchParams): boolean {
  return form.has('client_assertion') || form.has('client_assertion_type');
}

/**
 * `private_key_jwt` (OIDC Core §9, RFC 7523 §3, CAMARA ICM "Client Authentication"), checked
 * exactly: the registered client's own key and algorithm only (RSA → RS256, EC P-256 → ES256, never
 * `none` or HMAC), `iss` = `sub` = client_id, `aud` naming this token endpoint (or the issuer),
 * `iat`, `exp` no more than 300 s after `iat` and not past, and a `jti` never seen before.
 */
export async function authenticateAssertion(
  ctx: SandboxContext,
  form: URLSearchParams,
  tokenEndpoint: string,
): Promise<ClientAuthResult> {
  if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION) {
    return { ok: false, description: `client_assertion_type must be ${JWT_BEARER_ASSERTION}` };
  }
  const assertion = form.get('client_assertion') ?? '';
  let header: { alg?: string | undefined; kid?: string | undefined };
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    return { ok: false, description: 'client_assertion is not a JWT' };
  }
  const clientId = claims.iss;
  const application = typeof clientId === 'string' ? ctx.applications.get(clientId) : undefined;
  if (clientId === undefined || application === undefined) {
    return { ok: false, description: 'the assertion iss is not a registered client_id' };
  }
  const formClientId = form.get('client_id');
  if (formClientId !== null && formClientId !== clientId) {
    return { ok: false, description: 'client_id differs from the assertion iss' };
  }
  // Algorithm allow-list: the one the registered key signs with.
  if (header.alg !== application.algorithm) {
    return {
      ok: false,
      description: `the assertion alg must be ${application.algorithm} for this client`,
    };
  }
  if (
    application.keyId !== undefined &&
    header.kid !== undefined &&
    header.kid !== application.keyId
  ) {
    return { ok: false, description: 'the assertion kid names no key of this client' };
  }
  const now = ctx.clock();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, application.publicKey, {
      algorithms: [application.algorithm],
      issuer: clientId,
      subject: clientId,
      audience: [tokenEndpoint, ctx.baseUrl()],
      requiredClaims: ['iat', 'exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (err) {
    return { ok: false, description: describeFailure(err) };
  }
  const nowSeconds = now / 1000;
  const { iat, exp, jti } = payload;
  if (typeof iat !== 'number' || iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    return { ok: false, description: 'the assertion iat is in the future' };
  }
  if (typeof exp !== 'number' || exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
    return {
      ok: false,
      description: `the assertion lives longer than ${MAX_ASSERTION_LIFETIME_SECONDS} s`,
    };
  }
  const replay = claimJwtId(ctx, application, jti, exp, 'assertion');
  return replay === undefined ? { ok: true, application } : { ok: false, description: replay };
}

function describeFailure(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the assertion has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `the assertion ${err.claim} claim is missing or wrong`;
  }
  return 'the assertion signature is invalid';
}
