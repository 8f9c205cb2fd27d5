import { timingSafeEqual } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import type { RegisteredApplication } from './applications.js';
import type { SandboxContext } from './context.js';

/** Clock skew tolerated on `iat` and `exp`. */
export const CLOCK_SKEW_SECONDS = 30;

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

export type ClientAuthResult =
  { ok: true; application: RegisteredApplication } | { ok: false; description: string };

/**
 * Vonage's client authentication on /oauth2/token: `Authorization: Bearer <application JWT>`,
 * RS256-signed with the application's private key, claims `application_id`, `iat`, `exp`, `jti`
 * (as @vonage/jwt `tokenGenerate` mints them). Stricter than RFC 6749 §2.3 needs: every JWT
 * is single-use (`jti` replay set), short-lived and not issued in the future.
 */
export async function authenticateClient(
  ctx: SandboxContext,
  authorization: string | undefined,
): Promise<ClientAuthResult> {
  if (authorization?.startsWith('Basic ')) return authenticateSecret(ctx, authorization.slice(6));
  const match = authorization === undefined ? null : BEARER.exec(authorization);
  const jwt = match?.[1];
  if (jwt === undefined) {
    return { ok: false, description: 'Authorization: Bearer <application JWT> is required' };
  }
  let applicationId: unknown;
  try {
    applicationId = decodeJwt(jwt).application_id;
  } catch {
    return { ok: false, description: 'the bearer credential is not a JWT' };
  }
  const application =
    typeof applicationId === 'string' ? ctx.applications.get(applicationId) : undefined;
  if (application === undefined) {
    return { ok: false, description: 'application_id is missing or not a registered application' };
  }
  const now = ctx.clock();
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, application.publicKey, {
      algorithms: ['RS256'],
      requiredClaims: ['iat', 'exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch {
    return { ok: false, description: 'the JWT signature or claims are invalid or expired' };
  }
  const nowSeconds = now / 1000;
  const { iat, exp, jti } = payload;
  if (typeof iat !== 'number' || iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    return { ok: false, description: 'the JWT iat is in the future' };
  }
  if (
    typeof exp !== 'number' ||
    exp > nowSeconds + ctx.jwtMaxLifetimeSeconds + CLOCK_SKEW_SECONDS
  ) {
    return {
      ok: false,
      description: `the JWT exp is more than ${ctx.jwtMaxLifetimeSeconds} s ahead`,
    };
  }
  const replay = claimJwtId(ctx, application, jti, exp, 'JWT');
  return replay === undefined ? { ok: true, application } : { ok: false, description: replay };
}

/**
 * Records a client JWT's `jti` until its `exp` (plus skew), so each one is accepted once per
 * application (RFC 7523 §3 item 7). Returns why it is refused, or undefined once recorded.
 */
export function claimJwtId(
  ctx: SandboxContext,
  application: RegisteredApplication,
  jti: unknown,
  exp: number,
  what: 'JWT' | 'assertion',
): string | undefined {
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
    return `the ${what} jti must be a non-empty string`;
  }
  const replayKey = `${application.applicationId}\u0000${jti}`;
  if (ctx.store.seenJwtIds.has(replayKey)) return `the ${what} jti was already used`;
  ctx.store.seenJwtIds.set(replayKey, { expiresAt: (exp + CLOCK_SKEW_SECONDS) * 1000 });
  return undefined;
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): `base64(urlencode(client_id) ":" urlencode(secret))`,
 * for applications registered with a `clientSecret` (the way some operators authenticate clients).
 */
function authenticateSecret(ctx: SandboxContext, credentials: string): ClientAuthResult {
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  let clientId = '';
  let secret = '';
  try {
    clientId = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  } catch {
    return { ok: false, description: 'the Basic credentials are not URL-encoded' };
  }
  const application = colon < 0 ? undefined : ctx.applications.get(clientId);
  const expected = Buffer.from(application?.clientSecret ?? '');
  const given = Buffer.from(secret);
  if (
    application === undefined ||
    expected.length === 0 ||
    expected.length !== given.length ||
    !timingSafeEqual(expected, given)
  ) {
    return { ok: false, description: 'unknown client or wrong client secret' };
  }
  return { ok: true, application };
}
