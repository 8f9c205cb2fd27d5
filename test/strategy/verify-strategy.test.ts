import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VerifySilentAuthStrategy } from '../../lib/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import {
  debugOutput,
  debugOutputSince,
  expectNoLeaks,
  SecretRecorder,
} from '../helpers/secrets.js';
import { startVerifyApp, type Step, type VerifyHarness } from '../helpers/verify-app.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

let h: VerifyHarness;
let seq = 0;

/** A fresh +990 number ending in `last`: Vonage refuses two live requests for one number. */
function num(last: string): string {
  seq += 1;
  return `+9902${String(seq).padStart(5, '0')}${last}`;
}

function fixture(name: string): object {
  return JSON.parse(
    readFileSync(new URL(`../sandbox/fixtures/vonage-verify2/${name}`, import.meta.url), 'utf8'),
  ) as object;
}

function latestCode(to: string): string {
  const messages = h.sandbox.outbox(to);
  const code = messages[messages.length - 1]?.code;
  if (code === undefined) throw new Error(`no code sent to ${to}`);
  return code;
}

function wrongCode(right: string): string {
  return right === '0000' ? '1111' : '0000';
}

function info(result: Step): Record<string, unknown> {
  return result.outcome?.info ?? {};
}

beforeAll(async () => {
  h = await startVerifyApp();
});
afterEach(() => h.sandbox.clearFaults());
afterAll(async () => {
  await h.close();
});

describe('silent authentication', () => {
  it('even number: check_url, fragment page, POST, completed → success', async () => {
    const phoneNumber = num('2');
    const browser = h.browser();
    const first = await h.start({ phoneNumber }, browser);
    expect(first.status).toBe(302);
    expect(first.location).toMatch(/\/v2\/verify\/[0-9a-f-]{36}\/silent-auth\/redirect$/);
    const redirect = await h.openCheckURL(first.location as string);
    // redirect_url = the callback, with this flow's state in the query; the result in the fragment.
    expect(`${redirect.origin}${redirect.pathname}`).toBe(h.callbackURL);
    expect(redirect.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(new URLSearchParams(redirect.hash.slice(1)).get('code')).not.toBeNull();
    const result = await h.land(redirect, browser);
    expect(result.outcome).toMatchObject({
      outcome: 'success',
      user: { id: phoneNumber },
      info: { phoneNumber },
    });
    expect(h.sandbox.outbox(phoneNumber)).toEqual([]);
  });

  it('the callback GET answers a page without inline script, and the script from the callback URL', async () => {
    const page = await h.browser().get('/auth/verify/callback?state=abc%22%3E');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain(`script-src ${h.baseURL}`);
    expect(page.text).toContain('value="abc&quot;&gt;"');
    expect(page.text).not.toMatch(/<script>|<script [^>]*>[^<]/);
    const src = /<script src="([^"]+)"/.exec(page.text)?.[1] ?? '';
    expect(new URL(src.replaceAll('&amp;', '&')).pathname).toBe('/auth/verify/callback');
    const script = await h
      .browser()
      .get(
        new URL(src.replaceAll('&amp;', '&')).pathname +
          new URL(src.replaceAll('&amp;', '&')).search,
      );
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toContain('location.hash');
    expect(script.text).toContain('replaceState');
  });

  it('a silent-only strategy: odd number → not_verified, 99 → not_on_mobile_network, number freed', async () => {
    const silentOnly = await startVerifyApp({ strategy: { fallback: [] } });
    try {
      const odd = num('3');
      expect(info(await silentOnly.silent(odd))).toMatchObject({ code: 'not_verified' });
      const offNetwork = num('99');
      expect(info(await silentOnly.silent(offNetwork))).toMatchObject({
        code: 'not_on_mobile_network',
      });
      // The request was cancelled: an immediate retry is not "in progress".
      expect(info(await silentOnly.silent(odd))).toMatchObject({ code: 'not_verified' });
    } finally {
      await silentOnly.close();
    }
  });
});

