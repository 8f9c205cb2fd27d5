/**
 * Runs the example against the local sandbox operator: a fresh demo "Vonage application" (an RSA
 * key pair and an ID), the sandbox that knows its public key and callback URL, and the app that
 * holds its private key. Used by `npm start` (without Vonage credentials), `npm run demo` and the
 * browser test.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { camara } from 'passport-number-verification';
import { createSandbox } from 'passport-number-verification/sandbox';
import { createApp } from './app.mjs';

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/**
 * Starts the sandbox and the app on loopback. `strategy: 'verify'` runs the login on Verify v2
 * (silent auth, then a code); `provider: 'camara'` runs Number Verification as a CAMARA v2
 * operator (discovery, private_key_jwt, PKCE, v2 verify) against the same application;
 * `sandboxOptions` go to `createSandbox` (e.g. a test's `clock`).
 * @returns {Promise<{ url: string, sandbox: import('passport-number-verification/sandbox').Sandbox, close: () => Promise<void> }>}
 */
export async function startWithSandbox({
  port = 0,
  host = '127.0.0.1',
  log,
  strategy,
  provider = 'vonage',
  sandboxOptions = {},
  verifyOptions,
} = {}) {
  // What the Vonage dashboard does when you create an application: a key pair, of which Vonage
  // keeps the public half and you download the private half.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const applicationId = randomUUID();

  // The app's port must be known before the callback URL can be registered, so the HTTP server
  // listens first and gets the app as its handler once it exists. Nobody knows the URL before
  // this function returns, so no request can arrive in between.
  const server = createServer();
  const appPort = await listen(server, port, host);
  const url = `http://${host}:${appPort}`;
  const callbackURL = `${url}/auth/number-verification/callback`;

  const sandbox = await createSandbox({
    ...sandboxOptions,
    applications: [{ applicationId, publicKey, redirectUris: [callbackURL] }],
  });
  await sandbox.listen(0, host);
  // The same registration speaks CAMARA v2: its ID is the client_id, its key signs the assertion.
  const camaraProvider =
    provider === 'camara'
      ? await camara.discover(sandbox.url, {
          clientId: applicationId,
          privateKey,
          apiRoot: sandbox.url,
        })
      : undefined;

  const app = createApp({
    applicationId,
    privateKey,
    callbackURL,
    ...sandbox.endpoints,
    verifyBaseURL: sandbox.verify2Endpoints.verifyBaseURL,
    outbox: (to) => sandbox.outbox(to),
    ...(strategy ? { strategy } : {}),
    ...(camaraProvider ? { provider: camaraProvider } : {}),
    ...(verifyOptions ? { verifyOptions } : {}),
    sandbox: true,
    ...(log ? { log } : {}),
  });
  server.on('request', app);

  return {
    url,
    sandbox,
    async close() {
      // Browsers keep connections alive; close them so the process can exit promptly.
      server.closeAllConnections();
      await Promise.all([new Promise((resolve) => server.close(resolve)), sandbox.close()]);
    },
  };
}
