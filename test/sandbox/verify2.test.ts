import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NumberVerificationError, VerificationError } from '../../lib/errors.js';
import {
  cancelVerification,
  checkCode,
  nextWorkflow,
  startVerification,
  type StartVerification,
  type Verify2Client,
} from '../../lib/protocol/verify2.js';
import { signApplicationJwt } from '../helpers/application-jwt.js';
import { startSandbox, waitForEvents, type RunningSandbox } from '../helpers/sandbox-fixture.js';

const REDIRECT = 'http://127.0.0.1:3000/auth/verify/callback';
const backChannel = { timeout: 2_000 };
let running: RunningSandbox;
let client: Verify2Client;
let numberSeq = 0;

/** A fresh +990 number ending in `last` (one per test: Vonage refuses concurrent requests). */
function number(last: string): string {
  numberSeq += 1;
  return `+9901${String(numberSeq).padStart(5, '0')}${last}`;
}

function fixture(name: string): object {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/vonage-verify2/${name}`, import.meta.url), 'utf8'),
  ) as object;
}

function silentFirst(to: string, fallback: StartVerification['workflow'] = []): StartVerification {
  return {
    brand: 'Acme',
    workflow: [{ channel: 'silent_auth', to, redirectURL: REDIRECT }, ...fallback],
  };
}

/** Follows check_url as the device would and returns the fragment's parameters. */
async function openCheckURL(checkURL: string): Promise<URLSearchParams> {
  const response = await request(checkURL, { method: 'GET' });
  await response.body.dump();
  expect(response.statusCode).toBe(302);
  const location = new URL(response.headers.location as string);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  expect(location.search).toBe('');
  return new URLSearchParams(location.hash.slice(1));
}

async function rejection(promise: Promise<unknown>): Promise<VerificationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VerificationError);
  return err as VerificationError;
}

beforeAll(async () => {
  running = await startSandbox();
  client = {
    baseURL: new URL(running.sandbox.verify2Endpoints.verifyBaseURL),
    applicationId: running.app.applicationId,
    privateKey: running.app.privateKey,
  };
});
afterEach(() => running.sandbox.clearFaults());
afterAll(async () => {
  await running.sandbox.close();
});

describe('silent authentication (Virtual Operator rules)', () => {
  it('even last digit: the fragment carries a code and the check completes', async () => {
    const to = number('2');
    const started = await startVerification(client, silentFirst(to), backChannel);
    expect(started.checkURL).toBe(
      `${running.sandbox.url}/v2/verify/${started.requestId}/silent-auth/redirect`,
    );
    const fragment = await openCheckURL(started.checkURL as string);
    expect(fragment.get('request_id')).toBe(started.requestId);
    const code = fragment.get('code');
    expect(code).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(await checkCode(client, started.requestId, code as string, backChannel)).toBe(
      'completed',
    );
    // Completed: the request is gone (Vonage: "not found or it has been verified already").
    const again = await rejection(
      checkCode(client, started.requestId, code as string, backChannel),
    );
    expect(again).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('odd last digit: a code, but the check answers failed; next_workflow sends an SMS', async () => {
    const to = number('3');
    const started = await startVerification(
      client,
      silentFirst(to, [{ channel: 'sms', to }]),
      backChannel,
    );
    const fragment = await openCheckURL(started.checkURL as string);
    expect(
      await checkCode(client, started.requestId, fragment.get('code') ?? '', backChannel),
    ).toBe('failed');
    expect(running.sandbox.outbox(to)).toEqual([]);
    await nextWorkflow(client, started.requestId, backChannel);
    const [message] = running.sandbox.outbox(to);
    expect(message).toMatchObject({ channel: 'sms', to, requestId: started.requestId });
    expect(message?.code).toMatch(/^\d{4}$/);
    expect(await checkCode(client, started.requestId, message?.code ?? '', backChannel)).toBe(
      'completed',
    );
  });

  it('99: not on the mobile network — the fragment carries an error and no code', async () => {
    const started = await startVerification(client, silentFirst(number('99')), backChannel);
    const fragment = await openCheckURL(started.checkURL as string);
    expect(fragment.get('error')).toBe('not_on_mobile_network');
    expect(fragment.get('code')).toBeNull();
  });

  it('check_url hands out its code once', async () => {
    const started = await startVerification(client, silentFirst(number('4')), backChannel);
    await openCheckURL(started.checkURL as string);
    const second = await openCheckURL(started.checkURL as string);
    expect(second.get('error')).toBe('invalid_request');
    expect(second.get('code')).toBeNull();
  });

  it('without redirect_url (mobile SDKs) the check_url answers JSON', async () => {
    const started = await startVerification(
      client,
      { brand: 'Acme', workflow: [{ channel: 'silent_auth', to: number('6') }] },
      backChannel,
    );
    const response = await request(started.checkURL as string);
    expect(response.statusCode).toBe(200);
    const body = (await response.body.json()) as Record<string, string>;
    expect(body).toEqual({ request_id: started.requestId, code: expect.any(String) });
  });

  it('an unknown check_url answers a 404 page', async () => {
    const response = await request(
      `${running.sandbox.url}/v2/verify/00000000-0000-4000-8000-000000000000/silent-auth/redirect`,
    );
    await response.body.dump();
    expect(response.statusCode).toBe(404);
  });
});

describe('codes', () => {
  it('SMS first: the code is in the outbox at once, the wrong code is 400 invalid-code', async () => {
    const to = number('8');
    const started = await startVerification(
      client,
      { brand: 'Acme', workflow: [{ channel: 'sms', to }], codeLength: 6, locale: 'en-gb' },
      backChannel,
    );
    expect(started.checkURL).toBeUndefined();
    const [message] = running.sandbox.outbox(to.slice(1));
    expect(message?.code).toMatch(/^\d{6}$/);
    expect(message?.text).toContain('Acme');
    const wrong = message?.code === '000000' ? '111111' : '000000';
    const err = await rejection(checkCode(client, started.requestId, wrong, backChannel));
    expect(err).toMatchObject({ status: 400, code: 'invalid-code' });
    expect(err.message).not.toContain(wrong);
    expect(await checkCode(client, started.requestId, message?.code ?? '', backChannel)).toBe(
      'completed',
    );
  });

  it('the third wrong code terminates the workflow with 410', async () => {
    const to = number('0');
    const started = await startVerification(
      client,
      { brand: 'Acme', workflow: [{ channel: 'voice', to }] },
      backChannel,
    );
    for (let i = 0; i < 2; i++) {
      expect(
        await rejection(checkCode(client, started.requestId, 'zzzz', backChannel)),
      ).toMatchObject({
        status: 400,
      });
    }
    expect(
      await rejection(checkCode(client, started.requestId, 'zzzz', backChannel)),
    ).toMatchObject({
      status: 410,
      code: 'expired',
    });
    // Terminated: even the right code is too late, and the number is free again.
    const code = running.sandbox.outbox(to)[0]?.code ?? '';
    expect(await rejection(checkCode(client, started.requestId, code, backChannel))).toMatchObject({
      status: 404,
    });
    await startVerification(
      client,
      { brand: 'Acme', workflow: [{ channel: 'sms', to }] },
      backChannel,
    );
  });

  it('RCS, e-mail, WhatsApp and voice codes land in the outbox too', async () => {
    const to = number('2');
    const started = await startVerification(
      client,
      {
        brand: 'Acme',
        workflow: [
          { channel: 'rcs', to },
          { channel: 'whatsapp', to },
          { channel: 'voice', to },
          { channel: 'email', to: 'ada@example.com' },
        ],
      },
      backChannel,
    );
    for (let i = 0; i < 3; i++) await nextWorkflow(client, started.requestId, backChannel);
    expect(running.sandbox.outbox(to).map((m) => m.channel)).toEqual(['rcs', 'whatsapp', 'voice']);
    expect(running.sandbox.outbox('ada@example.com').map((m) => m.channel)).toEqual(['email']);
    const noMore = await rejection(nextWorkflow(client, started.requestId, backChannel));
    expect(noMore).toMatchObject({ status: 409, code: 'no-events' });
  });
});

describe('requests', () => {
  it('a concurrent request for the same number is 409 concurrent until the first ends', async () => {
    const to = number('2');
    const first = await startVerification(client, silentFirst(to), backChannel);
    const err = await rejection(startVerification(client, silentFirst(to), backChannel));
    expect(err).toMatchObject({ status: 409, code: 'concurrent' });
    await cancelVerification(client, first.requestId, backChannel);
    await startVerification(client, silentFirst(to), backChannel);
  });

  it('cancel: 204, then the request is unknown (404)', async () => {
    const started = await startVerification(client, silentFirst(number('4')), backChannel);
    await cancelVerification(client, started.requestId, backChannel);
    expect(
      await rejection(cancelVerification(client, started.requestId, backChannel)),
    ).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('expires after channel_timeout per channel', async () => {
    let now = Date.now();
    const local = await startSandbox({ clock: () => now });
    const localClient = {
      ...client,
      baseURL: new URL(local.sandbox.url),
      applicationId: local.app.applicationId,
      privateKey: local.app.privateKey,
    };
    try {
      const to = number('2');
      const started = await startVerification(
        localClient,
        { brand: 'Acme', workflow: [{ channel: 'sms', to }], channelTimeout: 60 },
        backChannel,
      );
      now += 61_000;
      expect(
        await rejection(checkCode(localClient, started.requestId, '1234', backChannel)),
      ).toMatchObject({ status: 404 });
    } finally {
      await local.sandbox.close();
    }
  });

  it('another application cannot see the request', async () => {
    const other = await startSandbox();
    try {
      const started = await startVerification(client, silentFirst(number('2')), backChannel);
      running.sandbox.addApplication({
        applicationId: other.app.applicationId,
        publicKey: other.app.publicKeyPem,
        redirectUris: [REDIRECT],
      });
      const otherClient = {
        ...client,
        applicationId: other.app.applicationId,
        privateKey: other.app.privateKey,
      };
      expect(
        await rejection(checkCode(otherClient, started.requestId, '1234', backChannel)),
      ).toMatchObject({ status: 404 });
    } finally {
      await other.sandbox.close();
    }
  });
});

describe('authentication and validation', () => {
  async function post(path: string, body: unknown, authorization?: string) {
    const response = await request(`${running.sandbox.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      json: (await response.body.json()) as Record<string, unknown>,
    };
  }
  async function jwt(): Promise<string> {
    return `Bearer ${await signApplicationJwt({ applicationId: running.app.applicationId, privateKey: running.app.privateKey })}`;
  }

  it('no JWT: 401 problem+json', async () => {
    const answer = await post('/v2/verify', { brand: 'x', workflow: [] });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({
      type: expect.stringMatching(/#unauthorized$/),
      title: 'Unauthorized',
    });
  });

  it('a JWT is single-use (jti)', async () => {
    const token = await jwt();
    const body = { brand: 'Acme', workflow: [{ channel: 'sms', to: number('2').slice(1) }] };
    expect((await post('/v2/verify', body, token)).status).toBe(202);
    expect((await post('/v2/verify', body, token)).status).toBe(401);
  });

  it.each([
    ['no brand', { workflow: [{ channel: 'sms', to: '99012345678' }] }],
    [
      'brand too long',
      { brand: 'x'.repeat(17), workflow: [{ channel: 'sms', to: '99012345678' }] },
    ],
    ['empty workflow', { brand: 'Acme', workflow: [] }],
    ['unknown channel', { brand: 'Acme', workflow: [{ channel: 'pigeon', to: '99012345678' }] }],
    [
      'silent_auth not first',
      {
        brand: 'Acme',
        workflow: [
          { channel: 'sms', to: '99012345678' },
          { channel: 'silent_auth', to: '99012345678' },
        ],
      },
    ],
    ['bad number', { brand: 'Acme', workflow: [{ channel: 'sms', to: '12' }] }],
    ['bad e-mail', { brand: 'Acme', workflow: [{ channel: 'email', to: 'nobody' }] }],
    [
      'redirect_url on sms',
      { brand: 'Acme', workflow: [{ channel: 'sms', to: '99012345678', redirect_url: REDIRECT }] },
    ],
    [
      'redirect_url with fragment',
      {
        brand: 'Acme',
        workflow: [{ channel: 'silent_auth', to: '99012345678', redirect_url: `${REDIRECT}#x` }],
      },
    ],
    [
      'plain http redirect_url',
      {
        brand: 'Acme',
        workflow: [
          { channel: 'silent_auth', to: '99012345678', redirect_url: 'http://example.com/cb' },
        ],
      },
    ],
    [
      'code_length 3',
      { brand: 'Acme', code_length: 3, workflow: [{ channel: 'sms', to: '99012345678' }] },
    ],
    [
      'channel_timeout 1000',
      { brand: 'Acme', channel_timeout: 1000, workflow: [{ channel: 'sms', to: '99012345678' }] },
    ],
    [
      'locale',
      { brand: 'Acme', locale: 'english', workflow: [{ channel: 'sms', to: '99012345678' }] },
    ],
    ['not JSON', '{"brand":'],
  ])('%s: 422 invalid-params', async (_label, body) => {
    const answer = await post('/v2/verify', body, await jwt());
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({
      type: expect.stringMatching(/#invalid-params$/),
      detail: expect.any(String),
    });
  });

  it('GET on /v2/verify/{id} is 405 with Allow: POST, DELETE', async () => {
    const response = await request(
      `${running.sandbox.url}/v2/verify/00000000-0000-4000-8000-000000000000`,
    );
    await response.body.dump();
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST, DELETE');
  });
});

