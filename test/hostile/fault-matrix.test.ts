import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthorizationError, TokenError, VerificationError } from '../../lib/index.js';
import type { FaultInjection } from '../../lib/sandbox/index.js';
import type { StrategyOptions } from '../../lib/index.js';
import {
  describeOutcome,
  matrixTables,
  normalizeRow,
  type MatrixOutcome,
} from '../helpers/matrix-tables.js';
import {
  startHostileApp,
  VERIFIED,
  watchProcess,
  type HostileHarness,
  type RecordedRequest,
} from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

/**
 * The fault matrix (issue #5 §1): every leg of the flow against every status, body and transport
 * fault the sandbox can inject. Each cell runs a whole flow against one app and asserts the exact
 * outcome — the fail code and status, or the error class, `code` and `status` — that it arrived
 * within `timeout` + 250 ms, that the strategy took exactly one action, and that nothing leaked.
 * The expectations are written from the contract (issue #2), not read from the implementation.
 */

const TIMEOUT = 300;
const DEADLINE = TIMEOUT + 250;
const STATUSES = [400, 401, 403, 404, 409, 429, 500, 502, 503, 504] as const;
type Status = (typeof STATUSES)[number];
type Leg = 'auth' | 'token' | 'verify';
type Spec = Omit<FaultInjection, 'endpoint' | 'times'>;

/** CAMARA Commonalities codes a gateway would answer for each status. */
const CAMARA_CODE: Record<Status, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

/** RFC 6749 §5.2 errors; `invalid_grant` on a 5xx checks that only a 4xx one is the user's fail. */
const OAUTH_ERROR: Record<Status, string> = {
  400: 'invalid_grant',
  401: 'invalid_client',
  403: 'unauthorized_client',
  404: 'invalid_request',
  409: 'invalid_grant',
  429: 'temporarily_unavailable',
  500: 'server_error',
  502: 'invalid_grant',
  503: 'temporarily_unavailable',
  504: 'server_error',
};

const NOT_ON_MOBILE_NETWORK = 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK';
const TWO_MIB = 2 * 1024 * 1024;
const HTML = '<!doctype html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>';

const BODIES = {
  'CAMARA ErrorInfo': (status: Status): Spec => ({
    status,
    body: { status, code: CAMARA_CODE[status], message: 'Injected by the fault matrix' },
  }),
  'RFC 6749 JSON': (status: Status): Spec => ({
    status,
    body: { error: OAUTH_ERROR[status], error_description: 'Injected by the fault matrix' },
  }),
  'RFC 7807 problem+json': (status: Status): Spec => ({
    status,
    body: { type: 'about:blank', title: 'Gateway problem', status, detail: 'Injected' },
    contentType: 'application/problem+json',
  }),
  HTML: (status: Status): Spec => ({ status, body: HTML, contentType: 'text/html; charset=utf-8' }),
  empty: (status: Status): Spec => ({ status, body: '', contentType: 'application/json' }),
  'invalid JSON': (status: Status): Spec => ({ status, malformedJson: true }),
  'JSON as text/plain': (status: Status): Spec => ({
    status,
    body: JSON.stringify({ error: OAUTH_ERROR[status], status, code: CAMARA_CODE[status] }),
    contentType: 'text/plain',
  }),
  '2 MiB': (status: Status): Spec => ({ status, oversizedBytes: TWO_MIB }),
} as const;
type BodyKind = keyof typeof BODIES;

type Expected = MatrixOutcome;

/** The contract's answer for a non-2xx token response (issue #2, "Token exchange"). */
function tokenExpectation(body: BodyKind, status: Status): Expected {
  if (body === '2 MiB') return tokenError('response_too_large', status);
  if (body === 'RFC 6749 JSON') {
    const error = OAUTH_ERROR[status];
    return error === 'invalid_grant' && status < 500
      ? { kind: 'fail', code: 'invalid_grant', status: 403 }
      : tokenError(error, status);
  }
  // Issue 9: both legs read all three shapes; a CAMARA code counts when there is no OAuth error.
  if (body === 'CAMARA ErrorInfo') return tokenError(CAMARA_CODE[status], status);
  return tokenError('token_request_failed', status);
}

