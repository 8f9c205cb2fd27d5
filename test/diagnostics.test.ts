import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DIAGNOSTICS_CHANNELS as CHANNELS } from '../lib/index.js';
import { publishedFields } from './helpers/diagnostics-fields.js';
import { startLoginApp, type LoginHarness } from './helpers/login-app.js';
import { debugOutput, debugOutputSince } from './helpers/secrets.js';

vi.mock('../lib/debug.js', async () => ({
  debug: (await import('./helpers/secrets.js')).recordingDebug,
}));

const VERIFIED = '+99012345678';
const NOT_VERIFIED = '+99012345677';
const REDACTED = '+99*******78';
const STEPS = ['firstLeg', 'state', 'token', 'verify'] as const;

interface Recorded {
  channel: string;
  event: string;
  /** A copy of the context (or message) as the subscriber saw it then. */
  data: Record<string, unknown>;
}

describe('diagnostics_channel', () => {
  let h: LoginHarness;
  const recorded: Recorded[] = [];
  const onOutcome = (message: unknown) =>
    recorded.push({ channel: 'outcome', event: 'publish', data: { ...(message as object) } });
  const record = (channel: string, event: string) => (context: object) => {
    recorded.push({ channel, event, data: { ...context } });
  };
  const handlers = STEPS.map((step) => {
    const handler = {
      start: record(step, 'start'),
      end: record(step, 'end'),
      asyncStart: record(step, 'asyncStart'),
      asyncEnd: record(step, 'asyncEnd'),
      error: record(step, 'error'),
    };
    tracingChannel(CHANNELS[step]).subscribe(handler);
    return () => tracingChannel(CHANNELS[step]).unsubscribe(handler);
  });

  beforeAll(async () => {
    subscribe(CHANNELS.outcome, onOutcome);
    h = await startLoginApp({ authenticate: { appState: { returnTo: '/cart' } } });
  });
  afterAll(async () => {
    unsubscribe(CHANNELS.outcome, onOutcome);
    for (const off of handlers) off();
    await h.close();
  });
  beforeEach(() => {
    recorded.length = 0;
  });

  it('traces each step of a sign-in in order, then its outcome, with durations', async () => {
    expect(await h.login(VERIFIED)).toMatchObject({ outcome: 'success' });
    expect(recorded.map(({ channel, event }) => `${channel}:${event}`)).toEqual([
      ...['firstLeg:start', 'firstLeg:end', 'firstLeg:asyncStart', 'firstLeg:asyncEnd'],
      'outcome:publish',
      ...['state:start', 'state:end', 'state:asyncStart', 'state:asyncEnd'],
      ...['token:start', 'token:end', 'token:asyncStart', 'token:asyncEnd'],
      ...['verify:start', 'verify:end', 'verify:asyncStart', 'verify:asyncEnd'],
      'outcome:publish',
    ]);
    const ended = (channel: string) =>
      recorded.find((entry) => entry.channel === channel && entry.event === 'asyncEnd')?.data;
    const strategy = 'number-verification';
    const durationMs = expect.any(Number);
    const correlator = ended('firstLeg')?.correlator;
    expect(correlator).toMatch(/^[\w-]{8,}$/);
    const common = { strategy, phoneNumber: REDACTED, correlator, durationMs };
    expect(ended('firstLeg')).toEqual(common);
    expect(ended('state')).toEqual({ ...common, found: true });
    expect(ended('token')).toEqual(common);
    expect(ended('verify')).toEqual({ ...common, verified: true });
    const outcomes = recorded.filter((entry) => entry.channel === 'outcome').map((e) => e.data);
    expect(outcomes).toEqual([
      { strategy, leg: 'first-leg', outcome: 'redirect', durationMs },
      { strategy, leg: 'callback', outcome: 'success', durationMs },
    ]);
    for (const { data } of recorded) {
      if (data.durationMs !== undefined) expect(data.durationMs).toBeGreaterThanOrEqual(0);
    }
    // The callback's outcome comes after its steps: its duration covers theirs.
    const stepsTime = ['state', 'token', 'verify'].reduce(
      (sum, step) => sum + Number(ended(step)?.durationMs),
      0,
    );
    expect(Number(outcomes[1]?.durationMs)).toBeGreaterThanOrEqual(stepsTime);
  });

  it('reports a refused callback and a failed step with their codes', async () => {
    const browser = h.browser();
    const unknown = await h.callback('/auth/callback?code=abc&state=unknown-state', browser);
    expect(unknown.info?.code).toBe('invalid_state');
    expect(recorded.find((e) => e.channel === 'state' && e.event === 'asyncEnd')?.data).toEqual({
      strategy: 'number-verification',
      found: false,
      durationMs: expect.any(Number),
    });
    expect(recorded.at(-1)?.data).toMatchObject({
      outcome: 'fail',
      code: 'invalid_state',
      status: 403,
    });

    recorded.length = 0;
    expect((await h.login(NOT_VERIFIED)).info?.code).toBe('not_verified');
    expect(
      recorded.find((e) => e.channel === 'verify' && e.event === 'asyncEnd')?.data,
    ).toMatchObject({
      verified: false,
    });
    expect(recorded.at(-1)?.data).toMatchObject({
      outcome: 'fail',
      code: 'not_verified',
      status: 401,
    });

    recorded.length = 0;
    h.sandbox.inject({ endpoint: 'token', status: 503, times: 1 });
    expect((await h.login(VERIFIED)).outcome).toBe('error');
    const error = recorded.find((e) => e.channel === 'token' && e.event === 'error')?.data;
    expect(error?.error).toMatchObject({ name: 'TokenError', status: 503 });
    expect(recorded.map((e) => `${e.channel}:${e.event}`)).not.toContain('verify:start');
    expect(recorded.at(-1)?.data).toMatchObject({ outcome: 'error', status: 503 });
  });

  it('carries no secret: no token, code, state value, URL or unredacted number', async () => {
    const outcome = await h.login(VERIFIED);
    expect(outcome.outcome).toBe('success');
    // Node sets `result` on a traced context; the steps resolve it to undefined, never the token.
    expect(publishedFields(recorded)).toEqual(
      [
        'correlator',
        'durationMs',
        'found',
        'leg',
        'outcome',
        'phoneNumber',
        'strategy',
        'verified',
      ].sort(),
    );
    const text = JSON.stringify(recorded);
    expect(text).not.toContain(VERIFIED);
    expect(text).not.toMatch(/eyJ|https?:|code=|state=/);
  });

  it('writes a debug line for every step the README names, with durations', async () => {
    const mark = debugOutput.length;
    await h.login(VERIFIED);
    const lines = debugOutputSince(mark).map((line) => line.replace(/^\S+ \d+: /, ''));
    const timed = (text: string) =>
      expect.stringMatching(
        new RegExp(`^${text.replace(/[*+.()]/g, '\\$&')} \\(\\d+(\\.\\d+)? ms\\)$`),
      );
    expect(lines).toEqual([
      timed(`pending sign-in saved, redirecting ${REDACTED} to the operator`),
      timed('outcome: redirect'),
      timed(`state consumed for ${REDACTED}`),
      expect.stringMatching(
        /^token obtained for \+99\*+78 \(x-correlator [\w-]+\) \(\d+(\.\d+)? ms\)$/,
      ),
      timed(`operator answered true for ${REDACTED}`),
      timed('outcome: success'),
    ]);
  });
});

