import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';

export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';

/** A Vonage application as a test sees it: ID, RSA key pair and its registered redirect URI. */
export interface TestApplication {
  applicationId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM, as the Vonage dashboard hands it out. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  redirectUri: string;
}

/** A fresh application with a 2048-bit RSA key pair (what RS256 needs). */
export function createTestApplication(redirectUri = DEFAULT_REDIRECT_URI): TestApplication {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    applicationId: randomUUID(),
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    redirectUri,
  };
}

/** The shape `createSandbox({ applications })` takes. */
export function sandboxApplication(app: TestApplication): {
  applicationId: string;
  publicKey: string;
  redirectUris: string[];
} {
  return {
    applicationId: app.applicationId,
    publicKey: app.publicKeyPem,
    redirectUris: [app.redirectUri],
  };
}
