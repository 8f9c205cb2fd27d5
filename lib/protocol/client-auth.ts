import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { signJWT, type JwsAlgorithm } from './jws.js';

/** Lifetime of each client JWT. Vonage's SDK default is 900 s; CAMARA caps assertions at 300 s. */
export const CLIENT_JWT_LIFETIME_SECONDS = 300;

/** A private key parsed once, at construction, with the one algorithm it signs with. */
export interface SigningKey {
  key: KeyObject;
  alg: JwsAlgorithm;
}

/**
 * Parses a client's private key once. Accepts PEM (PKCS#8, PKCS#1 or SEC1) as a string or Buffer,
 * or a KeyObject: RSA of at least 2048 bits signs RS256, EC P-256 signs ES256, and `algorithms`
 * says which of the two the caller accepts. `owner` names the caller in messages, which never
 * echo the key.
 */
export function parseSigningKey(
  input: unknown,
  owner: string,
  algorithms: readonly JwsAlgorithm[] = ['RS256', 'ES256'],
): SigningKey {
  const key = toKeyObject(input, owner);
  const wanted = algorithms.includes('ES256') ? 'an RSA or EC P-256' : 'an RSA';
  if (key.type !== 'private') {
    throw new TypeError(`${owner} requires privateKey to be ${wanted} private key`);
  }
  if (key.asymmetricKeyType === 'rsa' && algorithms.includes('RS256')) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) {
      throw new TypeError(
        `${owner} requires privateKey to be an RSA key of at least 2048 bits (RS256, RFC 7518 §3.3); got ${bits}`,
      );
    }
    return { key, alg: 'RS256' };
  }
  if (
    key.asymmetricKeyType === 'ec' &&
    key.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
    algorithms.includes('ES256')
  ) {
    return { key, alg: 'ES256' };
  }
  throw new TypeError(`${owner} requires privateKey to be ${wanted} private key`);
}

function toKeyObject(input: unknown, owner: string): KeyObject {
  if (isKeyObject(input)) return input;
  if ((typeof input !== 'string' || input.trim() === '') && !Buffer.isBuffer(input)) {
    throw new TypeError(`${owner} requires a privateKey option (PEM string, Buffer or KeyObject)`);
  }
  try {
    return createPrivateKey({ key: input, format: 'pem' });
  } catch {
    throw new TypeError(
      `${owner} could not parse the privateKey option as a PEM (PKCS#8, PKCS#1 or SEC1) private key`,
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

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientAssertionInput {
  clientId: string;
  /** The token endpoint URL (OIDC Core §9: the audience SHOULD be the token endpoint). */
  audience: string;
  signingKey: SigningKey;
  /** JWS `kid` header (RFC 7515 §4.1.4), when the operator holds several keys of the client. */
  keyId?: string | undefined;
}

/**
 * `private_key_jwt` (OIDC Core §9, RFC 7523 §2.2 and §3, CAMARA ICM "Client Authentication"):
 * `iss` = `sub` = client_id, `aud` = the token endpoint, a fresh `jti`, `iat`, and
 * `exp` = iat + 300 s (CAMARA's ceiling). Returns the form parameters of the token request.
 */
export async function createClientAssertion(
  input: ClientAssertionInput,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const { alg, key } = input.signingKey;
  const assertion = await signJWT(
    input.keyId === undefined ? { alg } : { alg, kid: input.keyId },
    {
      iss: input.clientId,
      sub: input.clientId,
      aud: input.audience,
      jti: randomUUID(),
      iat: nowSeconds,
      exp: nowSeconds + CLIENT_JWT_LIFETIME_SECONDS,
    },
    key,
  );
  return {
    client_id: input.clientId,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
  };
}