describe('fallback to a code', () => {
  it('odd number: next_workflow, code_required with the channel, the SMS code → success', async () => {
    const phoneNumber = num('3');
    const browser = h.browser();
    const fallback = await h.silent(phoneNumber, browser);
    expect(fallback.outcome).toMatchObject({
      outcome: 'fail',
      status: 401,
      info: { code: 'code_required', channel: 'sms', message: expect.any(String) },
    });
    const flowState = info(fallback).flowState as string;
    const result = await h.post({ state: flowState, code: latestCode(phoneNumber) }, browser);
    expect(result.outcome).toMatchObject({ outcome: 'success', user: { id: phoneNumber } });
  });

  it('99 (not on the mobile network): the fragment error falls back too', async () => {
    const phoneNumber = num('99');
    const fallback = await h.silent(phoneNumber);
    expect(info(fallback)).toMatchObject({ code: 'code_required', channel: 'sms' });
    expect(h.sandbox.outbox(phoneNumber)).toHaveLength(1);
  });

  it('a wrong code then the right one: invalid_code keeps the flow', async () => {
    const phoneNumber = num('5');
    const browser = h.browser();
    const flowState = info(await h.silent(phoneNumber, browser)).flowState as string;
    const right = latestCode(phoneNumber);
    const wrong = await h.post({ state: flowState, code: wrongCode(right) }, browser);
    expect(wrong.outcome).toMatchObject({
      outcome: 'fail',
      info: { code: 'invalid_code', channel: 'sms', flowState },
    });
    const result = await h.post({ state: flowState, code: right }, browser);
    expect(result.outcome).toMatchObject({ outcome: 'success' });
  });

  it('three wrong codes: too_many_attempts, then the flow is gone', async () => {
    const phoneNumber = num('7');
    const browser = h.browser();
    const flowState = info(await h.silent(phoneNumber, browser)).flowState as string;
    const wrong = wrongCode(latestCode(phoneNumber));
    expect(info(await h.post({ state: flowState, code: wrong }, browser)).code).toBe(
      'invalid_code',
    );
    expect(info(await h.post({ state: flowState, code: wrong }, browser)).code).toBe(
      'invalid_code',
    );
    expect(info(await h.post({ state: flowState, code: wrong }, browser)).code).toBe(
      'too_many_attempts',
    );
    const after = await h.post({ state: flowState, code: latestCode(phoneNumber) }, browser);
    expect(info(after).code).toBe('invalid_state');
  });

  it('a malformed code is refused without spending an attempt', async () => {
    const phoneNumber = num('9');
    const browser = h.browser();
    const flowState = info(await h.silent(phoneNumber, browser)).flowState as string;
    const before = h.sandbox.outbox(phoneNumber).length;
    for (const code of ['', '12', '12345678901', '12 34', '١٢٣٤']) {
      expect(info(await h.post({ state: flowState, code }, browser)).code).toBe('invalid_code');
    }
    expect(h.sandbox.outbox(phoneNumber)).toHaveLength(before);
    const result = await h.post({ state: flowState, code: latestCode(phoneNumber) }, browser);
    expect(result.outcome?.outcome).toBe('success');
  });

  it('skipSilentAuth (the user is on Wi-Fi): no redirect, code_required at once', async () => {
    const wifi = await startVerifyApp({ authenticate: { skipSilentAuth: true } });
    try {
      const phoneNumber = num('2');
      const browser = wifi.browser();
      const first = await wifi.start({ phoneNumber }, browser);
      expect(first.outcome).toMatchObject({ info: { code: 'code_required', channel: 'sms' } });
      const code = wifi.sandbox.outbox(phoneNumber)[0]?.code ?? '';
      const result = await wifi.post({ state: info(first).flowState as string, code }, browser);
      expect(result.outcome).toMatchObject({ outcome: 'success', user: { id: phoneNumber } });
    } finally {
      await wifi.close();
    }
  });

  it('defaultCountry reads national input, as NumberVerificationStrategy does', async () => {
    const gb = await startVerifyApp({ strategy: { defaultCountry: 'GB' } });
    try {
      const browser = gb.browser();
      const first = await gb.start({ phoneNumber: '07400 123456' }, browser);
      const result = await gb.land(await gb.openCheckURL(first.location as string), browser);
      expect(result.outcome).toMatchObject({ outcome: 'success', user: { id: '+447400123456' } });
      expect((await h.start({ phoneNumber: '07400 123456' }, h.browser())).outcome).toMatchObject({
        outcome: 'fail',
        info: { code: 'invalid_phone_number' },
      });
    } finally {
      await gb.close();
    }
  });

  it('RCS fallback: code_required names rcs, and the RCS code signs in', async () => {
    const rcs = await startVerifyApp({ strategy: { fallback: ['rcs', 'sms'] } });
    try {
      const browser = rcs.browser();
      const phoneNumber = num('3');
      const first = await rcs.start({ phoneNumber }, browser);
      const fallback = await rcs.land(await rcs.openCheckURL(first.location as string), browser);
      expect(info(fallback)).toMatchObject({ code: 'code_required', channel: 'rcs' });
      const [message] = rcs.sandbox.outbox(phoneNumber);
      expect(message?.channel).toBe('rcs');
      const done = await rcs.post(
        { state: info(fallback).flowState as string, code: message?.code ?? '' },
        browser,
      );
      expect(done.outcome).toMatchObject({ outcome: 'success', user: { id: phoneNumber } });
    } finally {
      await rcs.close();
    }
  });

  it('e-mail fallback uses the address from the form, and is left out without one', async () => {
    const mail = await startVerifyApp({ strategy: { fallback: ['email', 'voice'] } });
    try {
      const browser = mail.browser();
      const first = await mail.start({ phoneNumber: num('3'), email: 'ada@example.com' }, browser);
      const fallback = await mail.land(await mail.openCheckURL(first.location as string), browser);
      expect(info(fallback)).toMatchObject({ code: 'code_required', channel: 'email' });
      expect(mail.sandbox.outbox('ada@example.com')).toHaveLength(1);
      const noEmail = num('3');
      expect(info(await mail.silent(noEmail))).toMatchObject({ channel: 'voice' });
      expect(mail.sandbox.outbox(noEmail)[0]?.channel).toBe('voice');
    } finally {
      await mail.close();
    }
  });
});