/** The contract's answer for a non-2xx verify response (issue #2, "Verify"). */
function verifyExpectation(body: BodyKind, status: Status): Expected {
  if (body === '2 MiB') return verifyError('response_too_large', status);
  if (body === 'CAMARA ErrorInfo') return verifyError(CAMARA_CODE[status], status);
  if (body === 'RFC 6749 JSON') return verifyError(OAUTH_ERROR[status], status);
  return verifyError('verify_request_failed', status);
}

const tokenError = (code: string, status?: number): Expected => ({
  kind: 'error',
  errorClass: 'TokenError',
  code,
  status,
});
const verifyError = (code: string, status?: number): Expected => ({
  kind: 'error',
  errorClass: 'VerificationError',
  code,
  status,
});

interface Cell {
  table: string;
  row: string;
  column: string;
  leg: Leg;
  /** The fault injected once on `leg`; none for a cell made by an unreachable endpoint. */
  fault?: Spec;
  /** An endpoint option pointing at a closed port (connection refused). */
  refused?: 'authorizationURL' | 'tokenURL' | 'verifyURL';
  expected: Expected;
}

const cells: Cell[] = [];
for (const [leg, expectation] of [
  ['token', tokenExpectation],
  ['verify', verifyExpectation],
] as const) {
  for (const body of Object.keys(BODIES) as BodyKind[]) {
    for (const status of STATUSES) {
      cells.push({
        table: `${leg} leg: status × body (${leg === 'token' ? 'TokenError' : 'VerificationError'} code, status = column)`,
        row: body,
        column: String(status),
        leg,
        fault: BODIES[body](status),
        expected: expectation(body, status),
      });
    }
  }
}
for (const body of Object.keys(BODIES) as BodyKind[]) {
  for (const status of STATUSES) {
    cells.push({
      table: 'authorization leg: status × body (an operator error page)',
      row: body,
      column: String(status),
      leg: 'auth',
      fault: BODIES[body](status),
      expected: { kind: 'no callback', operator: `page ${status}` },
    });
  }
}

const AUTH_ERRORS = [
  'access_denied',
  'invalid_request',
  'unauthorized_client',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'login_required',
  'interaction_required',
];
for (const error of AUTH_ERRORS) {
  cells.push({
    table: 'authorization leg: redirect back with error=',
    row: 'redirect',
    column: error,
    leg: 'auth',
    fault: { error },
    expected:
      error === 'access_denied'
        ? { kind: 'fail', code: 'access_denied', status: 403 }
        : { kind: 'error', errorClass: 'AuthorizationError', code: error, status: undefined },
  });
}

const TRANSPORT: Record<
  string,
  {
    back: Spec | 'refused';
    backStatus: number | undefined;
    backCode: string;
    auth: Spec | 'refused';
    authExpected: Expected;
  }
