import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';

export interface ApplicationJwtOptions {
  applicationId: string;
  privateKey: KeyObject;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Lifetime in seconds; default 900 (Vonage's default TTL). */
  ttlSeconds?: number;
  jti?: string;
  /** Claims added or overriding the defaults; `undefined` removes one. */
  claims?: Record<string, unknown>;
}

/**
 * A Vonage application JWT as @vonage/jwt `tokenGenerate` mints it: header `{typ: JWT, alg: RS256}`,
 * claims `application_id`, `iat`, `jti`, `exp` (= iat + ttl).
 */
export async function signApplicationJwt(options: ApplicationJwtOptions): Promise<string> {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    application_id: options.applicationId,
    iat,
    jti: options.jti ?? randomUUID(),
    exp: iat + (options.ttlSeconds ?? 900),
    ...options.claims,
  };
  const payload: JWTPayload = Object.fromEntries(
    Object.entries(claims).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256' })
    .sign(options.privateKey);
}
