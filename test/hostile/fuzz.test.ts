import fc from 'fast-check';
import type { Request } from 'express';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthorizationError, NumberVerificationStrategy } from '../../lib/index.js';
import type { PendingFlow } from '../../lib/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import { debugOutput, findLeaks } from '../helpers/secrets.js';
import {
  leaksOf,
  NOT_ON_MOBILE_NETWORK,
  NOT_VERIFIED,
  startHostileApp,
  VERIFIED,
  watchProcess,
  type ActionName,
  type HostileHarness,
  type RecordedRequest,
} from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

/**
 * Property-based fuzzing (issue #5 §2). `FUZZ_RUNS` runs per property: 2,000 in `npm test`,
 * 50,000 in `npm run test:fuzz`. Invariants, for every generated request:
 * - it ends in exactly one of redirect / fail / error (never `pass`, never two);
 * - `success` only when a stored, unexpired state of this browser was consumed and the operator
 *   answered `true` — the expected outcome is computed from the contract for every query;
 * - no unhandled rejection or uncaught exception in the process;
 * - no secret (token, JWT, code, private key, full number outside success) in any outcome.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const TEST_TIMEOUT = Math.max(120_000, RUNS * 40);

const watcher = watchProcess();
afterAll(() => {
  watcher.stop();
  expect(watcher.unhandled).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// The contract's own reading of inputs, written from issue #2 (not imported from lib/).

/** RFC 6749 §4.1.2.1: error = 1*( %x20-21 / %x23-5B / %x5D-7E ). */
const OAUTH_ERROR_CHARSET = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;
const SEPARATORS = /[\s\p{Pd}\u2212.()]/gu;
/** The normalised E.164 number a phone input stands for, or undefined when it must fail. */
function contractNumber(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  // Issue 9: a `(0)` right after the `+` and a country code of 1 to 3 digits is dropped.
  const compact = input
    .trim()
    .replace(/^(\+[\s\p{Pd}\u2212.]*(?:\d[\s\p{Pd}\u2212.]*){1,3})\(\s*0\s*\)/u, '$1')
    .replace(SEPARATORS, '');
  return /^\+[1-9][0-9]{4,14}$/.test(compact) ? compact : undefined;
}

/** A parameter counts only as a single non-empty string. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = Object.hasOwn(query, name) ? query[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const isCallbackQuery = (query: Record<string, unknown>): boolean =>
  ['code', 'error', 'state'].some((name) => Object.hasOwn(query, name));

// ---------------------------------------------------------------------------------------------
// Inputs: phone values of every shape, serialised for Express's extended (qs) parser.

type Tree = string | Tree[] | { [key: string]: Tree };

const phoneLike = fc
  .array(
    fc.constantFrom(
      '+',
      '+',
      '9',
      '9',
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      ' ',
      '-',
      '(',
      ')',
      '.',
      '\u00a0',
      '\t',
      '\u2013',
      '\u2212',
      '\u0663',
      '\uff11',
      'a',
      '#',
      '%',
      '\u202e',
      '\n',
      '\u0000',
    ),
    { maxLength: 24 },
  )
  .map((chars) => chars.join(''));

/** A number as people type it: digits with separators, sometimes one digit or `+` too many or few. */
const typedNumber = fc
  .tuple(
    fc.constantFrom('+', '+', '+', '', '00', '++'),
    fc.array(
      fc.tuple(
        fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
        fc.constantFrom('', '', '', ' ', '-', '.', '(', ')', '\u00a0', '\u2013', '\t'),
      ),
      { minLength: 3, maxLength: 17 },
    ),
  )
  .map(([prefix, digits]) => `${prefix}${digits.map(([d, sep]) => `${d}${sep}`).join('')}`);

const phoneString = fc.oneof(
  { weight: 8, arbitrary: typedNumber },
  { weight: 4, arbitrary: phoneLike },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      VERIFIED,
      '+990 (1234) 56-78',
      '+990\u00a012345678',
      '+44 7700\u2013900001',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  // 100 KB values: a long number, a long run of separators around a valid number, noise.
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `+${'9'.repeat(100_000)}`,
      `${' '.repeat(100_000)}${VERIFIED}`,
      `${VERIFIED}${'-'.repeat(100_000)}`,
      'x'.repeat(100_000),
    ),
  },
);

