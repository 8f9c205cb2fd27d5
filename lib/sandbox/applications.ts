import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SandboxApplication } from './types.js';

export interface RegisteredApplication {
  applicationId: string;
  publicKey: KeyObject;
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
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'rsa') {
    throw new TypeError(
      `application ${applicationId}: publicKey must be an RSA public key (RS256)`,
    );
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
  return { applicationId, publicKey, redirectUris: new Set(redirectUris) };
}
