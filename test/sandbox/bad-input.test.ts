import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, callVerify, exchangeCode } from '../helpers/sandbox-flow.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';

let running: RunningSandbox;
beforeAll(async () => {
  running = await startSandbox();
});
afterAll(async () => {
  await running.sandbox.close();
});
afterEach(async () => {
  // The sandbox is still alive after every bad input.
  expect((await fetch(`${running.sandbox.url}/health-check-unknown`)).status).toBe(404);
});

/** Sends raw bytes and returns whatever comes back before the server closes or 2 s pass. */
function rawRequest(payload: string | Buffer): Promise<string> {
  const { port } = new URL(running.sandbox.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', done);
    socket.on('error', done);
    socket.setTimeout(2_000, done);
    socket.write(payload);
  });
}

const HUGE = 'x'.repeat(1024 * 1024);

describe('bad input never crashes the sandbox', () => {
  it.each([
    ['token', () => running.sandbox.endpoints.tokenURL, 'application/x-www-form-urlencoded'],
    ['verify', () => running.sandbox.endpoints.verifyURL, 'application/json'],
    ['CAMARA verify', () => running.sandbox.camaraEndpoints.verifyURL, 'application/json'],
  ])('1 MiB body on %s → 413 after draining', async (_name, url, contentType) => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: HUGE,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('a body just under 64 KiB is read normally', async () => {
    const response = await callVerify(running.sandbox, 'unknown', {
      rawBody: JSON.stringify({ phoneNumber: '+99012345678', pad: 'x'.repeat(60_000) }),
    });
    expect(response.status).toBe(401);
  });

  it('a body on GET /oauth2/auth → 413 page', async () => {
    const url = authorizationUrl(running.sandbox, running.app, { phoneNumber: '+99012345678' });
    const response = await rawRequest(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUGE.length}\r\nConnection: close\r\n\r\n${HUGE}`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
  });

  it.each([
    ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]), 'application/json'],
    ['garbage as form', 'grant_type=%zz&&&==&code', 'application/x-www-form-urlencoded'],
    ['XML', '<verify><phoneNumber>+99012345678</phoneNumber></verify>', 'application/xml'],
    ['no content type', '{"phoneNumber":"+99012345678"}', ''],
    ['deeply nested JSON', `${'['.repeat(50_000)}${']'.repeat(10_000)}`, 'application/json'],
  ])(
    '%s on the token endpoint → 401 (client authentication comes first)',
    async (_name, body, contentType) => {
      const response = await fetch(running.sandbox.endpoints.tokenURL, {
        method: 'POST',
        headers: contentType === '' ? {} : { 'content-type': contentType },
        body,
      });
      expect(response.status).toBe(401);
    },
  );

  it.each([
    [
      'binary garbage',
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]).toString('latin1'),
      'application/json',
    ],
    ['form', 'grant_type=authorization_code', 'application/json; charset=utf-8'],
    ['JSON', '{"grant_type":"authorization_code"}', 'application/json'],
    ['no content type', 'grant_type=authorization_code&code=x&redirect_uri=y', 'text/plain'],
  ])('%s with a valid client JWT on the token endpoint → 400', async (_name, body, contentType) => {
    const response = await exchangeCode(running.sandbox, running.app, '', { body, contentType });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it.each([
    ['/', 'GET'],
    ['/oauth2', 'GET'],
    ['/oauth2/token/extra', 'POST'],
    ['/number-verification/v1/verify', 'POST'],
    ['/number-verification/v2/verify/', 'POST'],
    ['/%zz', 'GET'],
  ])('unknown path %s → 404 ErrorInfo', async (path, method) => {
    const response = await fetch(`${running.sandbox.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      status: 404,
      code: 'NOT_FOUND',
      message: expect.any(String),
    });
  });

  it.each([
    ['DELETE', () => running.sandbox.endpoints.verifyURL, 405],
    ['PUT', () => running.sandbox.endpoints.tokenURL, 405],
    ['POST', () => running.sandbox.camaraEndpoints.devicePhoneNumberURL, 405],
    ['GET', () => running.sandbox.camaraEndpoints.verifyURL, 405],
  ])('%s on a known path → 405', async (method, url, status) => {
    const response = await fetch(url(), { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('allow')).toMatch(/^(GET|POST)$/);
  });

  it('repeated and array-style query parameters on /oauth2/auth', async () => {
    const url = authorizationUrl(running.sandbox, running.app, { phoneNumber: '+99012345678' });
    url.searchParams.append('login_hint', 'tel:+99012345670');
    const repeated = await fetch(url, { redirect: 'manual' });
    expect(repeated.status).toBe(302);
    expect(new URL(repeated.headers.get('location') ?? '').searchParams.get('error')).toBe(
      'invalid_request',
    );

    const arrays = new URL(url);
    arrays.searchParams.delete('client_id');
    arrays.searchParams.set('client_id[]', running.app.applicationId);
    const response = await fetch(arrays, { redirect: 'manual' });
    expect(response.status).toBe(400);
  });

  it('an absolute-form request target → 404', async () => {
    const response = await rawRequest(
      'GET http://evil.example/oauth2/auth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('a malformed request line → 400 from the HTTP parser', async () => {
    const response = await rawRequest('THIS IS NOT HTTP\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('a client that disconnects mid-body', async () => {
    await rawRequest(
      'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ngrant_type=',
    ).catch(() => undefined);
  });

  it('x-correlator with control-ish characters → 400 INVALID_ARGUMENT', async () => {
    const response = await callVerify(running.sandbox, 'unknown', {
      headers: { 'x-correlator': 'a'.repeat(300) },
    });
    expect(response.status).toBe(400);
  });
});
