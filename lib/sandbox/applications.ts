import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SandboxApplication } from './types.js';

export interface RegisteredApplication {
  applicationId: string;
  publicKey: KeyObject;
  /** The one JWS algorithm its key verifies: RSA → RS256, EC P-256 → ES256. */
  algorithm: 'RS256' | 'ES256';
  /** The key's `kid`, when registered with one. */
  keyId?: string;
  /** Accepted with `Authorization: Basic` (client_secret_basic), when registered. */
  clientSecret?: string;
  redirectUris: ReadonlySet<string>;
}

/** Checks an application given to the sandbox and turns its key into a `KeyObject` once. */
export function registerApplication(application: SandboxApplication): RegisteredApplication {
  const { applicationId, redirectUris } = application;
  if (typeof applicationId !== 'string' || applicationId.length === 0) {
    throw new TypeError('applicationId must be a non-empty string');
  }
  const publicKey =
    typeof application.publicKey === 'string' || Buffer.isBuffer(application.publicKey)
      ? createPublicKey(application.publicKey)
      : application.publicKey;
  const algorithm =
    publicKey.type !== 'public'
      ? undefined
      : publicKey.asymmetricKeyType === 'rsa'
        ? 'RS256'
        : publicKey.asymmetricKeyType === 'ec' &&
            publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1'
          ? 'ES256'
          : undefined;
  if (algorithm === undefined) {
    throw new TypeError(
      `application ${applicationId}: publicKey must be an RSA (RS256) or EC P-256 (ES256) public key`,
    );
  }
  const { keyId, clientSecret } = application;
  if (
    clientSecret !== undefined &&
    (typeof clientSecret !== 'string' || clientSecret.length < 16)
  ) {
    throw new TypeError(
      `application ${applicationId}: clientSecret must be at least 16 characters`,
    );
  }
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0)) {
    throw new TypeError(`application ${applicationId}: keyId must be a non-empty string`);
  }
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw new TypeError(`application ${applicationId}: redirectUris must list at least one URI`);
  }
  for (const uri of redirectUris) {
    // RFC 6749 §3.1.2: absolute URI, no fragment.
    if (typeof uri !== 'string' || !URL.canParse(uri) || uri.includes('#')) {
      throw new TypeError(`application ${applicationId}: invalid redirect URI ${String(uri)}`);
    }
  }
  return {
    applicationId,
    publicKey,
    algorithm,
    ...(keyId === undefined ? {} : { keyId }),
    ...(clientSecret === undefined ? {} : { clientSecret }),
    redirectUris: new Set(redirectUris),
  };
}
