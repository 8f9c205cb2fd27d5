import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { signJWT } from './jws.js';

/** Lifetime of each application JWT. Vonage's SDK default is 900 s; CAMARA caps assertions at 300 s. */
export const CLIENT_JWT_LIFETIME_SECONDS = 300;

/**
 * Parses the application's RSA private key once, at construction. Accepts PEM (PKCS#8 or PKCS#1)
 * as a string or Buffer, or a KeyObject. Messages never echo the key.
 */
export function parsePrivateKey(input: unknown): KeyObject {
  const key = toKeyObject(input);
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
    throw new TypeError('NumberVerificationStrategy requires privateKey to be an RSA private key');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) {
    throw new TypeError(
      `NumberVerificationStrategy requires privateKey to be an RSA key of at least 2048 bits (RS256, RFC 7518 §3.3); got ${bits}`,
    );
  }
  return key;
}

function toKeyObject(input: unknown): KeyObject {
  if (isKeyObject(input)) return input;
  if ((typeof input !== 'string' || input.trim() === '') && !Buffer.isBuffer(input)) {
    throw new TypeError(
      'NumberVerificationStrategy requires a privateKey option (PEM string, Buffer or KeyObject)',
    );
  }
  try {
    return createPrivateKey({ key: input, format: 'pem' });
  } catch {
    throw new TypeError(
      'NumberVerificationStrategy could not parse the privateKey option as a PEM (PKCS#8 or PKCS#1) private key',
    );
  }
}

function isKeyObject(input: unknown): input is KeyObject {
  return (
    typeof input === 'object' &&
    input !== null &&
    Object.prototype.toString.call(input) === '[object KeyObject]'
  );
}

/**
 * The Vonage application JWT sent as `Authorization: Bearer` to the token endpoint: RS256,
 * `typ: JWT`, claims `application_id`, `iat`, `exp`, and a fresh `jti` so that every token request
 * carries a JWT that can be used only once.
 */
export function createApplicationJWT(
  applicationId: string,
  privateKey: KeyObject,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  return signJWT(
    { alg: 'RS256', typ: 'JWT' },
    {
      application_id: applicationId,
      iat: nowSeconds,
      exp: nowSeconds + CLIENT_JWT_LIFETIME_SECONDS,
      jti: randomUUID(),
    },
    privateKey,
  );
}
