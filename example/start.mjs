/**
 * `npm start`: serves the example on http://127.0.0.1:3000 (PORT, HOST to change).
 *
 * - Without Vonage credentials it runs against the local sandbox operator, in this process.
 * - With VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY_PATH and CALLBACK_URL set it talks to the real
 *   Vonage endpoints (docs/example.md, "Switching to real Vonage", has the application set-up), or
 *   to those VONAGE_AUTHORIZATION_URL, VONAGE_TOKEN_URL and VONAGE_VERIFY_URL name (the block the
 *   sandbox CLI prints).
 * - STRATEGY=verify signs in with Verify v2: silent authentication, then a code by SMS.
 * - PROVIDER=camara runs Number Verification against the sandbox in CAMARA v2 mode (discovery,
 *   private_key_jwt, PKCE, the v2 paths) through the camara() provider.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { ensureBuild } from './ensure-build.mjs';

const port = Number(process.env.PORT ?? 3000);
const strategy = process.env.STRATEGY === 'verify' ? 'verify' : 'number-verification';
const host = process.env.HOST ?? '127.0.0.1';
const provider = process.env.PROVIDER === 'camara' ? 'camara' : 'vonage';

// The package is imported by name from dist/, so build before importing anything that uses it.
ensureBuild();

const { applicationId, privateKeyPath, callbackURL } = {
  applicationId: process.env.VONAGE_APPLICATION_ID,
  privateKeyPath: process.env.VONAGE_PRIVATE_KEY_PATH,
  callbackURL: process.env.CALLBACK_URL,
};

let stop;
try {
  stop = applicationId ? await startWithVonage() : await startWithLocalSandbox();
} catch (err) {
  // A busy or forbidden port is the user's to fix: one line that says how, not a stack trace.
  if (err?.code !== 'EADDRINUSE' && err?.code !== 'EACCES') throw err;
  const reason = err.code === 'EADDRINUSE' ? 'is already in use' : 'needs more privileges';
  console.error(
    `Port ${port} on ${host} ${reason}: set PORT to another port, e.g. PORT=${port === 3000 ? 3001 : 3000} npm start`,
  );
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping ...`);
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}

async function startWithLocalSandbox() {
  const { startWithSandbox } = await import('./with-sandbox.mjs');
  const { url, sandbox, close } = await startWithSandbox({ port, host, strategy, provider });
  // The sandbox reports each request it handles (numbers redacted, no codes or tokens): print
  // them so you can watch the back channel that the browser never sees.
  sandbox.on('request', (event) => {
    const number = event.phoneNumber ? ` ${event.phoneNumber}` : '';
    console.log(
      `  sandbox  ${event.method.padEnd(4)} ${event.endpoint.padEnd(13)} ${event.status} ${event.outcome}${number} (${Math.round(event.durationMs)} ms)`,
    );
  });
  console.log(`
Silent login example (${strategy === 'verify' ? 'Verify v2: silent auth, then a code' : provider === 'camara' ? 'Number Verification, CAMARA v2 provider' : 'Number Verification'}), running against the local sandbox operator (${sandbox.url}).

  Open ${url}

  Test numbers: +99012345678 (verified), +99012345677 (not verified),
                +99011111199 (not on the mobile network)

  Codes the sandbox "sends": ${sandbox.verify2Endpoints.outboxURL}

Set VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY_PATH and CALLBACK_URL to use real Vonage;
STRATEGY=verify to sign in with Verify v2 (silent auth, falling back to an SMS code);
PROVIDER=camara to speak CAMARA v2 (discovery, private_key_jwt, PKCE) to the sandbox.
Press Ctrl+C to stop.
`);
  return close;
}

async function startWithVonage() {
  if (!privateKeyPath || !callbackURL) {
    console.error(
      'VONAGE_APPLICATION_ID is set: also set VONAGE_PRIVATE_KEY_PATH (the private.key file of the ' +
        'Vonage application) and CALLBACK_URL (its redirect URI, e.g. https://<tunnel>/auth/number-verification/callback).',
    );
    process.exit(2);
  }
  const { createApp } = await import('./app.mjs');
  // The endpoint variables the sandbox CLI prints (`number-verification-sandbox`), when set;
  // unset, the strategy's defaults are Vonage's production endpoints.
  const endpoints = Object.fromEntries(
    Object.entries({
      authorizationURL: process.env.VONAGE_AUTHORIZATION_URL,
      tokenURL: process.env.VONAGE_TOKEN_URL,
      verifyURL: process.env.VONAGE_VERIFY_URL,
    }).filter(([, value]) => value),
  );
  const app = createApp({
    applicationId,
    privateKey: readFileSync(privateKeyPath),
    callbackURL,
    ...endpoints,
    strategy,
    sessionSecret: process.env.SESSION_SECRET,
  });
  const server = createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const operator =
    endpoints.authorizationURL === undefined
      ? 'Vonage'
      : new URL(endpoints.authorizationURL).origin;
  console.log(`
Silent login example, running against ${operator} (application ${applicationId}).

  Listening on http://${host}:${port}; open it through ${new URL(callbackURL).origin}
  (the callback URL's origin, so the session cookie is the one the callback sees).

Press Ctrl+C to stop.
`);
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