describe('outbox page', () => {
  it('lists codes as HTML or JSON for loopback clients', async () => {
    const to = number('2');
    await startVerification(
      client,
      { brand: 'Acme', workflow: [{ channel: 'sms', to }] },
      backChannel,
    );
    const code = running.sandbox.outbox(to)[0]?.code ?? 'missing';
    const html = await request(
      `${running.sandbox.verify2Endpoints.outboxURL}?to=${encodeURIComponent(to)}`,
    );
    expect(html.statusCode).toBe(200);
    expect(await html.body.text()).toContain(code);
    const json = await request(running.sandbox.verify2Endpoints.outboxURL, {
      headers: { accept: 'application/json' },
    });
    const { messages } = (await json.body.json()) as { messages: Array<{ to: string }> };
    expect(messages.some((m) => m.to === to)).toBe(true);
  });
});

describe('faults and events', () => {
  it('each Verify v2 endpoint takes faults and reports events with redacted numbers', async () => {
    const to = number('2');
    running.sandbox.inject({ endpoint: 'verify2-start', status: 503, times: 1 });
    expect(await rejection(startVerification(client, silentFirst(to), backChannel))).toMatchObject({
      status: 503,
      code: 'internal-error',
    });
    const before = running.events.length;
    const started = await startVerification(
      client,
      silentFirst(to, [{ channel: 'sms', to }]),
      backChannel,
    );
    running.sandbox.inject({
      endpoint: 'verify2-next',
      status: 429,
      body: fixture('throttled-429.json'),
      times: 1,
    });
    expect(await rejection(nextWorkflow(client, started.requestId, backChannel))).toMatchObject({
      status: 429,
      code: 'throttled',
    });
    running.sandbox.inject({ endpoint: 'verify2-check', delayMs: 300, times: 1 });
    expect(
      await rejection(checkCode(client, started.requestId, '1234', { timeout: 100 })),
    ).toMatchObject({ code: 'timeout' });
    await waitForEvents(running.events, before + 3);
    const events = running.events.slice(before);
    expect(events.map((e) => e.endpoint)).toEqual([
      'verify2-start',
      'verify2-next',
      'verify2-check',
    ]);
    expect(events[0]).toMatchObject({
      outcome: 'started',
      phoneNumber: `${to.slice(0, 3)}${'*'.repeat(to.length - 5)}${to.slice(-2)}`,
    });
    expect(JSON.stringify(events)).not.toContain(to);
  });

  it('Vonage fixture bodies map to typed errors with the catalogue code', async () => {
    const cases: Array<[string, number, string, string]> = [
      ['start-409-concurrent.json', 409, 'conflict', 'verify2-start'],
      ['start-422-conflict.json', 422, 'conflict', 'verify2-start'],
      ['check-400-invalid-code.json', 400, 'bad-request', 'verify2-check'],
      ['check-410-too-many.json', 410, 'expired', 'verify2-check'],
      ['check-404-not-found.json', 404, 'not-found', 'verify2-check'],
    ];
    for (const [file, status, code, endpoint] of cases) {
      running.sandbox.inject({
        endpoint: endpoint as 'verify2-start',
        status,
        body: fixture(file),
        times: 1,
      });
      const call =
        endpoint === 'verify2-start'
          ? startVerification(client, silentFirst(number('2')), backChannel)
          : checkCode(client, '36e7060d-2b23-4257-bad0-773ab47f85ef', '1234', backChannel);
      const err = await rejection(call);
      expect(err).toBeInstanceOf(NumberVerificationError);
      expect(err).toMatchObject({ status, code });
      expect(err.message).toContain(String(status));
    }
  });

  it('a 200 check without status, and a 202 start without check_url, are invalid responses', async () => {
    running.sandbox.inject({
      endpoint: 'verify2-check',
      status: 200,
      body: { request_id: 'x' },
      times: 1,
    });
    expect(
      await rejection(
        checkCode(client, '36e7060d-2b23-4257-bad0-773ab47f85ef', '1234', backChannel),
      ),
    ).toMatchObject({ code: 'invalid_verify_response' });
    running.sandbox.inject({
      endpoint: 'verify2-start',
      status: 202,
      body: { request_id: '2c59e3f4-a047-499f-a14f-819cd1989d2e' },
      times: 1,
    });
    expect(
      await rejection(startVerification(client, silentFirst(number('2')), backChannel)),
    ).toMatchObject({ code: 'invalid_verify_response' });
    running.sandbox.inject({
      endpoint: 'verify2-start',
      status: 202,
      body: fixture('start-202.json'),
      times: 1,
    });
    expect(await startVerification(client, silentFirst(number('2')), backChannel)).toEqual({
      requestId: '2c59e3f4-a047-499f-a14f-819cd1989d2e',
      checkURL:
        'https://api-eu-3.vonage.com/v2/verify/cfbc9a3b-27a2-40d4-a4e0-0c59b3b41901/silent-auth/redirect',
    });
  });
});
