/**
 * The sandbox's Verify v2 against a client this package did not write: Vonage's own Node SDK
 * (`@vonage/verify2` with `@vonage/auth`, pinned), pointed at the sandbox with `apiHost`. Its JWTs,
 * snake_case bodies and response parsing are Vonage's; if the sandbox drifts from what the SDK
 * sends or expects, these fail.
 */
import { Auth } from '@vonage/auth';
import { Channels, SilentAuthChannel, Verify2 } from '@vonage/verify2';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox-fixture.js';

const REDIRECT = 'http://127.0.0.1:3000/auth/verify/callback';
let running: RunningSandbox;
let verify: Verify2;
let numberSeq = 0;

/** A fresh +990 number (without its +, as the SDK's examples write it) ending in `last`. */
function number(last: string): string {
  numberSeq += 1;
  return `9902${String(numberSeq).padStart(5, '0')}${last}`;
}

/** What the SDK throws for a non-2xx answer: a VetchError carrying the fetch `Response`. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  const response = (err as { response?: Response } | undefined)?.response;
  expect(response).toBeInstanceOf(Response);
  return { status: response?.status ?? 0, body: await response?.json() };
}

beforeAll(async () => {
  running = await startSandbox();
  const credentials = new Auth({
    applicationId: running.app.applicationId,
    privateKey: running.app.privateKeyPem,
  });
  verify = new Verify2(credentials, { apiHost: running.sandbox.url });
});
afterAll(async () => {
  await running.sandbox.close();
});

describe('@vonage/verify2 against the sandbox', () => {
  it('SMS: newRequest, the code from the outbox, checkCode → completed', async () => {
    const to = number('4');
    const { requestId } = await verify.newRequest({
      brand: 'Acme',
      workflow: [{ channel: Channels.SMS, to }],
    });
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [message] = running.sandbox.outbox(to);
    expect(message?.channel).toBe('sms');
    expect(await verify.checkCode(requestId, message?.code ?? '')).toBe('completed');
  });

  it('a wrong code: 400 problem+json the SDK surfaces with its status', async () => {
    const to = number('6');
    const { requestId } = await verify.newRequest({
      brand: 'Acme',
      workflow: [{ channel: Channels.SMS, to }],
    });
    const wrong = running.sandbox.outbox(to)[0]?.code === '0000' ? '1111' : '0000';
    const { status, body } = await failure(verify.checkCode(requestId, wrong));
    expect(status).toBe(400);
    expect(body).toMatchObject({ title: expect.any(String), type: expect.any(String) });
  });

  it('silent auth: check_url → the code in the redirect fragment → checkCode → completed', async () => {
    const { requestId, checkUrl } = await verify.newRequest({
      brand: 'Acme',
      workflow: [
        { channel: SilentAuthChannel.SILENT_AUTH, to: number('2'), redirectUrl: REDIRECT },
      ],
    });
    expect(checkUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const opened = await request(checkUrl ?? '', { method: 'GET' });
    await opened.body.dump();
    expect(opened.statusCode).toBe(302);
    const fragment = new URLSearchParams(new URL(String(opened.headers.location)).hash.slice(1));
    expect(fragment.get('request_id')).toBe(requestId);
    expect(await verify.checkCode(requestId, fragment.get('code') ?? '')).toBe('completed');
  });

  it('nextWorkflow moves silent auth on to SMS; cancel ends a request', async () => {
    const to = number('8');
    const { requestId } = await verify.newRequest({
      brand: 'Acme',
      workflow: [
        { channel: SilentAuthChannel.SILENT_AUTH, to, redirectUrl: REDIRECT },
        { channel: Channels.SMS, to },
      ],
    });
    expect(await verify.nextWorkflow(requestId)).toBe(true);
    expect(running.sandbox.outbox(to)).toHaveLength(1);
    expect(await verify.cancel(requestId)).toBe(true);
    expect(await verify.cancel(requestId)).toBe(false);
  });

  it('RCS (with a from agent ID, as the SDK types it): the code lands in the outbox', async () => {
    const to = number('2');
    const { requestId } = await verify.newRequest({
      brand: 'Acme',
      workflow: [{ channel: Channels.RCS, to, from: 'acme-agent' }],
    });
    const [message] = running.sandbox.outbox(to);
    expect(message?.channel).toBe('rcs');
    expect(await verify.checkCode(requestId, message?.code ?? '')).toBe('completed');
  });

  it('a second request for the same number while one is live: 409 conflict', async () => {
    const to = number('0');
    const first = await verify.newRequest({
      brand: 'Acme',
      workflow: [{ channel: Channels.SMS, to }],
    });
    const { status, body } = await failure(
      verify.newRequest({ brand: 'Acme', workflow: [{ channel: Channels.SMS, to }] }),
    );
    expect(status).toBe(409);
    expect(body).toMatchObject({ request_id: first.requestId });
  });

  it('an application the sandbox does not know: 401', async () => {
    const stranger = new Verify2(
      new Auth({ applicationId: crypto.randomUUID(), privateKey: running.app.privateKeyPem }),
      { apiHost: running.sandbox.url },
    );
    const { status } = await failure(
      stranger.newRequest({
        brand: 'Acme',
        workflow: [{ channel: Channels.SMS, to: number('2') }],
      }),
    );
    expect(status).toBe(401);
  });
});
