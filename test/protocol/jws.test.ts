import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signJWT } from '../../lib/protocol/jws.js';

// Checked with jose, a JOSE implementation we did not write.
describe('signJWT', () => {
  it('signs RS256 JWTs that jose verifies, header and claims as given', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = { application_id: 'app', iat: 1_700_000_000, exp: 4_000_000_000, jti: 'j-1' };
    const jwt = await signJWT({ alg: 'RS256', typ: 'JWT' }, claims, privateKey);
    const { payload, protectedHeader } = await jwtVerify(jwt, publicKey, { algorithms: ['RS256'] });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual(claims);
  });

  it('signs ES256 JWTs with the raw r||s signature JWS requires', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwt = await signJWT({ alg: 'ES256', kid: 'k1' }, { iss: 'client' }, privateKey);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'k1' });
    // A DER signature would be 70–72 bytes; JWS ES256 is exactly 64.
    expect(Buffer.from(jwt.split('.')[2] as string, 'base64url')).toHaveLength(64);
    const { payload } = await jwtVerify(jwt, publicKey, { algorithms: ['ES256'] });
    expect(payload).toEqual({ iss: 'client' });
  });

  it('rejects, without echoing the key, when the key cannot sign', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const outcome = signJWT({ alg: 'RS256' }, {}, publicKey as never);
    await expect(outcome).rejects.toThrow();
    await outcome.catch((err: Error) => expect(err.message).not.toContain('BEGIN'));
  });
});