> = {
  'delay past timeout': {
    back: { delayMs: TIMEOUT + 200 },
    backStatus: undefined,
    backCode: 'timeout',
    // The browser waits for a slow operator; the flow then completes normally.
    auth: { delayMs: TIMEOUT + 200 },
    authExpected: { kind: 'success' },
  },
  'reset before body': {
    back: { reset: 'before-body' },
    backStatus: undefined,
    backCode: 'network_error',
    auth: { reset: 'before-body' },
    authExpected: { kind: 'no callback', operator: 'connection reset' },
  },
  'reset during body': {
    back: { reset: 'during-body' },
    // The status line and headers arrived: the error carries the operator's status.
    backStatus: 200,
    backCode: 'network_error',
    auth: { status: 200, body: HTML, contentType: 'text/html', reset: 'during-body' },
    authExpected: { kind: 'no callback', operator: 'page cut off' },
  },
  'connection refused': {
    back: 'refused',
    backStatus: undefined,
    backCode: 'network_error',
    auth: 'refused',
    authExpected: { kind: 'no callback', operator: 'connection refused' },
  },
  'body trickling slower than timeout': {
    back: { trickle: { chunkBytes: 1, intervalMs: 50 } },
    backStatus: 200,
    backCode: 'timeout',
    auth: {
      status: 503,
      body: HTML,
      contentType: 'text/html',
      trickle: { chunkBytes: 1, intervalMs: 50 },
    },
    authExpected: { kind: 'no callback', operator: 'page trickling' },
  },
};
const ENDPOINT_OPTION = {
  auth: 'authorizationURL',
  token: 'tokenURL',
  verify: 'verifyURL',
} as const;
for (const [row, t] of Object.entries(TRANSPORT)) {
  for (const leg of ['auth', 'token', 'verify'] as const) {
    const spec = leg === 'auth' ? t.auth : t.back;
    cells.push({
      table: 'transport faults',
      row,
      column: leg,
      leg,
      ...(spec === 'refused' ? { refused: ENDPOINT_OPTION[leg] } : { fault: spec }),
      expected:
        leg === 'auth'
          ? t.authExpected
          : leg === 'token'
            ? tokenError(t.backCode, t.backStatus)
            : verifyError(t.backCode, t.backStatus),
    });
  }
}

const SUCCESS_ANSWERS: [string, Leg, Spec, Expected][] = [
  [
    '200 without access_token',
    'token',
    { status: 200, body: { token_type: 'Bearer' } },
    tokenError('invalid_token_response', 200),
  ],
  [
    '200 access_token ""',
    'token',
    { status: 200, body: { access_token: '' } },
    tokenError('invalid_token_response', 200),
  ],
  [
    '200 access_token 42',
    'token',
    { status: 200, body: { access_token: 42 } },
    tokenError('invalid_token_response', 200),
  ],
  [
    '200 form-encoded',
    'token',
    {
      status: 200,
      body: 'access_token=abcdefghijklmnop',
      contentType: 'application/x-www-form-urlencoded',
    },
    tokenError('invalid_token_response', 200),
  ],
  [
    '200 JSON as text/plain',
    'token',
    {
      status: 200,
      body: JSON.stringify({ access_token: 'abcdefghijklmnop' }),
      contentType: 'text/plain',
    },
    tokenError('invalid_token_response', 200),
  ],
  ['200 invalid JSON', 'token', { malformedJson: true }, tokenError('invalid_token_response', 200)],
  ['200 2 MiB', 'token', { oversizedBytes: TWO_MIB }, tokenError('response_too_large', 200)],
  [
    '200 HTML',
    'token',
    { status: 200, body: HTML, contentType: 'text/html' },
    tokenError('invalid_token_response', 200),
  ],
  [
    '200 verified "true"',
    'verify',
    { status: 200, body: { devicePhoneNumberVerified: 'true' } },
    verifyError('invalid_verify_response', 200),
  ],
  [
    '200 verified false',
    'verify',
    { status: 200, body: { devicePhoneNumberVerified: false } },
    { kind: 'fail', code: 'not_verified', status: 401 },
  ],
  [
    '200 empty object',
    'verify',
    { status: 200, body: {} },
    verifyError('invalid_verify_response', 200),
  ],
  [
    '200 invalid JSON',
    'verify',
    { malformedJson: true },
    verifyError('invalid_verify_response', 200),
  ],
  ['200 2 MiB', 'verify', { oversizedBytes: TWO_MIB }, verifyError('response_too_large', 200)],
  [
    '403 not on the mobile network',
    'verify',
    { status: 403, body: { status: 403, code: NOT_ON_MOBILE_NETWORK, message: 'Wi-Fi' } },
    { kind: 'fail', code: 'not_on_mobile_network', status: 403 },
  ],
  [
    '401 not on the mobile network',
    'verify',
    { status: 401, body: { status: 401, code: NOT_ON_MOBILE_NETWORK, message: 'x' } },
    verifyError(NOT_ON_MOBILE_NETWORK, 401),
  ],
  [
    '400 invalid_grant as text/plain',
    'token',
    { status: 400, body: '{"error":"invalid_grant"}', contentType: 'text/plain' },
    tokenError('token_request_failed', 400),
  ],
  [
    `400 error of 300 characters`,
    'token',
    { status: 400, body: { error: 'e'.repeat(300) } },
    tokenError(`${'e'.repeat(255)}…`, 400),
  ],
];
for (const [row, leg, fault, expected] of SUCCESS_ANSWERS) {
  cells.push({ table: 'odd answers', row, column: leg, leg, fault, expected });
}

