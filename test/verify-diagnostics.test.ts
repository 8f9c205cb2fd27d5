/**
 * The Verify v2 strategy on `diagnostics_channel`: each back-channel call (start, code check,
 * next_workflow, cancel) is a traced step, every Passport outcome is published, and no event or
 * debug line carries a JWT, code, OTP, request id or unredacted number. Real HTTP against the
 * sandbox on 127.0.0.1.
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import type supertest from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DIAGNOSTICS_CHANNELS as CHANNELS } from '../lib/index.js';
import { publishedFields } from './helpers/diagnostics-fields.js';
import { testKeyPair } from './helpers/login-app.js';
import { debugOutput, debugOutputSince, expectNoLeaks, SecretRecorder } from './helpers/secrets.js';
import { startVerifyApp, type Step, type VerifyHarness } from './helpers/verify-app.js';

vi.mock('../lib/debug.js', async () => ({
  debug: (await import('./helpers/secrets.js')).recordingDebug,
}));

const STEPS = ['firstLeg', 'state', 'verify', 'verifyStart', 'verifyNext', 'verifyCancel'] as const;
const STRATEGY = 'vonage-verify';

interface Recorded {
  channel: string;
  event: string;
  /** A copy of the context (or message) as the subscriber saw it then. */
  data: Record<string, unknown>;
}

const recorded: Recorded[] = [];
/** What earlier tests recorded (each test starts with `recorded` empty). */
const everything: Recorded[] = [];
/** Every request id and OTP the sandbox handed out: none may appear in an event. */
const secretsSeen: string[] = [];
let seq = 0;

/** A fresh +990 number ending in `last` (even: the SIM matches; odd: it does not; 99: Wi-Fi). */
function num(last: string): string {
  seq += 1;
  return `+9903${String(seq).padStart(5, '0')}${last}`;
}

const redacted = (phoneNumber: string): string =>
  `${phoneNumber.slice(0, 3)}${'*'.repeat(phoneNumber.length - 5)}${phoneNumber.slice(-2)}`;

/** `channel:event` of each recorded event, the whole step sequence of a request. */
const sequence = (): string[] => recorded.map(({ channel, event }) => `${channel}:${event}`);
const traced = (step: string): string[] =>
  ['start', 'end', 'asyncStart', 'asyncEnd'].map((e) => `${step}:${e}`);
const failed = (step: string): string[] =>
  ['start', 'end', 'error', 'asyncStart', 'asyncEnd'].map((e) => `${step}:${e}`);
const ended = (step: string): Record<string, unknown> | undefined =>
  recorded.findLast((e) => e.channel === step && e.event === 'asyncEnd')?.data;
const outcomes = (): Record<string, unknown>[] =>
  recorded.filter((e) => e.channel === 'outcome').map((e) => e.data);