const key = fc.oneof(
  fc.constantFrom(
    'a',
    '0',
    '1',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '',
  ),
  fc.string({ maxLength: 6 }),
);

const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    phoneString,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
  ),
}));

/** `name=value` pairs in qs bracket notation: `phoneNumber[a][0]=x`. */
function pairs(name: string, value: Tree): [string, string][] {
  if (typeof value === 'string') return [[name, value]];
  if (Array.isArray(value)) return value.flatMap((item) => pairs(`${name}[]`, item));
  return Object.entries(value).flatMap(([k, v]) => pairs(`${name}[${k}]`, v));
}

const encode = (list: [string, string][]): string =>
  list.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');

const firstLegInput = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  phone: fc.option(
    fc.oneof({ weight: 3, arbitrary: phoneString }, { weight: 2, arbitrary: tree }),
    {
      nil: undefined,
      freq: 8,
    },
  ),
  /** Repeat the phone field (a second value makes it an array). */
  repeat: fc.option(phoneString, { nil: undefined, freq: 6 }),
  extra: fc.array(
    fc.tuple(
      key.filter((k) => !['code', 'state', 'error'].includes(k)),
      phoneString,
    ),
    {
      maxLength: 3,
    },
  ),
  raw: fc.option(
    fc.constantFrom(
      'phoneNumber',
      'phoneNumber[',
      'phoneNumber]=1',
      '&&=&',
      '%',
      '%zz',
      'phoneNumber=%E0%A4%A',
    ),
    { nil: undefined, freq: 8 },
  ),
});

