import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FaultInjection, Verify2Endpoint } from '../../lib/sandbox/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import {
  matrixTables,
  rowsMissingFrom,
  type MatrixCell,
  type MatrixOutcome,
} from '../helpers/matrix-tables.js';
import { expectNoLeaks, SecretRecorder } from '../helpers/secrets.js';
import { startVerifyApp, type Step, type VerifyHarness } from '../helpers/verify-app.js';
import { watchProcess } from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

/**
 * The fault matrix of the Verify v2 legs (issue #12): Verify start, the check of the fragment's
 * silent-auth code, the check of a typed code, next_workflow, and the check_url page, each against
 * every status, body and transport fault the sandbox injects. Each cell asserts the exact outcome
 * (fail code and status, or the error class, code and status) from the contract in docs/verify.md,
 * that it arrived within two deadlines (a step may make two calls), and that nothing secret leaked. docs/verify.md carries
 * the printed tables.
 */

// Generous for a loaded CI machine: the set-up legs of a cell run under the same deadline.
const TIMEOUT = 1_000;
/** A step may make two calls (the fragment check, then next_workflow): each has the deadline. */
const DEADLINE = 2 * TIMEOUT + 500;
const STATUSES = [400, 401, 403, 404, 409, 410, 422, 429, 500, 503] as const;
type Status = (typeof STATUSES)[number];
type Leg = 'start' | 'fragment check' | 'code check' | 'next workflow';
type Spec = Omit<FaultInjection, 'endpoint' | 'times'>;

const ENDPOINT: Record<Leg, Verify2Endpoint> = {
  start: 'verify2-start',
  'fragment check': 'verify2-check',
  'code check': 'verify2-check',
  'next workflow': 'verify2-next',
};

/** Vonage's catalogue code for each status (developer.vonage.com/api-errors/verify-v2). */
const VONAGE_CODE: Record<Status, string> = {
  400: 'invalid-code',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  410: 'expired',
  422: 'invalid-params',
  429: 'throttled',
  500: 'internal-error',
  503: 'unavailable',
};
const HTML = '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>';
const TWO_MIB = 2 * 1024 * 1024;

const BODIES = {
  'RFC 7807 (Vonage)': (status: Status): Spec => ({
    status,
    body: {
      type: `https://developer.vonage.com/api-errors/verify-v2#${VONAGE_CODE[status]}`,
      title: 'Injected',
      detail: 'Injected by the fault matrix',
      instance: 'bf0ca0bf927b3b52e3cb03217e1a1ddf',
    },
    contentType: 'application/problem+json',
  }),
  'CAMARA ErrorInfo': (status: Status): Spec => ({
    status,
    body: { status, code: 'INJECTED', message: 'Injected by the fault matrix' },
  }),
  'RFC 6749 JSON': (status: Status): Spec => ({
    status,
    body: { error: 'server_error', error_description: 'Injected' },
  }),
  HTML: (status: Status): Spec => ({ status, body: HTML, contentType: 'text/html' }),
  empty: (status: Status): Spec => ({ status, body: '', contentType: 'application/json' }),
  'invalid JSON': (status: Status): Spec => ({ status, malformedJson: true }),
  '2 MiB': (status: Status): Spec => ({ status, oversizedBytes: TWO_MIB }),
} as const;
type BodyKind = keyof typeof BODIES;

type Expected = MatrixOutcome;

const fail = (code: string, status: number): Expected => ({ kind: 'fail', code, status });
const verifyError = (code: string, status?: number): Expected => ({
  kind: 'error',
  errorClass: 'VerificationError',
  code,
  status,
});

/** The contract (docs/verify.md, "Fail codes"): what each leg makes of a non-2xx answer. */
function expectation(leg: Leg, body: BodyKind, status: Status): Expected {
  // The status alone tells the user's situation; a body is only read for an error's code.
  if (leg === 'start' && status === 409) return fail('verification_in_progress', 409);
  if (leg !== 'start' && status === 404) return fail('expired', 403);
  if (leg === 'fragment check' && status === 400) return fail('code_required', 401);
  if (leg === 'code check' && status === 400) return fail('invalid_code', 401);
  if ((leg === 'fragment check' || leg === 'code check') && status === 410) {
    return fail('too_many_attempts', 403);
  }
  // Verify already moved on by itself: just as good, the code form follows.
  if (leg === 'next workflow' && status === 409) return fail('code_required', 401);
  if (body === '2 MiB') return verifyError('response_too_large', status);
  // The shared reader: RFC 6749 `error` or CAMARA `code`; else the Verify catalogue code.
  const code = {
    'RFC 7807 (Vonage)': VONAGE_CODE[status],
    'CAMARA ErrorInfo': 'INJECTED',
    'RFC 6749 JSON': 'server_error',
  }[body as string];
  return verifyError(code ?? 'verify_request_failed', status);
}

