/**
 * `npm start` as a user runs it: the script serves a working login page against the in-process
 * sandbox, prints the URL to open, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const START = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'example', 'start.mjs');

let child;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

it('serves the login page within 60 s and stops on SIGTERM', async () => {
  // PORT=0: any free port, so the test never collides with a running `npm start`.
  const env = { ...process.env, PORT: '0' };
  delete env.VONAGE_APPLICATION_ID; // sandbox mode even on a machine set up for real Vonage
  child = spawn(process.execPath, [START], { env, stdio: 'pipe' });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /Open (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });

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