describe('docs/observability.md', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));

  it('runs the OpenTelemetry example: one span per step of a sign-in, and the outcomes', async () => {
    const markdown = readFileSync(join(root, 'docs/observability.md'), 'utf8');
    const example = /<!-- observability-example -->\s*```js\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(example?.split('\n').filter(Boolean).length).toBeLessThanOrEqual(12);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    trace.setGlobalTracerProvider(provider);
    const logged: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args) => logged.push(args));
    // The example as written, as a module of its own beside the tests (so its imports resolve).
    const dir = mkdtempSync(join(root, 'test/.observability-'));
    const file = join(dir, 'example.mjs');
    writeFileSync(file, example ?? '');
    const h = await startLoginApp();
    try {
      await import(pathToFileURL(file).href);
      expect(await h.login(VERIFIED)).toMatchObject({ outcome: 'success' });
      h.sandbox.inject({ endpoint: 'verify', status: 500, times: 1 });
      expect((await h.login(VERIFIED)).outcome).toBe('error');
    } finally {
      log.mockRestore();
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const spans = exporter.getFinishedSpans().map((span) => ({
      name: span.name,
      status: span.status.code,
      strategy: span.attributes.strategy,
    }));
    const ok = (step: string) => ({
      name: `number-verification ${step}`,
      status: 0,
      strategy: 'number-verification',
    });
    expect(spans).toEqual([
      ok('first-leg'),
      ok('state'),
      ok('token'),
      ok('verify'),
      ok('first-leg'),
      ok('state'),
      ok('token'),
      { ...ok('verify'), status: 2 },
    ]);
    expect(logged).toHaveLength(4);
    expect(logged[3]).toEqual([
      'sign-in %o',
      expect.objectContaining({ leg: 'callback', outcome: 'error', status: 500 }),
    ]);
  });
});