describe('fuzzing over real HTTP (one app, extended query parsing)', () => {
  let h: HostileHarness;
  let client: Pool;
  let cookie = '';

  beforeAll(async () => {
    h = await startHostileApp(
      {
        queryParser: 'extended',
        urlencoded: { extended: true, limit: '1mb', parameterLimit: 10_000 },
      },
      { learnCodesFromRequests: false },
    );
    client = new Pool(h.baseURL, { connections: 4 });
    // One session for every run: the pending-flow cap keeps it small however many runs there are.
    const first = await h.browser().post('/login').type('form').send({ phoneNumber: VERIFIED });
    const cookies = first.headers['set-cookie'] as unknown as string[];
    cookie = cookies[0]?.split(';', 1)[0] ?? '';
  });
  afterAll(async () => {
    await client.close();
    await h.close();
  });
  const tally = new Map<string, number>();
  const count = (what: string): void => {
    tally.set(what, (tally.get(what) ?? 0) + 1);
  };
  afterAll(() => {
    console.log(
      `fuzz over HTTP (${RUNS} runs per property): ${JSON.stringify(Object.fromEntries(tally))}`,
    );
  });

  async function send(method: 'GET' | 'POST', path: string, body?: string, withCookie = cookie) {
    const served = h.requests.length;
    const response = await client.request({
      method,
      path,
      headers: {
        cookie: withCookie,
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.body.text();
    const location = response.headers.location;
    return {
      status: response.statusCode,
      text,
      location: typeof location === 'string' ? location : undefined,
      record: h.requests[served],
    };
  }

  /** The one action the strategy took, checked to be exactly one and leak-free. */
  function onlyAction(
    record: RecordedRequest | undefined,
    responseBody: string,
    success = false,
  ): { action: ActionName; args: unknown[] } {
    expect(record).toBeDefined();
    const actions = record?.actions ?? [];
    expect(actions).toHaveLength(1);
    const leaks =
      record === undefined
        ? []
        : leaksOf(
            record,
            h.secrets,
            { responseBodies: [responseBody] },
            { allowPhoneNumberIn: success ? ['responseBodies'] : [] },
          );
    expect(leaks).toEqual([]);
    return actions[0] as { action: ActionName; args: unknown[] };
  }

  it(
    `first leg: any phone input ends in one redirect or one invalid_phone_number fail (${RUNS} runs)`,
    async () => {
      const authorizationURL = h.sandbox.endpoints.authorizationURL;
      await fc.assert(
        fc.asyncProperty(firstLegInput, async (input) => {
          const list: [string, string][] = [
            ...(input.phone === undefined ? [] : pairs('phoneNumber', input.phone)),
            ...(input.repeat === undefined ? [] : pairs('phoneNumber', input.repeat)),
            ...input.extra.map(([k, v]) => [k, v] as [string, string]),
          ];
          const encoded = [encode(list), input.raw].filter((part) => part).join('&');
          const response =
            input.method === 'GET' && encoded.length < 8_000
              ? await send('GET', `/login?${encoded}`)
              : await send('POST', '/login', encoded);
          if (response.record === undefined) {
            // Express refused the request before the strategy (e.g. qs depth): a 4xx, never a 5xx.
            count(`first leg: refused by Express ${response.status}`);
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
            return;
          }
          const query = response.record?.query as Record<string, unknown>;
          if (response.record !== undefined && isCallbackQuery(query)) return; // a key decoded to code/state/error
          const { action, args } = onlyAction(response.record, response.text);
          expect(['redirect', 'fail']).toContain(action);
          count(`first leg: ${action}`);
          // The phone value the strategy received: the body's field, else the query's.
          const body = response.record?.body;
          const received =
            body !== null && typeof body === 'object' && Object.hasOwn(body, 'phoneNumber')
              ? (body as Record<string, unknown>).phoneNumber
              : Object.hasOwn(query, 'phoneNumber')
                ? query.phoneNumber
                : undefined;
          if (action === 'redirect') {
            const location = new URL(String(args[0]));
            expect(location.href.startsWith(authorizationURL)).toBe(true);
            // The number sent is exactly the contract's normalisation of the string received.
            expect(location.searchParams.get('login_hint')).toBe(`tel:${contractNumber(received)}`);
            expect(location.searchParams.get('state')).toMatch(/^[\w-]{22,}$/);
          } else {
            expect(args).toEqual([
              { code: 'invalid_phone_number', message: expect.any(String) },
              400,
            ]);
            // Only what the contract refuses fails (and strings too long to be a typed number).
            if (typeof received === 'string' && received.length <= 64) {
              expect(contractNumber(received)).toBeUndefined();
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
    TEST_TIMEOUT,
  );

  /** What a callback parameter is set to, resolved against the browser's real flows at run time. */
  type Symbolic =
    | 'live state'
    | 'used state'
    | 'foreign state'
    | 'live code'
    | 'used code'
    | 'access_denied'
    | { text: string };
  const symbolic: fc.Arbitrary<Symbolic> = fc.oneof(
    fc.constantFrom<Symbolic>(
      'live state',
      'live state',
      'used state',
      'foreign state',
      'live code',
      'live code',
      'used code',
      'access_denied',
    ),
    fc.string({ maxLength: 12 }).map((text) => ({ text })),
    fc.string({ unit: 'binary', minLength: 250, maxLength: 300 }).map((text) => ({ text })),
  );
  const paramName = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('code', 'state', 'error', 'error_description') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('code[]', 'state[]', 'state[a]', 'error[0]', 'code[__proto__]'),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'phoneNumber',
        'redirect_uri',
        'login_hint',
        'iss',
        '__proto__[state]',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );
  const callbackInput = fc.record({
    // Most runs start from a real callback (the operator's answer) and then mangle it.
    base: fc.constantFrom<[string, Symbolic][][]>(
      [
        ['state', 'live state'],
        ['code', 'live code'],
      ],
      [
        ['code', 'live code'],
        ['state', 'live state'],
      ],
      [
        ['state', 'live state'],
        ['error', 'access_denied'],
      ],
      [
        ['state', 'live state'],
        ['error', { text: 'server_error' }],
        ['error_description', { text: 'down' }],
      ],
      [['state', 'live state']],
      [],
    ),
    params: fc.array(fc.tuple(paramName, symbolic), { maxLength: 5 }),
    shuffle: fc.boolean(),
    number: fc.constantFrom(VERIFIED, VERIFIED, NOT_VERIFIED, NOT_ON_MOBILE_NETWORK),
    // Send the request without the browser's cookie (a replay from elsewhere).
    cookieless: fc.nat(9).map((n) => n === 0),
  });

  it(
    `callback: any combination of code, state, error, error_description and unknown params (${RUNS} runs)`,
    async () => {
      const other = h.browser();
      const foreign = await h.followOperator(await h.start(VERIFIED, other));
      h.secrets.addCallbackURL(foreign);
      const foreignState = foreign.searchParams.get('state') ?? '';
      let live: { state: string; code: string; number: string } | undefined;
      const usedStates: string[] = [];
      const usedCodes: string[] = [];
      let successes = 0;

      await fc.assert(
        fc.asyncProperty(callbackInput, async (input) => {
          if (live === undefined || live.number !== input.number) {
            // A fresh flow of this browser (an unconsumed older one stays pending: it is harmless).
            const response = await send(
              'POST',
              '/login',
              `phoneNumber=${encodeURIComponent(input.number)}`,
            );
            const callbackURL = await h.followOperator(new URL(response.location ?? ''));
            h.secrets.addCallbackURL(callbackURL);
            live = {
              state: callbackURL.searchParams.get('state') ?? '',
              code: callbackURL.searchParams.get('code') ?? '',
              number: input.number,
            };
          }
          const current = live;
          const resolve = (value: Symbolic): string => {
            if (typeof value === 'object') return value.text;
            if (value === 'live state') return current.state;
            if (value === 'used state') return usedStates.at(-1) ?? 'never-issued-state-value';
            if (value === 'foreign state') return foreignState;
            if (value === 'live code') return current.code;
            if (value === 'used code') return usedCodes.at(-1) ?? 'never-issued-code-value';
            return value;
          };
          // The code is a secret: never put it where the operator's free text goes.
          const chosen = [...input.base, ...input.params];
          if (input.shuffle) chosen.reverse();
          const params = chosen.map(([name, value]): [string, string] => [
            name,
            /^error/.test(name) && (value === 'live code' || value === 'used code')
              ? 'x'
              : resolve(value),
          ]);
          const response = await send(
            'GET',
            `/auth/callback?${encode(params)}`,
            undefined,
            input.cookieless ? '' : cookie,
          );
          if (response.record === undefined) {
            // Node refused the request line before Express (431: URL over 16 KiB): a 4xx, no flow used.
            count(`callback: refused by Node ${response.status}`);
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
            return;
          }
          const query = response.record.query as Record<string, unknown>;

          // The contract's expected outcome, from the query as the strategy received it.
          const state = single(query, 'state');
          const error = single(query, 'error');
          const code = single(query, 'code');
          const consumes = !input.cookieless && state === current.state;
          let expected: { action: ActionName; code?: string; status?: number };
          if (!isCallbackQuery(query) && !Object.hasOwn(query, 'phoneNumber')) {
            // The callback URL without code, error, state or a number: a callback that lost its state.
            expected = { action: 'fail', code: 'invalid_state', status: 403 };
          } else if (!isCallbackQuery(query)) {
            const number = contractNumber(query.phoneNumber);
            expected =
              number === undefined
                ? { action: 'fail', code: 'invalid_phone_number', status: 400 }
                : { action: 'redirect' };
          } else if (!consumes) expected = { action: 'fail', code: 'invalid_state', status: 403 };
          else if (error === 'access_denied')
            expected = { action: 'fail', code: 'access_denied', status: 403 };
          else if (error !== undefined)
            // RFC 6749 §4.1.2.1: an error outside its charset is malformed (issue 9).
            expected = {
              action: 'error',
              code: OAUTH_ERROR_CHARSET.test(error) ? error : 'invalid_request',
            };
          else if (code === undefined) expected = { action: 'error', code: 'invalid_request' };
          else if (code !== current.code)
            expected = { action: 'fail', code: 'invalid_grant', status: 403 };
          else if (current.number === NOT_VERIFIED)
            expected = { action: 'fail', code: 'not_verified', status: 401 };
          else if (current.number === NOT_ON_MOBILE_NETWORK)
            expected = { action: 'fail', code: 'not_on_mobile_network', status: 403 };
          else expected = { action: 'success' };

          const { action, args } = onlyAction(
            response.record,
            response.text,
            expected.action === 'success',
          );
          expect({ action, info: action === 'fail' ? args[0] : undefined }).toMatchObject({
            action: expected.action,
          });
          const known =
            action !== 'error' || ['invalid_request', 'server_error'].includes(expected.code ?? '');
          count(
            `callback: ${[action, known ? expected.code : '(an OAuth error from the query)'].filter(Boolean).join(' ')}`,
          );
          if (action === 'fail') {
            expect(args[0]).toMatchObject({ code: expected.code, message: expect.any(String) });
            expect(args[1]).toBe(expected.status);
          } else if (action === 'error') {
            const err = args[0];
            expect(err).toBeInstanceOf(AuthorizationError);
            const errCode = (err as AuthorizationError).code;
            expect(errCode.length).toBeLessThanOrEqual(256);
            expect(expected.code?.startsWith(errCode.replace(/…$/, ''))).toBe(true);
          } else {
            successes += 1;
            expect(args[1]).toMatchObject({ phoneNumber: VERIFIED });
          }
          if (consumes) {
            usedStates.push(current.state);
            // Exchanged only when no error decided first; an unexchanged code is never reused.
            if (error === undefined && code === current.code) usedCodes.push(current.code);
            live = undefined;
          }
        }),
        // The world (live flows, used codes) changes with each run: shrinking would replay
        // inputs against another world, so the first failure is reported as it happened.
        { numRuns: RUNS, endOnFailure: true },
      );
      // The generator reaches the success path (so the invariant is not vacuous).
      expect(successes).toBeGreaterThan(RUNS / 100);
    },
    TEST_TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// Raw requests: `authenticate` on request objects no HTTP parser would produce.

describe('fuzzing authenticate with raw request objects', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp({}, { learnCodesFromRequests: false });
    // The one code-like value the generator only ever puts into `code`: it must never surface.
    h.secrets.add('code', CODE_LIKE);
  });
  afterAll(() => h.close());

  const KNOWN_STATE = 'k'.repeat(43);
  const CODE_LIKE = 'code-0123456789abcdef';
  const EXPIRED_STATE = 'e'.repeat(43);

  const hostileValue = fc.anything({
    maxDepth: 3,
    withNullPrototype: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withBigInt: true,
    withDate: true,
    withUnicodeString: true,
    key: fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(
        'code',
        'state',
        'error',
        'error_description',
        'phoneNumber',
        '__proto__',
        'constructor',
      ),
    ),
  });
  const callbackValue = fc.oneof(
    fc.constantFrom(KNOWN_STATE, EXPIRED_STATE, 'access_denied', '', 'server_error'),
    fc.string({ maxLength: 10 }),
    hostileValue,
  );
  // A code-like value: recorded as a secret once it reaches the token endpoint, so it only ever
  // goes into `code` (the operator's free text in `error` is echoed into errors by design).
  const codeValue = fc.oneof(fc.constant(CODE_LIKE), callbackValue);
  const query = fc.oneof(
    fc.record(
      {
        state: fc.constantFrom(KNOWN_STATE, EXPIRED_STATE),
        code: codeValue,
        error: callbackValue,
      },
      { requiredKeys: ['state'] },
    ),
    hostileValue,
    fc.record(
      {
        code: codeValue,
        state: callbackValue,
        error: callbackValue,
        error_description: callbackValue,
        phoneNumber: callbackValue,
        x: callbackValue,
      },
      { requiredKeys: [] },
    ),
    fc.constant(
      new Proxy(
        {},
        {
          getOwnPropertyDescriptor() {
            throw new Error('hostile query');
          },
        },
      ),
    ),
  );
  type SessionKind = 'none' | 'store' | 'failing store' | { value: unknown };
  const session: fc.Arbitrary<SessionKind> = fc.oneof(
    fc.constant('none'),
    fc.constant('store'),
    fc.constant('failing store'),
    hostileValue.map((value) => ({ value })),
  );
  const rawInput = fc.record({
    query: fc.option(query, { nil: undefined }),
    body: fc.option(hostileValue, { nil: undefined }),
    url: fc.oneof(
      fc.constant('/auth/callback'),
      fc.string({ maxLength: 20 }).map((s) => `/x?${s}`),
    ),
    session,
    options: fc.option(
      fc.record(
        {
          phoneNumber: fc.option(fc.oneof(fc.string({ maxLength: 20 }), hostileValue), {
            nil: undefined,
          }),
          state: fc.option(hostileValue, { nil: undefined }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  });

  function sessionFor(kind: SessionKind): unknown {
    if (kind === 'none') return undefined;
    const now = Date.now();
    const flow = (state: string, expiresAt: number): PendingFlow => ({
      state,
      strategy: h.strategy.name,
      phoneNumber: VERIFIED,
      callbackURL: h.callbackURL,
      expiresAt,
    });
    const flows = {
      [KNOWN_STATE]: flow(KNOWN_STATE, now + 60_000),
      [EXPIRED_STATE]: flow(EXPIRED_STATE, now - 1),
    };
    if (kind === 'store')
      return { 'passport-number-verification': flows, save: (cb: (err?: unknown) => void) => cb() };
    if (kind === 'failing store') {
      return {
        'passport-number-verification': flows,
        save: (cb: (err?: unknown) => void) => cb(new Error('store down')),
      };
    }
    return kind.value;
  }

  it(
    `ends every raw request in exactly one action, never success (${RUNS} runs)`,
    async () => {
      const strategy = h.strategy as NumberVerificationStrategy;
      await fc.assert(
        fc.asyncProperty(rawInput, async (input) => {
          const actions: { action: ActionName; args: unknown[] }[] = [];
          const debugStart = debugOutput.length;
          let resolveFirst: () => void = () => undefined;
          const first = new Promise<void>((resolve) => {
            resolveFirst = resolve;
          });
          // What Passport does for each request: a per-request copy carrying the actions.
          const perRequest = Object.create(strategy) as NumberVerificationStrategy;
          for (const name of ['success', 'fail', 'redirect', 'pass', 'error'] as const) {
            (perRequest as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
              actions.push({ action: name, args });
              resolveFirst();
            };
          }
          const req = {
            query: input.query,
            body: input.body,
            url: input.url,
            method: 'GET',
            headers: {},
            session: sessionFor(input.session),
          } as unknown as Request;
          perRequest.authenticate(req, input.options as never);
          await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 2_000))]);
          await new Promise((resolve) => setImmediate(resolve));
          expect(actions.map((a) => a.action)).toHaveLength(1);
          const [only] = actions;
          expect(only?.action).not.toBe('success');
          expect(only?.action).not.toBe('pass');
          if (only?.action === 'fail')
            expect(only.args[0]).toMatchObject({
              code: expect.any(String),
              message: expect.any(String),
            });
          const record: RecordedRequest = {
            url: input.url,
            query: input.query,
            actions: actions,
            debugStart,
            debugEnd: debugOutput.length,
          };
          expect(leaksOf(record, h.secrets)).toEqual([]);
          if (only?.action === 'error')
            expect(findLeaks({ error: only.args[0] }, h.secrets)).toEqual([]);
        }),
        { numRuns: RUNS },
      );
      // The runs reached the token endpoint (a known state with a code), so the JWT was scanned for.
      expect(h.secrets.count('JWT')).toBeGreaterThan(0);
      expect(testKeyPair().privateKeyPem).toContain('PRIVATE KEY');
    },
    TEST_TIMEOUT,
  );
});
