/**
 * Runs the example against the local sandbox operator: its demo "Vonage application" (an RSA key
 * pair and an ID), whose public key and callback URLs the sandbox knows, and the app that holds
 * its private key. Used by `npm start` (without Vonage credentials), `npm run demo` and the
 * browser test.
 */
import { createServer } from 'node:http';
import { camara } from 'passport-number-verification';
import { createSandbox } from 'passport-number-verification/sandbox';
import { createApp, VERIFY_CALLBACK_PATH } from './app.mjs';

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
  // The app's port must be known before the callback URL can be registered, so the HTTP server
  // listens first and gets the app as its handler once it exists. Nobody knows the URL before
  // this function returns, so no request can arrive in between.
  const server = createServer();
  const appPort = await listen(server, port, host);
  const url = `http://${host}:${appPort}`;

  // Without `applications`, the sandbox makes a demo application, as the Vonage dashboard does
  // (Vonage keeps the public key, you download the private one). Each call below registers its
  // callback URL with it and returns all that strategy needs.
  const sandbox = await createSandbox(sandboxOptions);
  await sandbox.listen(0, host);
  const options = sandbox.strategyOptions({
    callbackURL: `${url}/auth/number-verification/callback`,
  });
  const verify = sandbox.verifyStrategyOptions({
    callbackURL: `${url}${VERIFY_CALLBACK_PATH}`,
    brand: 'Silent login',
  });
  // The same registration speaks CAMARA v2: its ID is the client_id, its key signs the assertion.
  const camaraProvider =
    provider === 'camara'
      ? await camara.discover(sandbox.url, {
          clientId: options.applicationId,
          privateKey: options.privateKey,
          apiRoot: sandbox.url,
        })
      : undefined;

  const app = createApp({
    ...options,
    verifyOptions: { ...verify, ...verifyOptions },
    outbox: (to) => sandbox.outbox(to),
    ...(strategy ? { strategy } : {}),
    ...(camaraProvider ? { provider: camaraProvider } : {}),
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
