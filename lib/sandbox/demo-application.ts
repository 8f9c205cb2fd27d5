import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SandboxApplication } from './types.js';

/** A demo application: what the Vonage dashboard would hold, plus the private half you download. */
export interface DemoApplication {
  applicationId: string;
  /** PKCS#8 PEM, ready for the strategy's `privateKey` option. */
  privateKey: string;
}

/** The demo application as given (e.g. persisted by the CLI), or a fresh RSA 2048 key pair and ID. */
export function demoApplication(given?: {
  applicationId: string;
  privateKey: string | Buffer | KeyObject;
}): DemoApplication {
  if (given !== undefined) {
    const key =
      typeof given.privateKey === 'string' || Buffer.isBuffer(given.privateKey)
        ? createPrivateKey(given.privateKey)
        : given.privateKey;
    if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
      throw new TypeError('demoApplication.privateKey must be an RSA private key (RS256)');
    }
    return {
      applicationId: given.applicationId,
      privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    applicationId: randomUUID(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The registration the sandbox keeps for a demo application (its public key only). */
export function demoRegistration(
  demo: DemoApplication,
  redirectUris: readonly string[],
): SandboxApplication {
  return {
    applicationId: demo.applicationId,
    publicKey: createPublicKey(demo.privateKey),
    redirectUris: [...redirectUris],
  };
}
