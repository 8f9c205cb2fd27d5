import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testKeyPair } from '../helpers/login-app.js';
import { debugOutput, findLeaks, SecretRecorder } from '../helpers/secrets.js';
import { startVerifyApp, type Step, type VerifyHarness } from '../helpers/verify-app.js';
import { watchProcess } from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

/**
 * Property-based fuzzing of the Verify v2 legs (issue #12): the first leg (Verify start) and the
 * callback POST (the fragment post and the code form), over real HTTP with qs body parsing.
 * FUZZ_RUNS runs per property (2,000 in `npm test`, 50,000 in `npm run test:fuzz`), capped at
 * 20,000 for the first leg and 10,000 for the callback POST without a flow (each case costs a
 * session); a fiftieth (at least 50) for the property that runs a whole silent leg per case. Invariants: exactly one outcome,
 * computed from the contract; no unhandled rejection; no secret in any outcome or debug line.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
/** Each case costs a session (and a first leg a Verify request): capped for CI's time budget. */
const FIRST_LEG_RUNS = Math.min(RUNS, 20_000);
const CALLBACK_RUNS = Math.min(RUNS, 10_000);
/** A whole silent leg per case (start, check_url, callback). */
const FLOW_RUNS = Math.max(50, Math.floor(RUNS / 50));
const TEST_TIMEOUT = Math.max(120_000, RUNS * 40);

type Tree = string | Tree[] | { [key: string]: Tree };

const noise = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom('', '0000', '1234', '__proto__', 'silent_auth', '../x', '%00', 'a'.repeat(300)),
);
const key = fc.oneof(
  fc.constantFrom('a', '0', '__proto__', 'constructor', 'toString', ''),
  fc.string({ maxLength: 5 }),
);
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    noise,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 3 }),
  ),
}));

function pairs(name: string, value: Tree): [string, string][] {
  if (typeof value === 'string') return [[name, value]];
  if (Array.isArray(value)) return value.flatMap((item) => pairs(`${name}[]`, item));
  return Object.entries(value).flatMap(([k, v]) => pairs(`${name}[${k}]`, v));
}
const encode = (list: [string, string][]): string =>
  list.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');

/** The contract's reading of a number (issue #2): E.164 after dropping separators. */
function contractNumber(input: Tree | undefined): string | undefined {
  if (typeof input !== 'string') return undefined;
  const compact = input.replace(/[\s\p{Pd}\u2212.()]/gu, '');
  return /^\+[1-9][0-9]{4,14}$/.test(compact) ? compact : undefined;
}

function kind(step: Step): string {
  if (step.status === 302) return 'redirect';
  return step.outcome?.outcome ?? `HTTP ${step.status}`;
}

const watcher = watchProcess();
let h: VerifyHarness;
const recorder = new SecretRecorder({ privateKeyPem: testKeyPair().privateKeyPem });

beforeAll(async () => {
  h = await startVerifyApp({ extendedBody: true, strategy: { dispatcher: recorder.dispatcher } });
});
afterAll(async () => {
  watcher.stop();
  await h.close();
  expect(watcher.unhandled).toEqual([]);
});

function expectClean(step: Step, allowPhone: boolean): void {
  const leaks = findLeaks(
    { info: step.outcome?.info, error: step.outcome?.error, responseBodies: [step.text] },
    recorder,
    { allowPhoneNumberIn: allowPhone ? ['info', 'responseBodies', 'locations'] : [] },
  ).filter((leak) => leak.kind !== 'phone number' || !allowPhone);
  expect(leaks).toEqual([]);
}

