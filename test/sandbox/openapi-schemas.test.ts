import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPhoneNumber } from '../../lib/phone-number.js';
import { CamaraOpenApi, NV_V031_FILE, NV_V2_FILE } from '../helpers/camara-openapi.js';
import { callVerify, obtainAccessToken } from '../helpers/sandbox-flow.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';

const v031 = new CamaraOpenApi(NV_V031_FILE);
const v2 = new CamaraOpenApi(NV_V2_FILE);
let running: RunningSandbox;

beforeAll(async () => {
  running = await startSandbox();
});
afterAll(async () => {
  await running.sandbox.close();
});

describe('Vonage v031 verify answers match number-verification-v0.3.1.yaml', () => {
  it.each<[string, string, unknown, number]>([
    ['verified', '+99012345678', { phoneNumber: '+99012345678' }, 200],
    [
      'not verified, hashed',
      '+99012345678',
      { hashedPhoneNumber: hashPhoneNumber('+1234567') },
      200,
    ],
    ['invalid argument', '+99012345678', { phoneNumber: 'abc' }, 400],
    ['not authenticated by the network', '+99011111199', { phoneNumber: '+99011111199' }, 403],
  ])('%s → %i', async (_name, loginHint, body, status) => {
    const token = await obtainAccessToken(running.sandbox, running.app, loginHint);
    const response = await callVerify(running.sandbox, token, { body });
    expect(response.status).toBe(status);
    const pointer = v031.responseSchemaPointer('phoneNumberVerify', status);
    expect(pointer).toBeDefined();
    expect(v031.errors(pointer ?? '', await response.json())).toEqual([]);
  });

  it('401 → ErrorInfo', async () => {
    const response = await callVerify(running.sandbox, 'unknown', {
      body: { phoneNumber: '+99012345678' },
    });
    expect(
      v031.errors(
        v031.responseSchemaPointer('phoneNumberVerify', 401) ?? '',
        await response.json(),
      ),
    ).toEqual([]);
  });
});

describe('request bodies the sandbox accepts and rejects agree with number-verification-v2.1.0.yaml', () => {
  const schema = '#/components/schemas/NumberVerificationRequestBody';
  it.each<[unknown, boolean]>([
    [{ phoneNumber: '+99012345678' }, true],
    [{ hashedPhoneNumber: hashPhoneNumber('+99012345678') }, true],
    [{}, false],
    [{ phoneNumber: '99012345678' }, false],
    [{ phoneNumber: '+99012345678', hashedPhoneNumber: hashPhoneNumber('+99012345678') }, false],
    [{ hashedPhoneNumber: 'xyz' }, false],
  ])('%j valid=%s', async (body, valid) => {
    expect(v2.errors(schema, body).length === 0).toBe(valid);
    const token = await obtainAccessToken(
      running.sandbox,
      running.app,
      '+99012345678',
      'openid dpv:FraudPreventionAndDetection number-verification:verify',
    );
    const response = await callVerify(running.sandbox, token, {
      url: running.sandbox.camaraEndpoints.verifyURL,
      body,
    });
    expect(response.status).toBe(valid ? 200 : 400);
    const pointer = v2.responseSchemaPointer('phoneNumberVerify', response.status) ?? '';
    expect(v2.errors(pointer, await response.json())).toEqual([]);
  });
});
