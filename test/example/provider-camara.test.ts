/**
 * `PROVIDER=camara npm start`'s set-up: the example signs in through `camara.discover(sandbox.url)`
 * against the sandbox's CAMARA v2 side (discovery, private_key_jwt, PKCE, v2 verify).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postExampleLogin } from '../helpers/example-login.js';
import type { Sandbox, SandboxEvent } from '../../lib/sandbox/index.js';

interface Running {
  url: string;
  sandbox: Sandbox;
  close(): Promise<void>;
}

// The example imports the package by name (dist/, which `npm test` builds first).
const { startWithSandbox } = (await import('../../example/with-sandbox.mjs' as string)) as {
  startWithSandbox(options: { provider: 'camara' }): Promise<Running>;
};

describe('the example with PROVIDER=camara', () => {
  let running: Running;
  const events: SandboxEvent[] = [];
  beforeAll(async () => {
    running = await startWithSandbox({ provider: 'camara' });
    running.sandbox.on('request', (event) => events.push(event));
  });
  afterAll(() => running.close());

  it('signs in over the CAMARA v2 paths with PKCE and a private_key_jwt', async () => {
    const login = await postExampleLogin(running.url, '+99012345678');
    expect(login.status).toBe(302);
    const operatorURL = new URL(login.headers.get('location') ?? '');
    expect(operatorURL.searchParams.get('scope')).toBe(
      'openid dpv:FraudPreventionAndDetection number-verification:verify',
    );
    expect(operatorURL.searchParams.get('code_challenge_method')).toBe('S256');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const atOperator = await fetch(operatorURL, { redirect: 'manual' });
    const callback = atOperator.headers.get('location') ?? '';
    const answer = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/profile');
    expect(events.map((e) => `${e.endpoint} ${e.outcome}`)).toEqual([
      'auth code_issued',
      'token token_issued',
      'verify verified',
    ]);
  });
});