describe(`Verify v2 fuzzing (${RUNS} runs per property)`, () => {
  it(
    'first leg: any phone value → redirect to check_url, or invalid_phone_number, or in progress',
    async () => {
      let seq = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(tree, fc.constantFrom('+9904', '+990 4', '+990-4')),
          fc.array(fc.tuple(key, tree), { maxLength: 2 }),
          async (phone, extra) => {
            seq += 1;
            // A unique valid number now and then, so that starts really reach Verify.
            const value =
              typeof phone === 'string' && phone.startsWith('+990') && phone.length <= 6
                ? `${phone}${String(seq).padStart(7, '0')}`
                : phone;
            const body = encode([
              ...pairs('phoneNumber', value),
              ...extra
                .filter(([k]) => k !== 'phoneNumber' && !k.startsWith('phoneNumber['))
                .flatMap(([k, v]) => pairs(k, v)),
            ]);
            const step = await h.post(body, h.browser());
            const wanted = contractNumber(value);
            if (pairs('phoneNumber', value).length === 0) {
              // No phoneNumber field at all: not a first leg but a callback POST without a flow.
              expect(step.outcome?.info?.code).toBe('invalid_state');
            } else if (wanted === undefined) {
              expect(step.outcome?.info?.code).toBe('invalid_phone_number');
            } else {
              expect(['redirect', 'fail']).toContain(kind(step));
              if (kind(step) === 'redirect') {
                expect(step.location).toMatch(
                  /\/v2\/verify\/[0-9a-f-]{36}\/silent-auth\/redirect$/,
                );
              } else {
                expect(step.outcome?.info?.code).toBe('verification_in_progress');
              }
            }
            expectClean(step, false);
          },
        ),
        { numRuns: FIRST_LEG_RUNS },
      );
    },
    TEST_TIMEOUT,
  );

  it(
    'callback POST without a flow of this browser: always invalid_state',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.constantFrom('state', 'request_id', 'code', 'error', 'error_description', 'x'),
            tree,
            { maxKeys: 5 },
          ),
          async (fields) => {
            const body = encode(Object.entries(fields).flatMap(([k, v]) => pairs(k, v)));
            const step = await h.post(body, h.browser());
            expect(step.outcome).toMatchObject({
              outcome: 'fail',
              info: { code: 'invalid_state' },
            });
            expectClean(step, false);
          },
        ),
        { numRuns: CALLBACK_RUNS },
      );
    },
    TEST_TIMEOUT,
  );

  it(
    'fragment post: success only for the exact state, request id and code of this flow',
    async () => {
      let seq = 0;
      const mark = debugOutput.length;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            state: fc.oneof(fc.constant('real'), tree),
            requestId: fc.oneof(fc.constant('real'), tree),
            code: fc.oneof(fc.constant('real'), tree),
            error: fc.option(tree, { nil: undefined, freq: 4 }),
          }),
          async (mutation) => {
            seq += 1;
            const phoneNumber = `+9904${String(seq).padStart(7, '0')}2`;
            const browser = h.browser();
            const first = await h.start({ phoneNumber }, browser);
            const redirect = await h.openCheckURL(first.location as string);
            const real = {
              state: redirect.searchParams.get('state') ?? '',
              requestId: new URLSearchParams(redirect.hash.slice(1)).get('request_id') ?? '',
              code: new URLSearchParams(redirect.hash.slice(1)).get('code') ?? '',
            };
            recorder.add('code', real.code);
            const value = (k: 'state' | 'requestId' | 'code'): Tree =>
              mutation[k] === 'real' ? real[k] : mutation[k];
            const list: [string, string][] = [
              ...pairs('state', value('state')),
              ...pairs('request_id', value('requestId')),
              ...pairs('code', value('code')),
              ...(mutation.error === undefined ? [] : pairs('error', mutation.error)),
            ];
            const step = await h.post(encode(list), browser);
            const exact =
              value('state') === real.state &&
              value('requestId') === real.requestId &&
              value('code') === real.code &&
              // qs turns anything but a plain `error=x` into an array or object: not an error.
              !(typeof mutation.error === 'string' && mutation.error !== '');
            if (exact) {
              expect(step.outcome).toMatchObject({ outcome: 'success', user: { id: phoneNumber } });
            } else {
              expect(step.outcome?.outcome).toBe('fail');
              expect(['invalid_state', 'code_required']).toContain(step.outcome?.info?.code);
            }
            expectClean(step, exact);
          },
        ),
        { numRuns: FLOW_RUNS },
      );
      expect(
        findLeaks({ debugOutput: debugOutput.slice(mark) }, recorder).filter(
          (leak) => leak.kind !== 'phone number',
        ),
      ).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});
