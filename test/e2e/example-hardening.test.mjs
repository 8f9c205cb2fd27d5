/**
 * The example app over HTTP on loopback (no browser needed): cross-site posts, caching of signed-in
 * pages, a bare request for the callback URL, and `npm start` on a busy port.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithSandbox } from '../../example/with-sandbox.mjs';

const START = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'example', 'start.mjs');
const VERIFIED = '+99012345678';

/** A cookie-keeping client: what a browser sends and keeps, without following redirects. */
function browser() {
  const jars = new Map();
  return async function send(url, { headers = {}, ...init } = {}) {
    const { origin } = new URL(url);
    if (!jars.has(origin)) jars.set(origin, new Map());
    const jar = jars.get(origin);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      ...init,
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair.indexOf('=');
      jar.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    await response.arrayBuffer();
    return response;
  };
}

describe('example app', () => {
  let running;
  beforeAll(async () => {
    running = await startWithSandbox({ log: () => {} });
  });
  afterAll(() => running.close());

  const postLogin = (send, headers = {}) =>
    send(`${running.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ phoneNumber: VERIFIED }).toString(),
    });

  /** Signs in as a browser on the app's own page would, and returns the client. */
  async function signedIn() {
    const send = browser();
    const login = await postLogin(send, { 'sec-fetch-site': 'same-origin' });
    expect(login.status).toBe(302);
    const authorization = await send(login.headers.get('location'));
    const callback = await send(authorization.headers.get('location'));
    expect(callback.headers.get('location')).toBe('/profile');
    return send;
  }

  it('refuses a cross-site POST /login and keeps the signed-in session', async () => {
    const send = await signedIn();
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ]) {
      expect((await postLogin(send, headers)).status, JSON.stringify(headers)).toBe(403);
    }
    expect((await send(`${running.url}/profile`)).status).toBe(200);
    // The app's own form still works: Sec-Fetch-Site same-origin, or an Origin naming this host.
    expect((await postLogin(send, { 'sec-fetch-site': 'same-origin' })).status).toBe(302);
    expect((await postLogin(browser(), { origin: running.url })).status).toBe(302);
  });

  it('sends Cache-Control: no-store with pages for a signed-in user', async () => {
    const send = await signedIn();
    const profile = await send(`${running.url}/profile`);
    expect(profile.status).toBe(200);
    expect(profile.headers.get('cache-control')).toBe('no-store');
  });

  it('reads a bare GET of the callback URL as a failed sign-in (invalid_state)', async () => {
    const response = await browser()(`${running.url}/auth/number-verification/callback`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?failed=invalid_state');
  });
});

it('npm start on a busy port prints one line naming PORT, no stack trace', async () => {
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const env = { ...process.env, PORT: String(blocker.address().port), HOST: '127.0.0.1' };
    delete env.VONAGE_APPLICATION_ID;
    const child = spawn(process.execPath, [START], { env, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
    expect(lines[0]).toContain(String(blocker.address().port));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