interface Cell extends MatrixCell {
  leg: Leg;
  fault?: Spec;
  refused?: boolean;
  expected: Expected;
}

const LEGS: Leg[] = ['start', 'fragment check', 'code check', 'next workflow'];
const cells: Cell[] = [];
for (const leg of LEGS) {
  for (const body of Object.keys(BODIES) as BodyKind[]) {
    for (const status of STATUSES) {
      cells.push({
        table: `Verify ${leg}: status × body (VerificationError code, status = column)`,
        row: body,
        column: String(status),
        leg,
        fault: BODIES[body](status),
        expected: expectation(leg, body, status),
      });
    }
  }
}
const TRANSPORT: Record<string, { spec: Spec; code: string; status: number | undefined }> = {
  'delay past timeout': { spec: { delayMs: TIMEOUT + 200 }, code: 'timeout', status: undefined },
  'reset before body': { spec: { reset: 'before-body' }, code: 'network_error', status: undefined },
  'reset during body': {
    spec: { status: 200, body: { padding: 'x'.repeat(64) }, reset: 'during-body' },
    code: 'network_error',
    status: 200,
  },
  'body trickling slower than timeout': {
    spec: {
      status: 200,
      body: { padding: 'x'.repeat(64) },
      trickle: { chunkBytes: 1, intervalMs: 50 },
    },
    code: 'timeout',
    status: 200,
  },
};
for (const [row, t] of Object.entries(TRANSPORT)) {
  for (const leg of LEGS) {
    cells.push({
      table: 'Verify transport faults',
      row,
      column: leg,
      leg,
      fault: t.spec,
      expected: verifyError(t.code, t.status),
    });
  }
}
cells.push({
  table: 'Verify transport faults',
  row: 'connection refused',
  column: 'start',
  leg: 'start',
  refused: true,
  expected: verifyError('network_error'),
});
const ODD: [string, Leg, Spec, Expected][] = [
  [
    '202 without request_id',
    'start',
    { status: 202, body: { check_url: 'https://x.example/' } },
    verifyError('invalid_verify_response', 202),
  ],
  [
    '202 without check_url',
    'start',
    { status: 202, body: { request_id: '2c59e3f4-a047-499f-a14f-819cd1989d2e' } },
    verifyError('invalid_verify_response', 202),
  ],
  [
    '202 request_id with a slash',
    'start',
    { status: 202, body: { request_id: '../x', check_url: 'https://x.example/' } },
    verifyError('invalid_verify_response', 202),
  ],
  [
    '202 check_url javascript:',
    'start',
    {
      status: 202,
      body: {
        request_id: '2c59e3f4-a047-499f-a14f-819cd1989d2e',
        check_url: 'javascript:alert(1)',
      },
    },
    verifyError('invalid_verify_response', 202),
  ],
  [
    '200 without status',
    'fragment check',
    { status: 200, body: { request_id: 'x' } },
    verifyError('invalid_verify_response', 200),
  ],
  [
    '200 status failed',
    'fragment check',
    { status: 200, body: { status: 'failed' } },
    fail('code_required', 401),
  ],
  [
    '200 status failed',
    'code check',
    { status: 200, body: { status: 'failed' } },
    fail('not_verified', 401),
  ],
  [
    '200 invalid JSON',
    'code check',
    { malformedJson: true },
    verifyError('invalid_verify_response', 200),
  ],
  [
    '200 HTML',
    'code check',
    { status: 200, body: HTML, contentType: 'text/html' },
    verifyError('invalid_verify_response', 200),
  ],
];
for (const [row, leg, fault, expected] of ODD) {
  cells.push({ table: 'Verify odd answers', row, column: leg, leg, fault, expected });
}

