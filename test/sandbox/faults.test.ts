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

  it.each([
    [
      'token',
      'camara',
      'application/json',
      { status: 403, code: 'PERMISSION_DENIED', message: 'Injected fault.' },
    ],
    [
      'token',
      'rfc7807',
      'application/problem+json',
      { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'Injected fault.' },
    ],
    [
      'verify',
      'rfc6749',
      'application/json',
      { error: 'invalid_request', error_description: 'Injected fault.' },
    ],
  ] as const)(
    '%s with errorShape %s: the default 403 body in that shape',
    async (endpoint, errorShape, contentType, body) => {
      const { sandbox, app } = running;
      sandbox.inject({ endpoint, status: 403, errorShape, times: 1 });
      const response =
        endpoint === 'token'
          ? await exchangeCode(sandbox, app, await freshCode())
          : await callVerify(sandbox, 'any', { body: { phoneNumber: PHONE } });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe(contentType);
      expect(await response.json()).toEqual(body);
    },
  );

  it('refuses errorShape on other endpoints, or an unknown shape', () => {
    expect(() =>
      running.sandbox.inject({ endpoint: 'auth', status: 500, errorShape: 'camara' }),
    ).toThrow(TypeError);
    expect(() =>
      running.sandbox.inject({ endpoint: 'token', status: 500, errorShape: 'xml' as 'camara' }),
    ).toThrow(TypeError);
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

describe('fault kinds', () => {
  it('malformedJson answers truncated JSON', async () => {
    running.sandbox.inject({ endpoint: 'token', malformedJson: true });
    const response = await exchangeCode(running.sandbox, running.app, await freshCode());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(response.json()).rejects.toThrow(SyntaxError);
  });

  it('oversizedBytes answers a valid JSON document of exactly that size', async () => {
    running.sandbox.inject({ endpoint: 'verify', oversizedBytes: 200_000 });
    const response = await callVerify(running.sandbox, 'x', { body: { phoneNumber: PHONE } });
    expect(response.headers.get('content-length')).toBe('200000');
    const text = await response.text();
    expect(text.length).toBe(200_000);
    expect(JSON.parse(text)).toHaveProperty('padding');
  });

  it('reset during-body sends the headers, then drops the connection', async () => {
    const token = await obtainAccessToken(running.sandbox, running.app, PHONE);
    running.sandbox.inject({ endpoint: 'verify', reset: 'during-body' });
    const response = await callVerify(running.sandbox, token, { body: { phoneNumber: PHONE } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('a trickle slower than the client timeout makes the client time out', async () => {
    running.sandbox.inject({
      endpoint: 'verify',
      status: 500,
      trickle: { chunkBytes: 4, intervalMs: 2_000 },
    });
    const started = performance.now();
    await expect(
      fetch(running.sandbox.endpoints.verifyURL, {
        method: 'POST',
        body: '{}',
        signal: AbortSignal.timeout(200),
      }).then((r) => r.text()),
    ).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('a fast trickle still delivers the whole real answer', async () => {
    const token = await obtainAccessToken(running.sandbox, running.app, PHONE);
    running.sandbox.inject({ endpoint: 'verify', trickle: { chunkBytes: 5, intervalMs: 2 } });
    const response = await callVerify(running.sandbox, token, { body: { phoneNumber: PHONE } });
    expect(await response.json()).toEqual({ devicePhoneNumberVerified: true });
  });

  it('error: access_denied redirects back with the error and state, no code', async () => {
    const fault = running.sandbox.inject({ endpoint: 'auth', error: 'access_denied', times: 1 });
    const result = await authorize(running.sandbox, running.app, {
      phoneNumber: PHONE,
      state: 'state-abcdefgh',
    });
    expect(result.status).toBe(302);
    expect(result.error).toBe('access_denied');
    expect(result.state).toBe('state-abcdefgh');
    expect(result.location?.searchParams.get('error_description')).toBeTruthy();
    expect(result.code).toBeUndefined();
    expect(fault.count).toBe(1);
  });

  it('error: still never redirects to an unregistered redirect_uri', async () => {
    running.sandbox.inject({ endpoint: 'auth', error: 'access_denied' });
    const result = await authorize(running.sandbox, running.app, {
      phoneNumber: PHONE,
      redirectUri: 'http://evil.example/cb',
    });
    expect(result.status).toBe(400);
    expect(result.location).toBeUndefined();
  });

  it('rate applies a fault to about that fraction of requests', async () => {
    const never = running.sandbox.inject({ endpoint: 'verify', status: 500, rate: 0 });
    const half = running.sandbox.inject({ endpoint: 'verify', status: 503, rate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await callVerify(running.sandbox, 'unknown', { body: {} });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(never.count).toBe(0);
    expect(half.count).toBeGreaterThan(50);
    expect(half.count).toBeLessThan(150);
    expect(statuses.filter((s) => s === 503).length).toBe(half.count);
    expect(statuses.filter((s) => s === 401).length).toBe(200 - half.count);
  });

  it('close() is prompt even while a response trickles', async () => {
    const local = await startSandbox();
    local.sandbox.inject({
      endpoint: 'verify',
      status: 500,
      trickle: { chunkBytes: 1, intervalMs: 10_000 },
    });
    const pending = fetch(local.sandbox.endpoints.verifyURL, { method: 'POST', body: '{}' }).then(
      (r) => r.text(),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await local.sandbox.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
  });
});