describe('first leg and the app', () => {
  it('a number that is not E.164 is invalid_phone_number, without calling Verify', async () => {
    const before = h.sandbox.outbox().length;
    for (const phoneNumber of ['', '12', 'call me', '+99 0', `+${'9'.repeat(20)}`]) {
      const step = await h.start({ phoneNumber }, h.browser());
      expect(step.outcome).toMatchObject({
        outcome: 'fail',
        status: 400,
        info: { code: 'invalid_phone_number' },
      });
    }
    expect(h.sandbox.outbox()).toHaveLength(before);
  });

  it('the app data comes back as info.state, on success and with code_required', async () => {
    const app = await startVerifyApp({ authenticate: { appState: { returnTo: '/cart' } } });
    try {
      const success = await app.silent(num('2'));
      expect(success.outcome).toMatchObject({
        outcome: 'success',
        info: { state: { returnTo: '/cart' } },
      });
      const fallback = await app.silent(num('3'));
      expect(info(fallback)).toMatchObject({ code: 'code_required', state: { returnTo: '/cart' } });
    } finally {
      await app.close();
    }
  });

  it("the app's verify refusing the number is user_rejected", async () => {
    const app = await startVerifyApp({ verify: (_phoneNumber, done) => done(null, false) });
    try {
      expect(info(await app.silent(num('2'))).code).toBe('user_rejected');
    } finally {
      await app.close();
    }
  });
});

describe('state and replay', () => {
  it("a fragment with another browser's request id is invalid_state", async () => {
    const mallory = h.browser();
    const victim = h.browser();
    const malloryFirst = await h.start({ phoneNumber: num('2') }, mallory);
    const malloryRedirect = await h.openCheckURL(malloryFirst.location as string);
    const victimFirst = await h.start({ phoneNumber: num('2') }, victim);
    const victimRedirect = await h.openCheckURL(victimFirst.location as string);
    // The victim's own state, with Mallory's request id and code (login CSRF).
    const forged = await h.post(
      {
        state: victimRedirect.searchParams.get('state') ?? '',
        ...Object.fromEntries(new URLSearchParams(malloryRedirect.hash.slice(1))),
      },
      victim,
    );
    expect(info(forged).code).toBe('invalid_state');
    // Mallory's state in the victim's browser: unknown there.
    const crossed = await h.land(malloryRedirect, victim);
    expect(info(crossed).code).toBe('invalid_state');
  });

  it('a replayed fragment post: after success and after the fallback', async () => {
    const browser = h.browser();
    const first = await h.start({ phoneNumber: num('2') }, browser);
    const redirect = await h.openCheckURL(first.location as string);
    expect((await h.land(redirect, browser)).outcome?.outcome).toBe('success');
    expect(info(await h.land(redirect, browser)).code).toBe('invalid_state');

    const phoneNumber = num('3');
    const second = await h.start({ phoneNumber }, browser);
    const oddRedirect = await h.openCheckURL(second.location as string);
    const fallback = await h.land(oddRedirect, browser);
    expect(info(fallback).code).toBe('code_required');
    expect(info(await h.land(oddRedirect, browser)).code).toBe('invalid_state');
    // The code form still works: the replay did not consume the flow.
    const result = await h.post(
      { state: info(fallback).flowState as string, code: latestCode(phoneNumber) },
      browser,
    );
    expect(result.outcome?.outcome).toBe('success');
  });

  it('a POST without state, or with an unknown one, is invalid_state', async () => {
    expect(info(await h.post({ code: '1234' }, h.browser())).code).toBe('invalid_state');
    expect(info(await h.post({ state: 'x'.repeat(43), code: '1234' }, h.browser())).code).toBe(
      'invalid_state',
    );
  });
});

