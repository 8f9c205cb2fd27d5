/**
 * `npm start` as a user runs it: the script serves a working login page against the in-process
 * sandbox, prints the URL to open, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const START = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'example', 'start.mjs');

let child;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `npm start` with `env` and resolves the URL it prints; `output` collects what it logs. */
function startExample(env, log) {
  child = spawn(process.execPath, [START], { env, stdio: 'pipe' });
  child.stderr.on('data', (chunk) => log(chunk));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      log(chunk);
      const match = /(?:Open|Listening on) (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

it('serves the login page within 60 s and stops on SIGTERM', async () => {
  // PORT=0: any free port, so the test never collides with a running `npm start`.
  const env = { ...process.env, PORT: '0' };
  delete env.VONAGE_APPLICATION_ID; // sandbox mode even on a machine set up for real Vonage
  let output = '';
  const url = await startExample(env, (chunk) => (output += chunk));

  const response = await fetch(`${url}/login`);
  expect(response.status).toBe(200);
  const html = await response.text();
  expect(html).toContain('Sign in with your mobile number');
  expect(html).toContain('+99012345678'); // sandbox mode lists the test numbers

  // The first leg reaches the in-process sandbox, which logs the step.
  const login = await fetch(`${url}/login`, {
    method: 'POST',
    body: new URLSearchParams({ phoneNumber: '+99012345678' }),
    redirect: 'manual',
  });
  expect(login.status).toBe(302);
  const authorization = await fetch(login.headers.get('location'), { redirect: 'manual' });
  expect(authorization.status).toBe(302);
  await expect.poll(() => output).toMatch(/sandbox\s+GET\s+auth\s+302 code_issued \+99\*+78/);
  const sandboxLines = output.split('\n').filter((line) => line.trimStart().startsWith('sandbox'));
  expect(sandboxLines.join('\n')).not.toContain('+99012345678'); // the log redacts numbers

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
});

/** A port free a moment ago: CALLBACK_URL must name the app's port before it listens. */
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

it('with the export block the sandbox CLI prints, signs in against that sandbox', async () => {
  const { createSandbox } = await import('../../dist/sandbox/index.js');
  const sandbox = await createSandbox();
  await sandbox.listen(0, '127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'pnv-start-'));
  try {
    const port = await freePort();
    const callbackURL = `http://127.0.0.1:${port}/auth/number-verification/callback`;
    const options = sandbox.strategyOptions({ callbackURL });
    writeFileSync(join(dir, 'private.key'), options.privateKey);
    const url = await startExample(
      {
        ...process.env,
        PORT: String(port),
        VONAGE_APPLICATION_ID: options.applicationId,
        VONAGE_PRIVATE_KEY_PATH: join(dir, 'private.key'),
        VONAGE_AUTHORIZATION_URL: options.authorizationURL,
        VONAGE_TOKEN_URL: options.tokenURL,
        VONAGE_VERIFY_URL: options.verifyURL,
        CALLBACK_URL: callbackURL,
      },
      () => undefined,
    );
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ phoneNumber: '+99012345678' }),
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    expect(new URL(login.headers.get('location')).origin).toBe(sandbox.url);
    const operator = await fetch(login.headers.get('location'), { redirect: 'manual' });
    const back = await fetch(operator.headers.get('location'), {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(back.headers.get('location')).toBe('/profile');
    child.kill('SIGTERM');
    await once(child, 'exit');
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
