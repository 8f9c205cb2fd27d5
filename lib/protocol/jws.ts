import { sign, type KeyObject } from 'node:crypto';

/** The JWS algorithms a client key signs with: RS256 (RFC 7518 §3.3) and ES256 (§3.4). */
export type JwsAlgorithm = 'RS256' | 'ES256';

export interface JwsHeader {
  alg: JwsAlgorithm;
  typ?: string;
  kid?: string;
}

const base64url = (value: object): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A signed JWT in compact serialisation (RFC 7515 §7.1, RFC 7519 §7.1), signed by node:crypto on
 * libuv's thread pool. jose's SignJWT does the same through WebCrypto, with claim builders and a
 * key conversion on every call: for the one JWT each login signs, that added about a tenth to
 * the signature's CPU time (docs/performance.md). ES256 signatures are the raw `r || s` pair
 * JWS wants (RFC 7518 §3.4), not DER.
 */
export function signJWT(
  header: JwsHeader,
  claims: Record<string, unknown>,
  key: KeyObject,
): Promise<string> {
  const input = `${base64url(header)}.${base64url(claims)}`;
  const signingKey = header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), signingKey, (err, signature) => {
      if (err) reject(err);
      else resolve(`${input}.${signature.toString('base64url')}`);
    });
  });
}