describe('Verify answers', () => {
  it('expiry: Vonage no longer knows the request → expired', async () => {
    let now = Date.now();
    const timed = await startVerifyApp({
      sandbox: { clock: () => now },
      strategy: { channelTimeout: 60, stateMaxAge: 3_600_000 },
    });
    try {
      const browser = timed.browser();
      const flowState = info(await timed.silent(num('3'), browser)).flowState as string;
      // Past channel_timeout × 2 channels, still within the JWT lifetime.
      now += 150_000;
      expect(info(await timed.post({ state: flowState, code: '1234' }, browser)).code).toBe(
        'expired',
      );
    } finally {
      await timed.close();
    }
  });

  it('a concurrent request for the number → verification_in_progress', async () => {
    const phoneNumber = num('2');
    await h.start({ phoneNumber }, h.browser());
    const second = await h.start({ phoneNumber }, h.browser());
    expect(second.outcome).toMatchObject({
      outcome: 'fail',
      status: 409,
      info: { code: 'verification_in_progress' },
    });
  });

  it("Vonage's own 422 conflict fixture is verification_in_progress too", async () => {
    h.sandbox.inject({
      endpoint: 'verify2-start',
      status: 422,
      body: fixture('start-422-conflict.json'),
      times: 1,
    });
    expect(info(await h.start({ phoneNumber: num('2') }, h.browser())).code).toBe(
      'verification_in_progress',
    );
  });

  it('429 is an error with the status, not a fail', async () => {
    h.sandbox.inject({
      endpoint: 'verify2-start',
      status: 429,
      body: fixture('throttled-429.json'),
      times: 1,
    });
    const result = await h.start({ phoneNumber: num('2') }, h.browser());
    expect(result.outcome).toMatchObject({
      outcome: 'error',
      error: { name: 'VerificationError', status: 429, code: 'throttled' },
    });
  });

  it.each([
    [
      'RFC 7807',
      { type: 'https://x.example/e#out-of-credit', title: 'Low', detail: 'No credit' },
      'out-of-credit',
    ],
    [
      'CAMARA ErrorInfo',
      { status: 403, code: 'PERMISSION_DENIED', message: 'no' },
      'PERMISSION_DENIED',
    ],
    ['RFC 6749', { error: 'invalid_client', error_description: 'bad' }, 'invalid_client'],
    ['text', 'Forbidden', 'verify_request_failed'],
  ])('a 403 in %s shape is a typed VerificationError', async (_shape, body, code) => {
    h.sandbox.inject({ endpoint: 'verify2-start', status: 403, body, times: 1 });
    const result = await h.start({ phoneNumber: num('2') }, h.browser());
    expect(result.outcome).toMatchObject({
      outcome: 'error',
      error: { name: 'VerificationError', status: 403, code },
    });
  });

  it('a timeout on the check is a VerificationError with code timeout', async () => {
    const browser = h.browser();
    const first = await h.start({ phoneNumber: num('2') }, browser);
    const redirect = await h.openCheckURL(first.location as string);
    h.sandbox.inject({ endpoint: 'verify2-check', delayMs: 2_500, times: 1 });
    const result = await h.land(redirect, browser);
    expect(result.outcome).toMatchObject({
      outcome: 'error',
      error: { name: 'VerificationError', code: 'timeout' },
    });
  });

  it('next_workflow answering 409 (already moved on) still asks for the code', async () => {
    h.sandbox.inject({
      endpoint: 'verify2-next',
      status: 409,
      body: fixture('next-409-no-events.json'),
      times: 1,
    });
    expect(info(await h.silent(num('3'))).code).toBe('code_required');
  });

  it('next_workflow failing otherwise is an error', async () => {
    h.sandbox.inject({ endpoint: 'verify2-next', status: 500, times: 1 });
    expect((await h.silent(num('3'))).outcome).toMatchObject({
      outcome: 'error',
      error: { status: 500 },
    });
  });
});