function observed(step: Step): Expected {
  const outcome = step.outcome;
  if (outcome === undefined)
    throw new Error(`no outcome: HTTP ${step.status} ${step.text.slice(0, 80)}`);
  if (outcome.outcome === 'success') return { kind: 'success' };
  if (outcome.outcome === 'fail') {
    return { kind: 'fail', code: String(outcome.info?.code), status: Number(outcome.status) };
  }
  return {
    kind: 'error',
    errorClass: String(outcome.error?.name),
    code: String(outcome.error?.code),
    status: outcome.error?.status,
  };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const watcher = watchProcess();
let seq = 0;
function num(last: string): string {
  seq += 1;
  return `+9903${String(seq).padStart(5, '0')}${last}`;
}

describe(`Verify fault matrix (${cells.length} cells, timeout ${TIMEOUT} ms)`, () => {
  const recorder = new SecretRecorder({ privateKeyPem: testKeyPair().privateKeyPem });
  let h: VerifyHarness;
  let refused: VerifyHarness;

  beforeAll(async () => {
    h = await startVerifyApp({ strategy: { timeout: TIMEOUT, dispatcher: recorder.dispatcher } });
    refused = await startVerifyApp({
      strategy: { timeout: TIMEOUT, verifyBaseURL: `http://127.0.0.1:${await closedPort()}` },
    });
  });

  afterAll(async () => {
    watcher.stop();
    await Promise.all([h.close(), refused.close()]);
    console.log(
      matrixTables(cells)
        .map((t) => t.join('\n'))
        .join('\n\n'),
    );
    expect(watcher.unhandled).toEqual([]);
  });

  /** Runs the flow up to `leg`, injects the fault there, and returns what that step answered. */
  async function run(cell: Cell): Promise<{ step: Step; elapsedMs: number }> {
    const app = cell.refused ? refused : h;
    const browser = app.browser();
    const inject = () =>
      cell.fault && app.sandbox.inject({ endpoint: ENDPOINT[cell.leg], ...cell.fault, times: 1 });
    if (cell.leg === 'start') {
      inject();
      const started = performance.now();
      const step = await app.start({ phoneNumber: num('2') }, browser);
      return { step, elapsedMs: performance.now() - started };
    }
    if (cell.leg === 'code check') {
      const phoneNumber = num('3');
      const fallback = await app.silent(phoneNumber, browser);
      inject();
      const started = performance.now();
      const code = app.sandbox.outbox(phoneNumber).at(-1)?.code ?? '';
      const step = await app.post(
        { state: String(fallback.outcome?.info?.flowState), code },
        browser,
      );
      return { step, elapsedMs: performance.now() - started };
    }
    const first = await app.start(
      { phoneNumber: num(cell.leg === 'fragment check' ? '2' : '3') },
      browser,
    );
    const redirect = await app.openCheckURL(first.location as string);
    recorder.add('code', new URLSearchParams(redirect.hash.slice(1)).get('code') ?? '');
    inject();
    const started = performance.now();
    const step = await app.land(redirect, browser);
    return { step, elapsedMs: performance.now() - started };
  }

  it.each(cells.map((cell) => [`${cell.table} | ${cell.row} | ${cell.column}`, cell] as const))(
    '%s',
    async (_, cell) => {
      const { step, elapsedMs } = await run(cell);
      const outcome = observed(step);
      expect(outcome).toEqual(cell.expected);
      expect(elapsedMs).toBeLessThan(DEADLINE);
      expectNoLeaks(
        { info: step.outcome?.info, error: step.outcome?.error, responseBodies: [step.text] },
        recorder,
      );
      h.sandbox.clearFaults();
    },
  );

  it('leaves the app working: a clean silent login succeeds after every fault', async () => {
    expect((await h.silent(num('2'))).outcome?.outcome).toBe('success');
  });

  it('check_url faults: the operator page fails, no callback, and the app still answers', async () => {
    for (const spec of [{ status: 500 }, { reset: 'before-body' as const }]) {
      h.sandbox.inject({ endpoint: 'silent-auth', ...spec, times: 1 });
      const first = await h.start({ phoneNumber: num('2') }, h.browser());
      await expect(h.openCheckURL(first.location as string)).rejects.toThrow();
    }
    expect((await h.silent(num('2'))).outcome?.outcome).toBe('success');
  });

  it('is the matrix docs/verify.md carries', () => {
    const docs = readFileSync(new URL('../../docs/verify.md', import.meta.url), 'utf8');
    expect(
      rowsMissingFrom(docs, matrixTables(cells)),
      'update docs/verify.md from the printed matrix',
    ).toEqual([]);
  });
});
