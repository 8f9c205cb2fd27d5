/**
 * The sandbox by default lets through what Vonage's service does and Vonage's SDKs rely on: an
 * authorization URL with no `state` (the Node SDK's default) or a short one (`state=code` in its
 * tests), and one access token reused until `expires_in` (the Node SDK keeps it). `strict: true`
 * (and the CLI's `--strict`) keeps the stricter rules this package's own tests run under.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { runCli } from '../../lib/sandbox/run-cli.js';
import { createTestApplication, sandboxApplication } from '../helpers/application-keys.js';
import {
  authorize,
  callVerify,
  CAMARA_SHARE_SCOPE,
  exchangeCode,
  obtainAccessToken,
} from '../helpers/sandbox-flow.js';

const app = createTestApplication();
const PHONE = '+99012345678';
let now = Date.now();
let lenient: Sandbox;
let strict: Sandbox;

beforeAll(async () => {
  lenient = await createSandbox({ applications: [sandboxApplication(app)], clock: () => now });
  strict = await createSandbox({
    strict: true,
    applications: [sandboxApplication(app)],
    clock: () => now,
  });
  await lenient.listen(0, '127.0.0.1');
  await strict.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await lenient.close();
  await strict.close();
});

async function verifyStatus(sandbox: Sandbox, token: string): Promise<number> {
  const response = await callVerify(sandbox, token, { body: { phoneNumber: PHONE } });
  await response.arrayBuffer();
  return response.status;
}

describe('state, as Vonage SDKs send it', () => {
  it('by default, no state: a code, and the redirect carries no state (RFC 6749 §4.1.2)', async () => {
    const result = await authorize(lenient, app, { phoneNumber: PHONE, params: { state: null } });
    expect(result.status).toBe(302);
    expect(result.code).toBeDefined();
    expect(result.location?.searchParams.has('state')).toBe(false);
    expect((await exchangeCode(lenient, app, result.code ?? '')).status).toBe(200);
  });

  it('by default, state=code: a code and the same state back', async () => {
    const result = await authorize(lenient, app, { phoneNumber: PHONE, state: 'code' });
    expect(result.code).toBeDefined();
    expect(result.state).toBe('code');
  });

  it.each([
    ['no state', { state: null }, undefined],
    ['state=code', { state: 'code' }, 'code'],
    ['an empty state', { state: '' }, ''],
  ])('strict: %s → invalid_request, no code', async (_name, params, echoed) => {
    const result = await authorize(strict, app, { phoneNumber: PHONE, params });
    expect(result.status).toBe(302);
    expect(result.error).toBe('invalid_request');
    expect(result.code).toBeUndefined();
    expect(result.location?.searchParams.get('error_description')).toMatch(/state/);
    expect(result.location?.searchParams.get('state') ?? undefined).toBe(echoed);
  });
});

describe('access tokens', () => {
  it('by default, one token verifies again and again until expires_in', async () => {
    const token = await obtainAccessToken(lenient, app, PHONE);
    expect(await verifyStatus(lenient, token)).toBe(200);
    expect(await verifyStatus(lenient, token)).toBe(200);
    now += 299_000;
    try {
      expect(await verifyStatus(lenient, token)).toBe(200);
      now += 2_000;
      expect(await verifyStatus(lenient, token)).toBe(401);
    } finally {
      now = Date.now();
    }
  });

  it('by default, a share token is reused too', async () => {
    const token = await obtainAccessToken(lenient, app, PHONE, CAMARA_SHARE_SCOPE);
    for (let i = 0; i < 2; i++) {
      const response = await fetch(lenient.camaraEndpoints.devicePhoneNumberURL, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await response.json()).toEqual({ devicePhoneNumber: PHONE });
    }
  });

  it('strict: a 200 spends the token, the next call is 401', async () => {
    const token = await obtainAccessToken(strict, app, PHONE);
    expect(await verifyStatus(strict, token)).toBe(200);
    expect(await verifyStatus(strict, token)).toBe(401);
  });

  it('either way, presenting the code again revokes the tokens it gave (RFC 6749 §4.1.2)', async () => {
    const { code } = await authorize(lenient, app, { phoneNumber: PHONE });
    const first = await exchangeCode(lenient, app, code ?? '');
    const { access_token: token } = (await first.json()) as { access_token: string };
    expect(await verifyStatus(lenient, token)).toBe(200);
    expect((await exchangeCode(lenient, app, code ?? '')).status).toBe(400);
    expect(await verifyStatus(lenient, token)).toBe(401);
  });
});

describe('CLI --strict', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'nv-strict-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each([
    [[], 'code'],
    [['--strict'], 'invalid_request'],
  ])('%j: a short state gets %s', async (extra, outcome) => {
    writeFileSync(join(workDir, 'app.pub.pem'), app.publicKeyPem);
    const signals = new EventEmitter();
    const argv = ['--port', '0', '--application-id', app.applicationId];
    argv.push('--public-key', 'app.pub.pem', '--redirect-uri', app.redirectUri, ...extra);
    const handle = await runCli(argv, { log: () => undefined, signals, cwd: workDir });
    try {
      const result = await authorize(handle?.sandbox as Sandbox, app, {
        phoneNumber: PHONE,
        state: 'code',
      });
      expect(result.code === undefined ? result.error : 'code').toBe(outcome);
    } finally {
      signals.emit('SIGTERM');
      await handle?.stopped;
    }
  });
});
