import { redactPhoneNumber } from '../../lib/phone-number.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorize, callVerify, exchangeCode, obtainAccessToken } from '../helpers/sandbox-flow.js';
import { startSandbox, waitForEvents, type RunningSandbox } from '../helpers/sandbox-fixture.js';

const PHONE = '+99012345678';
let running: RunningSandbox;

beforeAll(async () => {
  running = await startSandbox();
});
afterEach(() => {
  running.sandbox.clearFaults();
});
afterAll(async () => {
  await running.sandbox.close();
});

async function freshCode(): Promise<string> {
  const { code } = await authorize(running.sandbox, running.app, { phoneNumber: PHONE });
  if (code === undefined) throw new Error('no code');
  return code;
}

describe('inject', () => {
  it('status only: answers a default body for the endpoint', async () => {
    const { sandbox, app } = running;
    const fault = sandbox.inject({ endpoint: 'token', status: 503, times: 1 });
    const code = await freshCode();
    const response = await exchangeCode(sandbox, app, code);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.any(String),
    });
    expect(fault.count).toBe(1);
    // `times: 1` is spent, and the faulted request did not burn the code.
    expect((await exchangeCode(sandbox, app, code)).status).toBe(200);
    expect(fault.count).toBe(1);
  });

  it('verify status only: CAMARA ErrorInfo with the Commonalities code', async () => {
    running.sandbox.inject({ endpoint: 'verify', status: 504 });
    const response = await callVerify(running.sandbox, 'any', { body: { phoneNumber: PHONE } });
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      status: 504,
      code: 'TIMEOUT',
      message: expect.any(String),
    });
  });

  it('body and headers', async () => {
    running.sandbox.inject({
      endpoint: 'verify',
      body: { devicePhoneNumberVerified: 'yes' },
      headers: { 'x-extra': '1' },
    });
    const response = await callVerify(running.sandbox, 'any', { body: { phoneNumber: PHONE } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-extra')).toBe('1');
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: 'yes' });
  });

  it('a string body with its content type', async () => {
    running.sandbox.inject({
      endpoint: 'token',
      status: 502,
      body: '<html>bad gateway</html>',
      contentType: 'text/html',
    });
    const response = await exchangeCode(running.sandbox, running.app, await freshCode());
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toBe('<html>bad gateway</html>');
  });

  it('delayMs adds latency and keeps the real answer', async () => {
    const token = await obtainAccessToken(running.sandbox, running.app, PHONE);
    running.sandbox.inject({ endpoint: 'verify', delayMs: 150 });
    const started = performance.now();
    const response = await callVerify(running.sandbox, token, { body: { phoneNumber: PHONE } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: true });
  });

  it('reset before-body drops the connection', async () => {
    running.sandbox.inject({ endpoint: 'token', reset: 'before-body', times: 1 });
    await expect(exchangeCode(running.sandbox, running.app, await freshCode())).rejects.toThrow();
    // The sandbox is still alive.
    expect((await exchangeCode(running.sandbox, running.app, await freshCode())).status).toBe(200);
  });

  it('remove() and clearFaults() retire faults', async () => {
    const fault = running.sandbox.inject({ endpoint: 'verify', status: 500 });
    fault.remove();
    running.sandbox.inject({ endpoint: 'verify', status: 500 });
    running.sandbox.clearFaults();
    const response = await callVerify(running.sandbox, 'unknown', { body: { phoneNumber: PHONE } });
    expect(response.status).toBe(401);
    expect(fault.count).toBe(0);
  });

  it('rejects a fault that cannot apply', () => {
    const { sandbox } = running;
    expect(() => sandbox.inject({ endpoint: 'nope' as 'auth' })).toThrow(TypeError);
    expect(() => sandbox.inject({ endpoint: 'token', status: 42 })).toThrow(RangeError);
    expect(() => sandbox.inject({ endpoint: 'token', rate: 2 })).toThrow(RangeError);
    expect(() => sandbox.inject({ endpoint: 'token', times: 0 })).toThrow(RangeError);
    expect(() => sandbox.inject({ endpoint: 'token', error: 'access_denied' })).toThrow(TypeError);
    expect(() =>
      sandbox.inject({ endpoint: 'verify', trickle: { chunkBytes: 0, intervalMs: 1 } }),
    ).toThrow(RangeError);
  });
});

describe('request events', () => {
  it('reports every step, without secrets or full numbers', async () => {
    const { sandbox, app, events } = running;
    events.length = 0;
    const { code } = await authorize(sandbox, app, { phoneNumber: PHONE });
    const tokenResponse = await exchangeCode(sandbox, app, code ?? '');
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    await callVerify(sandbox, token, { body: { phoneNumber: PHONE } });
    await callVerify(sandbox, token, { body: { phoneNumber: PHONE } });
    await fetch(`${sandbox.url}/nope`);
    await waitForEvents(events, 5);
    expect(
      events.map(({ endpoint, method, status, outcome }) => ({
        endpoint,
        method,
        status,
        outcome,
      })),
    ).toEqual([
      { endpoint: 'auth', method: 'GET', status: 302, outcome: 'code_issued' },
      { endpoint: 'token', method: 'POST', status: 200, outcome: 'token_issued' },
      { endpoint: 'verify', method: 'POST', status: 200, outcome: 'verified' },
      { endpoint: 'verify', method: 'POST', status: 401, outcome: 'unauthenticated' },
      { endpoint: 'other', method: 'GET', status: 404, outcome: 'not_found' },
    ]);
    expect(events[0]?.phoneNumber).toBe(redactPhoneNumber(PHONE));
    for (const event of events) expect(event.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(events);
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain(code);
    expect(text).not.toContain(token);
  });

  it('marks faulted requests', async () => {
    const { sandbox, events } = running;
    events.length = 0;
    sandbox.inject({ endpoint: 'verify', status: 500 });
    await callVerify(sandbox, 'x', { body: {} });
    await waitForEvents(events, 1);
    expect(events[0]).toMatchObject({
      endpoint: 'verify',
      status: 500,
      outcome: 'fault',
      faulted: true,
    });
  });

  it('a throwing listener does not break the sandbox', async () => {
    const { sandbox } = running;
    const listener = (): void => {
      throw new Error('observer bug');
    };
    sandbox.on('request', listener);
    try {
      expect((await fetch(`${sandbox.url}/nope`)).status).toBe(404);
      expect((await fetch(`${sandbox.url}/nope`)).status).toBe(404);
    } finally {
      sandbox.off('request', listener);
    }
  });
});