describe('options', () => {
  const keys = testKeyPair();
  const base = {
    applicationId: 'app',
    privateKey: keys.privateKeyPem,
    callbackURL: 'https://app.example/cb',
    brand: 'Acme',
  };
  it('defaults: name vonage-verify', () => {
    expect(new VerifySilentAuthStrategy(base, () => undefined).name).toBe('vonage-verify');
  });
  it.each([
    [{ brand: '' }, /brand/],
    [{ brand: 'x'.repeat(17) }, /brand/],
    [{ fallback: ['sms', 'sms'] }, /fallback/],
    [{ fallback: ['pigeon'] }, /fallback/],
    [{ codeLength: 3 }, /codeLength/],
    [{ channelTimeout: 5 }, /channelTimeout/],
    [{ locale: 'english' }, /locale/],
    [{ verifyBaseURL: 'http://api.example' }, /verifyBaseURL/],
    [{ callbackURL: 'not a url' }, /callbackURL/],
    [{ defaultCountry: 'gb' }, /VerifySilentAuthStrategy requires defaultCountry/],
  ])('%j is refused', (override, message) => {
    expect(
      () => new VerifySilentAuthStrategy({ ...base, ...override } as typeof base, () => undefined),
    ).toThrow(message);
  });
});

describe('secrets', () => {
  it('no code, OTP, JWT or key in any info, error, page or debug line', async () => {
    const { privateKeyPem } = testKeyPair();
    const recorder = new SecretRecorder({ privateKeyPem });
    const app = await startVerifyApp({
      strategy: { dispatcher: recorder.dispatcher, codeLength: 10 },
    });
    const mark = debugOutput.length;
    const steps: Step[] = [];
    const otps: string[] = [];
    try {
      const browser = app.browser();
      steps.push(await app.silent(num('2'), browser));
      const odd = num('3');
      const fallback = await app.silent(odd, browser);
      steps.push(fallback);
      const flowState = info(fallback).flowState as string;
      const otp = app.sandbox.outbox(odd)[0]?.code ?? '';
      otps.push(otp);
      steps.push(await app.post({ state: flowState, code: wrongCode(otp) }, browser));
      steps.push(await app.post({ state: flowState, code: otp }, browser));
      const other = num('5');
      const flowState2 = info(await app.silent(other, browser)).flowState as string;
      otps.push(app.sandbox.outbox(other)[0]?.code ?? '');
      for (let i = 0; i < 3; i++) {
        steps.push(await app.post({ state: flowState2, code: '9999999999' }, browser));
      }
      app.sandbox.inject({ endpoint: 'verify2-check', status: 500, times: 1 });
      const first = await app.start({ phoneNumber: num('2') }, browser);
      steps.push(await app.land(await app.openCheckURL(first.location as string), browser));
    } finally {
      await app.close();
    }
    expect(recorder.count('JWT')).toBeGreaterThan(5);
    expect(recorder.count('code')).toBeGreaterThan(0);
    const lines = debugOutputSince(mark);
    expect(lines.length).toBeGreaterThan(0);
    for (const s of steps) {
      expectNoLeaks(
        { info: s.outcome?.info, error: s.outcome?.error, responseBodies: [s.text] },
        recorder,
        { allowPhoneNumberIn: s.outcome?.outcome === 'success' ? ['info', 'responseBodies'] : [] },
      );
    }
    expectNoLeaks({ debugOutput: lines }, recorder);
    const everything = [...lines, ...steps.map((s) => s.text)].join('\n');
    for (const otp of otps) expect(everything).not.toContain(otp);
  });
});