describe('VerifySilentAuthStrategy on diagnostics_channel', () => {
  const recorder = new SecretRecorder({ privateKeyPem: testKeyPair().privateKeyPem });
  let h: VerifyHarness;
  let silentOnly: VerifyHarness;
  const onOutcome = (message: unknown): void => {
    recorded.push({ channel: 'outcome', event: 'publish', data: { ...(message as object) } });
  };
  const offs = STEPS.map((step) => {
    const record = (event: string) => (context: object) => {
      recorded.push({ channel: step, event, data: { ...context } });
    };
    const handler = {
      start: record('start'),
      end: record('end'),
      asyncStart: record('asyncStart'),
      asyncEnd: record('asyncEnd'),
      error: record('error'),
    };
    tracingChannel(CHANNELS[step]).subscribe(handler);
    return () => tracingChannel(CHANNELS[step]).unsubscribe(handler);
  });

  beforeAll(async () => {
    subscribe(CHANNELS.outcome, onOutcome);
    const strategy = { dispatcher: recorder.dispatcher, codeLength: 10 };
    // A first leg posting `skip=yes` asks for a code at once (the app knows it is on Wi-Fi).
    h = await startVerifyApp({
      strategy,
      authenticate: (req) => ({ skipSilentAuth: (req.body as { skip?: string }).skip === 'yes' }),
    });
    silentOnly = await startVerifyApp({ strategy: { ...strategy, fallback: [] } });
  });
  afterAll(async () => {
    unsubscribe(CHANNELS.outcome, onOutcome);
    for (const off of offs) off();
    await h.close();
    await silentOnly.close();
    everything.push(...recorded.splice(0));
    // Whatever the tests above recorded, no event ever carried a secret.
    expect(recorder.count('JWT')).toBeGreaterThan(10);
    // An error event's error is scanned with its message (JSON alone shows only own fields).
    const text = JSON.stringify(everything, (_key, value: unknown) =>
      value instanceof Error ? { ...value, message: value.message } : value,
    );
    expectNoLeaks({ text: [text] }, recorder);
    expect(secretsSeen.length).toBeGreaterThan(4);
    for (const secret of secretsSeen) expect(text).not.toContain(secret);
  });
  beforeEach(() => {
    everything.push(...recorded.splice(0));
  });

  /** First leg and the device's visit to check_url: the redirect back, with its fragment. */
  async function firstLeg(app: VerifyHarness, phoneNumber: string, browser: supertest.Agent) {
    recorder.addPhoneNumber(phoneNumber);
    const first = await app.start({ phoneNumber }, browser);
    expect(first.status).toBe(302);
    const back = await app.openCheckURL(first.location as string);
    const fragment = new URLSearchParams(back.hash.slice(1));
    for (const name of ['request_id', 'code']) {
      const value = fragment.get(name);
      if (value !== null) secretsSeen.push(value);
    }
    return back;
  }

  function otp(app: VerifyHarness, phoneNumber: string): string {
    const code = app.sandbox.outbox(phoneNumber).at(-1)?.code;
    if (code === undefined) throw new Error(`no code sent to ${phoneNumber}`);
    secretsSeen.push(code);
    return code;
  }

  it('silent success: start, first leg, redirect; then state, the check, success', async () => {
    const phoneNumber = num('2');
    const browser = h.browser();
    const mark = debugOutput.length;
    const back = await firstLeg(h, phoneNumber, browser);
    expect(sequence()).toEqual([
      ...traced('verifyStart'),
      ...traced('firstLeg'),
      'outcome:publish',
    ]);
    const correlator = ended('firstLeg')?.correlator;
    expect(correlator).toMatch(/^[\w-]{8,}$/);
    const common = {
      strategy: STRATEGY,
      phoneNumber: redacted(phoneNumber),
      correlator,
      durationMs: expect.any(Number),
    };
    expect(ended('verifyStart')).toEqual({ ...common, channel: 'silent_auth' });
    expect(ended('firstLeg')).toEqual(common);
    expect(outcomes()).toEqual([
      { strategy: STRATEGY, leg: 'first-leg', outcome: 'redirect', durationMs: expect.any(Number) },
    ]);

    recorded.length = 0;
    const landed = await h.land(back, browser);
    expect(landed.outcome?.outcome).toBe('success');
    // The fragment page's GET answers itself: no step, no outcome; the POST has them all.
    expect(sequence()).toEqual([...traced('state'), ...traced('verify'), 'outcome:publish']);
    expect(ended('state')).toEqual({ ...common, found: true });
    expect(ended('verify')).toEqual({ ...common, channel: 'silent_auth', verified: true });
    const [success] = outcomes();
    expect(success).toEqual({
      strategy: STRATEGY,
      leg: 'callback',
      outcome: 'success',
      durationMs: expect.any(Number),
    });
    const stepsTime = Number(ended('state')?.durationMs) + Number(ended('verify')?.durationMs);
    expect(Number(success?.durationMs)).toBeGreaterThanOrEqual(stepsTime);

    const number = redacted(phoneNumber).replace(/[*+]/g, '\\$&');
    const timed = (text: string) => new RegExp(`^${text} \\(\\d+(\\.\\d+)? ms\\)$`);
    const lines = debugOutputSince(mark).map((line) => line.replace(/^\S+ \d+: /, ''));
    expect(lines).toEqual([
      expect.stringMatching(timed(`Verify request started for ${number}, first by silent_auth`)),
      expect.stringMatching(timed(`pending sign-in saved, redirecting ${number} to the operator`)),
      expect.stringMatching(timed('outcome: redirect')),
      expect.stringMatching(timed(`state consumed for ${number}`)),
      expect.stringMatching(timed(`operator answered true for ${number} \\(silent_auth code\\)`)),
      expect.stringMatching(timed('outcome: success')),
    ]);
    expectNoLeaks({ debugOutput: lines }, recorder);
    for (const secret of secretsSeen) expect(lines.join('\n')).not.toContain(secret);
  });

  it('SMS fallback: the failed silent check and next_workflow, then the right code', async () => {
    const phoneNumber = num('3');
    const browser = h.browser();
    const back = await firstLeg(h, phoneNumber, browser);
    recorded.length = 0;
    const mark = debugOutput.length;
    const fallback = await h.land(back, browser);
    expect(fallback.outcome?.info).toMatchObject({ code: 'code_required', channel: 'sms' });
    expect(sequence()).toEqual([
      ...traced('state'),
      ...traced('verify'),
      ...traced('verifyNext'),
      ...traced('firstLeg'),
      'outcome:publish',
    ]);
    expect(ended('verify')).toMatchObject({ channel: 'silent_auth', verified: false });
    expect(ended('verifyNext')).toMatchObject({
      strategy: STRATEGY,
      phoneNumber: redacted(phoneNumber),
      channel: 'sms',
      durationMs: expect.any(Number),
    });
    expect(outcomes()).toEqual([
      {
        strategy: STRATEGY,
        leg: 'callback',
        outcome: 'fail',
        code: 'code_required',
        status: 401,
        durationMs: expect.any(Number),
      },
    ]);
    const number = redacted(phoneNumber).replace(/[*+]/g, '\\$&');
    expect(debugOutputSince(mark)).toContainEqual(
      expect.stringMatching(new RegExp(`: Verify moved on to sms for ${number} \\(`)),
    );

    recorded.length = 0;
    const state = String(fallback.outcome?.info?.flowState);
    const signedIn = await h.post({ state, code: otp(h, phoneNumber) }, browser);
    expect(signedIn.outcome?.outcome).toBe('success');
    expect(sequence()).toEqual([...traced('state'), ...traced('verify'), 'outcome:publish']);
    expect(ended('verify')).toMatchObject({ channel: 'sms', verified: true });
    expect(outcomes()).toEqual([
      { strategy: STRATEGY, leg: 'callback', outcome: 'success', durationMs: expect.any(Number) },
    ]);
  });

  it('skipSilentAuth: the first leg starts, moves on to SMS, keeps the flow, code_required', async () => {
    const phoneNumber = num('2');
    recorder.addPhoneNumber(phoneNumber);
    const first = await h.start({ phoneNumber, skip: 'yes' }, h.browser());
    expect(first.outcome?.info).toMatchObject({ code: 'code_required', channel: 'sms' });
    otp(h, phoneNumber);
    expect(sequence()).toEqual([
      ...traced('verifyStart'),
      ...traced('verifyNext'),
      ...traced('firstLeg'),
      'outcome:publish',
    ]);
    expect(ended('verifyStart')).toMatchObject({ channel: 'silent_auth' });
    expect(ended('verifyNext')).toMatchObject({ channel: 'sms' });
    expect(outcomes()).toEqual([
      {
        strategy: STRATEGY,
        leg: 'first-leg',
        outcome: 'fail',
        code: 'code_required',
        status: 401,
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('wrong code: the check fails with the operator error, then the form is kept', async () => {
    const phoneNumber = num('5');
    const browser = h.browser();
    const fallback = await h.land(await firstLeg(h, phoneNumber, browser), browser);
    const state = String(fallback.outcome?.info?.flowState);
    const right = otp(h, phoneNumber);
    recorded.length = 0;
    const wrong: Step = await h.post(
      { state, code: right === '0000000000' ? '1111111111' : '0000000000' },
      browser,
    );
    expect(wrong.outcome?.info).toMatchObject({ code: 'invalid_code', channel: 'sms' });
    expect(sequence()).toEqual([
      ...traced('state'),
      ...failed('verify'),
      ...traced('firstLeg'),
      'outcome:publish',
    ]);
    const error = recorded.find((e) => e.channel === 'verify' && e.event === 'error')?.data;
    expect(error).toMatchObject({ channel: 'sms', durationMs: expect.any(Number) });
    expect(error?.verified).toBeUndefined();
    expect(error?.error).toMatchObject({ name: 'VerificationError', status: 400 });
    expect(outcomes()).toEqual([
      {
        strategy: STRATEGY,
        leg: 'callback',
        outcome: 'fail',
        code: 'invalid_code',
        status: 401,
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('operator error: the failed start is an error event, then the outcome error', async () => {
    h.sandbox.inject({ endpoint: 'verify2-start', status: 500, times: 1 });
    const phoneNumber = num('2');
    recorder.addPhoneNumber(phoneNumber);
    const mark = debugOutput.length;
    const answer = await h.start({ phoneNumber }, h.browser());
    expect(answer.outcome?.outcome).toBe('error');
    expect(sequence()).toEqual([...failed('verifyStart'), 'outcome:publish']);
    const error = recorded.find((e) => e.channel === 'verifyStart' && e.event === 'error')?.data;
    expect(error?.error).toMatchObject({ name: 'VerificationError', status: 500 });
    expect(outcomes()).toEqual([
      {
        strategy: STRATEGY,
        leg: 'first-leg',
        outcome: 'error',
        code: answer.outcome?.error?.code,
        status: 500,
        durationMs: expect.any(Number),
      },
    ]);
    const lines = debugOutputSince(mark).map((line) => line.replace(/^\S+ \d+: /, ''));
    expect(lines).toEqual([
      expect.stringMatching(/^verify-start failed: [\w-]+ \(\d+(\.\d+)? ms\)$/),
      expect.stringMatching(/^outcome: error [\w-]+ 500 \(\d+(\.\d+)? ms\)$/),
    ]);
  });

  it('no fallback: a device off the mobile network ends with the request cancelled', async () => {
    const phoneNumber = num('99');
    const browser = silentOnly.browser();
    const back = await firstLeg(silentOnly, phoneNumber, browser);
    recorded.length = 0;
    const landed = await silentOnly.land(back, browser);
    expect(landed.outcome?.info).toMatchObject({ code: 'not_on_mobile_network' });
    expect(sequence()).toEqual([...traced('state'), ...traced('verifyCancel'), 'outcome:publish']);
    expect(ended('verifyCancel')).toMatchObject({
      strategy: STRATEGY,
      phoneNumber: redacted(phoneNumber),
      channel: 'silent_auth',
    });
    expect(outcomes()).toEqual([
      {
        strategy: STRATEGY,
        leg: 'callback',
        outcome: 'fail',
        code: 'not_on_mobile_network',
        status: 403,
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('publishes only the documented fields, whatever the path', () => {
    // An error event's `error` is the step's error (checked for secrets in afterAll).
    const documented = 'channel code correlator durationMs found leg outcome phoneNumber status';
    expect(publishedFields([...everything, ...recorded], ['error'])).toEqual(
      [...documented.split(' '), 'strategy', 'verified'].sort(),
    );
  });
});