/** What the strategy did, in the same shape as {@link Expected}. */
function observed(record: RecordedRequest | undefined, operator?: string): Expected {
  if (record === undefined) return { kind: 'no callback', operator: operator ?? '?' };
  const [first] = record.actions;
  if (record.actions.length !== 1 || first === undefined) {
    throw new Error(`${record.actions.length} actions for ${record.url}`);
  }
  if (first.action === 'success') return { kind: 'success' };
  if (first.action === 'fail') {
    const info = first.args[0] as { code?: string } | undefined;
    return { kind: 'fail', code: String(info?.code), status: Number(first.args[1]) };
  }
  if (first.action === 'error') {
    const err = first.args[0];
    const known = [TokenError, VerificationError, AuthorizationError].find((c) => err instanceof c);
    const e = err as { code?: string; status?: number };
    return {
      kind: 'error',
      errorClass: known?.name ?? String(err),
      code: String(e.code),
      status: e.status,
    };
  }
  throw new Error(`unexpected ${first.action} for ${record.url}`);
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const results = new Map<Cell, { outcome: Expected; elapsedMs: number }>();
const watcher = watchProcess();

describe(`fault matrix (${cells.length} cells, timeout ${TIMEOUT} ms)`, () => {
  const harnesses = new Map<string, HostileHarness>();
  const callbacks = new Map<HostileHarness, number>();

  async function harnessFor(cell: Cell): Promise<HostileHarness> {
    const key = cell.refused ?? 'main';
    let h = harnesses.get(key);
    if (h === undefined) {
      const strategy: Partial<StrategyOptions> = { timeout: TIMEOUT };
      if (cell.refused !== undefined)
        strategy[cell.refused] = `http://127.0.0.1:${await closedPort()}/refused`;
      const started = await startHostileApp({ strategy });
      started.server.on('request', (req: { url?: string }) => {
        if (req.url?.startsWith('/auth/callback'))
          callbacks.set(started, (callbacks.get(started) ?? 0) + 1);
      });
      harnesses.set(key, started);
      h = started;
    }
    return h;
  }

  beforeAll(async () => {
    await harnessFor({
      table: '',
      row: '',
      column: '',
      leg: 'auth',
      expected: { kind: 'success' },
    });
  });

  afterAll(async () => {
    watcher.stop();
    await Promise.all([...harnesses.values()].map((h) => h.close()));
    console.log(renderMatrix());
    expect(watcher.unhandled).toEqual([]);
  });

  it.each(cells.map((cell) => [`${cell.table} | ${cell.row} | ${cell.column}`, cell] as const))(
    '%s',
    async (_, cell) => {
      const h = await harnessFor(cell);
      const fault =
        cell.fault === undefined
          ? undefined
          : h.sandbox.inject({ endpoint: cell.leg, ...cell.fault, times: 1 });
      const browser = h.browser();
      const authorizationURL = await h.start(VERIFIED, browser);
      const callbacksBefore = callbacks.get(h) ?? 0;
      const requestsBefore = h.requests.length;
      const started = performance.now();
      let outcome: Expected;
      let responseBody: string | undefined;
      let operator: string;
      // The browser at the operator, with its own patience: a page that never redirects must not hang.
      const atOperator = AbortSignal.timeout(DEADLINE + TIMEOUT);
      let location: string | undefined;
      try {
        const response = await request(authorizationURL, { signal: atOperator });
        await response.body.text();
        location =
          typeof response.headers.location === 'string' ? response.headers.location : undefined;
        operator = `page ${response.statusCode}`;
      } catch (err) {
        const code = (err as { code?: string }).code;
        operator = atOperator.aborted
          ? 'page trickling'
          : code === 'ECONNREFUSED'
            ? 'connection refused'
            : code === 'UND_ERR_SOCKET' && cell.fault?.reset === 'during-body'
              ? 'page cut off'
              : 'connection reset';
      }
      const callbackStarted = performance.now();
      if (location !== undefined && location.startsWith(h.callbackURL)) {
        h.secrets.addCallbackURL(location);
        const target = new URL(location);
        const response = await browser.get(`${target.pathname}${target.search}`);
        responseBody = response.text;
        outcome = observed(h.requests.at(-1));
      } else {
        outcome = observed(undefined, operator);
        // Nothing hangs: the app still answers, and never saw a callback for this flow.
        expect(callbacks.get(h) ?? 0).toBe(callbacksBefore);
        expect(
          (await browser.post('/login').type('form').send({ phoneNumber: VERIFIED })).status,
        ).toBe(302);
      }
      const elapsedMs =
        performance.now() - (outcome.kind === 'no callback' ? started : callbackStarted);
      results.set(cell, { outcome, elapsedMs });

      expect(outcome).toEqual(cell.expected);
      expect(elapsedMs).toBeLessThan(
        outcome.kind === 'no callback' ? DEADLINE + TIMEOUT + 250 : DEADLINE,
      );
      if (fault !== undefined) expect(fault.count).toBe(1);
      if (cell.refused !== undefined && cell.leg !== 'auth') {
        // The message says why, so an operator of the site can act on the log line.
        const error = h.requests.at(-1)?.actions[0]?.args[0];
        expect(String(error)).toMatch(/ECONNREFUSED/);
      }
      for (const record of h.requests.slice(requestsBefore)) {
        expect(record.actions).toHaveLength(1);
        expect(
          h.leaks(
            record,
            { responseBodies: responseBody === undefined ? [] : [responseBody] },
            { allowPhoneNumberIn: outcome.kind === 'success' ? ['responseBodies'] : [] },
          ),
        ).toEqual([]);
      }
      h.sandbox.clearFaults();
    },
  );

  it('leaves the app working: a clean login succeeds after every fault', async () => {
    const h = await harnessFor({
      table: '',
      row: '',
      column: '',
      leg: 'auth',
      expected: { kind: 'success' },
    });
    expect((await h.login(VERIFIED)).outcome).toBe('success');
  });

  it('is the matrix docs/reliability.md carries', () => {
    const docs = readFileSync(new URL('../../docs/reliability.md', import.meta.url), 'utf8');
    for (const table of matrixTables(cells)) {
      const rows = table.map((row) => normalizeRow(row));
      const docRows = docs
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .map(normalizeRow);
      for (const row of rows)
        expect(docRows, 'update docs/reliability.md from the printed matrix').toContain(row);
    }
  });
});

function renderMatrix(): string {
  const measured = [...results.values()];
  const slowest = Math.max(
    ...measured.filter((r) => r.outcome.kind !== 'no callback').map((r) => r.elapsedMs),
  );
  const failing = [...results].filter(
    ([cell, r]) => describeOutcome(cell.expected) !== describeOutcome(r.outcome),
  );
  return [
    `Fault matrix: ${results.size} cells run, ${failing.length} differing from the contract; slowest callback ${Math.round(slowest)} ms (bound ${DEADLINE} ms).`,
    ...failing.map(
      ([cell, r]) =>
        `  DIFFERS ${cell.table} | ${cell.row} | ${cell.column}: ${describeOutcome(r.outcome)}`,
    ),
    '',
    ...matrixTables(cells).map((table) => `${table.join('\n')}\n`),
  ].join('\n');
}
