import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPhoneNumber } from '../../lib/phone-number.js';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createTestApplication, sandboxApplication } from '../helpers/application-keys.js';
import { callVerify, CAMARA_SHARE_SCOPE, obtainAccessToken } from '../helpers/sandbox-flow.js';

const app = createTestApplication();
let now = Date.now();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({
    strict: true,
    applications: [sandboxApplication(app)],
    devices: { '+447700900001': '+447700900002' },
    clock: () => now,
  });
  await sandbox.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await sandbox.close();
});

async function verify(loginHint: string, body: unknown): Promise<Response> {
  return callVerify(sandbox, await obtainAccessToken(sandbox, app, loginHint), { body });
}

async function expectErrorInfo(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toEqual({ status, code, message: expect.any(String) });
}

describe('POST /camara/number-verification/v031/verify — Virtual Operator (+990)', () => {
  it.each([
    ['even last digit, same number', '+99012345678', '+99012345678', true],
    ['odd last digit, same number', '+99012345677', '+99012345677', false],
    ['odd last digit: the device holds the even neighbour', '+99012345677', '+99012345676', true],
    ['even last digit, another number', '+99012345678', '+99012345670', false],
  ])('%s', async (_name, loginHint, phoneNumber, expected) => {
    const response = await verify(loginHint, { phoneNumber });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: expected });
  });

  it('…99 still gets a code, then verify answers 403 USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK', async () => {
    const response = await verify('+99011111199', { phoneNumber: '+99011111199' });
    await expectErrorInfo(
      response,
      403,
      'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
    );
  });
});

describe('POST /camara/number-verification/v031/verify — other numbers', () => {
  it('the device holds the login_hint number by default', async () => {
    const response = await verify('+447700900000', { phoneNumber: '+447700900000' });
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: true });
  });

  it('unless `devices` maps it to another SIM', async () => {
    expect(await (await verify('+447700900001', { phoneNumber: '+447700900001' })).json()).toEqual({
      devicePhoneNumberVerified: false,
    });
    expect(await (await verify('+447700900001', { phoneNumber: '+447700900002' })).json()).toEqual({
      devicePhoneNumberVerified: true,
    });
  });

  it('accepts hashedPhoneNumber (SHA-256 of +E164, any hex case)', async () => {
    const hash = hashPhoneNumber('+447700900000').toUpperCase();
    const response = await verify('+447700900000', { hashedPhoneNumber: hash });
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: true });
  });

  it('v0.3.1: the + is optional, in phoneNumber and in the hashed number', async () => {
    expect(await (await verify('+447700900000', { phoneNumber: '447700900000' })).json()).toEqual({
      devicePhoneNumberVerified: true,
    });
    const hash = hashPhoneNumber('447700900000');
    expect(await (await verify('+447700900000', { hashedPhoneNumber: hash })).json()).toEqual({
      devicePhoneNumberVerified: true,
    });
  });
});

describe('access token', () => {
  it('is single-use: a 200 consumes it', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    expect(
      (await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } })).status,
    ).toBe(200);
    const again = await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } });
    await expectErrorInfo(again, 401, 'UNAUTHENTICATED');
  });

  it('an erroring request does not consume it', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    expect((await callVerify(sandbox, token, { body: {} })).status).toBe(400);
    expect(
      (await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } })).status,
    ).toBe(200);
  });

  it.each([
    ['missing', undefined],
    ['unknown', 'not-a-token'],
  ])('%s → 401 UNAUTHENTICATED', async (_name, token) => {
    const response = await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } });
    await expectErrorInfo(response, 401, 'UNAUTHENTICATED');
  });

  it('expired (300 s) → 401 UNAUTHENTICATED', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    now += 301_000;
    try {
      const response = await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } });
      await expectErrorInfo(response, 401, 'UNAUTHENTICATED');
    } finally {
      now -= 301_000;
    }
  });

  it('without the verify scope → 403 PERMISSION_DENIED', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678', CAMARA_SHARE_SCOPE);
    const response = await callVerify(sandbox, token, { body: { phoneNumber: '+99012345678' } });
    await expectErrorInfo(response, 403, 'PERMISSION_DENIED');
  });
});

describe('request body → 400 INVALID_ARGUMENT', () => {
  it.each<[string, { body?: unknown; rawBody?: string; contentType?: string }]>([
    ['empty object', { body: {} }],
    [
      'both fields',
      { body: { phoneNumber: '+99012345678', hashedPhoneNumber: hashPhoneNumber('+99012345678') } },
    ],
    ['unknown property only', { body: { additional_property: 'foo_value' } }],
    ['phoneNumber plus unknown property', { body: { phoneNumber: '+99012345678', x: 1 } }],
    ['phoneNumber not a string', { body: { phoneNumber: 99012345678 } }],
    ['phoneNumber with letters', { body: { phoneNumber: '+9901234567a' } }],
    ['phoneNumber too short', { body: { phoneNumber: '+9901' } }],
    ['hash not hex', { body: { hashedPhoneNumber: 'z'.repeat(64) } }],
    ['hash too short', { body: { hashedPhoneNumber: 'a'.repeat(63) } }],
    ['array', { body: [{ phoneNumber: '+99012345678' }] }],
    ['null', { rawBody: 'null' }],
    ['invalid JSON', { rawBody: '{"phoneNumber": ' }],
    ['no body', { rawBody: '' }],
    ['text/plain', { rawBody: '{"phoneNumber":"+99012345678"}', contentType: 'text/plain' }],
    [
      'form',
      { rawBody: 'phoneNumber=%2B99012345678', contentType: 'application/x-www-form-urlencoded' },
    ],
  ])('%s', async (_name, options) => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    await expectErrorInfo(await callVerify(sandbox, token, options), 400, 'INVALID_ARGUMENT');
  });
});

describe('x-correlator', () => {
  it('is echoed', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    const response = await callVerify(sandbox, token, {
      body: { phoneNumber: '+99012345678' },
      headers: { 'x-correlator': 'b4333c46-49c0-4f62-80d7-f0ef930f1c46' },
    });
    expect(response.headers.get('x-correlator')).toBe('b4333c46-49c0-4f62-80d7-f0ef930f1c46');
  });

  it('is echoed on errors too', async () => {
    const response = await callVerify(sandbox, 'nope', { headers: { 'x-correlator': 'abc-1' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-correlator')).toBe('abc-1');
  });

  it('an invalid one → 400 INVALID_ARGUMENT', async () => {
    const token = await obtainAccessToken(sandbox, app, '+99012345678');
    const response = await callVerify(sandbox, token, {
      body: { phoneNumber: '+99012345678' },
      headers: { 'x-correlator': 'spaces are not allowed' },
    });
    await expectErrorInfo(response, 400, 'INVALID_ARGUMENT');
  });
});

it('GET on the verify path → 405 ErrorInfo', async () => {
  const response = await fetch(sandbox.endpoints.verifyURL);
  await expectErrorInfo(response, 405, 'METHOD_NOT_ALLOWED');
});
