import { setTimeout as sleep } from 'node:timers/promises';
import type { NumberVerificationStrategy } from '../../lib/index.js';
import {
  startLoginApp,
  testKeyPair,
  type LoginAppOptions,
  type LoginHarness,
} from '../helpers/login-app.js';
import {
  debugOutput,
  findLeaks,
  SecretRecorder,
  type Leak,
  type ScanOptions,
  type ScanTarget,
} from '../helpers/secrets.js';

export const VERIFIED = '+99012345678';
export const NOT_VERIFIED = '+99012345677';
export const NOT_ON_MOBILE_NETWORK = '+99011111199';
export const TEST_NUMBERS = [VERIFIED, NOT_VERIFIED, NOT_ON_MOBILE_NETWORK];

export type ActionName = 'success' | 'fail' | 'redirect' | 'pass' | 'error';
const ACTIONS: readonly ActionName[] = ['success', 'fail', 'redirect', 'pass', 'error'];

export interface RecordedAction {
  action: ActionName;
  args: unknown[];
}

/** One `authenticate` call: the request it served and every action the strategy took for it. */
export interface RecordedRequest {
  url: string;
  /** `req.query` as the strategy saw it (after Express's query parser). */
  query: unknown;
  /** `req.body` as the strategy saw it. */
  body?: unknown;
  actions: RecordedAction[];
  /** `debugOutput` lines from `debugStart` to `debugEnd` were written while the request ran. */
  debugStart: number;
  debugEnd: number;
}

/**
 * Records, for every request the strategy serves, the actions it calls (Passport binds them onto a
 * per-request `Object.create(strategy)`, so a wrapper on the instance sees them all, with the real
 * error objects and info).
 */
export function recordActions(strategy: NumberVerificationStrategy): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  const authenticate = strategy.authenticate;
  strategy.authenticate = function recordingAuthenticate(
    this: NumberVerificationStrategy,
    req,
    options,
  ) {
    const record: RecordedRequest = {
      url: req.originalUrl ?? req.url,
      query: req.query,
      body: req.body as unknown,
      actions: [],
      debugStart: debugOutput.length,
      debugEnd: debugOutput.length,
    };
    requests.push(record);
    const actions = this as unknown as Record<ActionName, (...args: unknown[]) => void>;
    for (const name of ACTIONS) {
      const passportAction = actions[name];
      actions[name] = (...args: unknown[]) => {
        record.actions.push({ action: name, args });
        record.debugEnd = debugOutput.length;
        passportAction.apply(this, args);
      };
    }
    authenticate.call(this, req, options);
  };
  return requests;
}

/** Unhandled rejections and uncaught exceptions seen while a test file runs. */
export function watchProcess(): { unhandled: unknown[]; stop(): void } {
  const unhandled: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const onException = (err: unknown): void => {
    unhandled.push(err);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    unhandled,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** A login harness whose back channel goes through a {@link SecretRecorder}, with actions recorded. */
export interface HostileHarness extends LoginHarness {
  secrets: SecretRecorder;
  requests: RecordedRequest[];
  /** The last request the strategy served. */
  last(): RecordedRequest;
  /** Leaks in what the strategy did for `request` plus anything else the test saw. */
  leaks(request: RecordedRequest, extra?: ScanTarget, options?: ScanOptions): Leak[];
}

export async function startHostileApp(
  options: LoginAppOptions = {},
  { learnCodesFromRequests = true } = {},
): Promise<HostileHarness> {
  const secrets = new SecretRecorder({
    privateKeyPem: testKeyPair().privateKeyPem,
    phoneNumbers: TEST_NUMBERS,
    learnCodesFromRequests,
  });
  const h = await startLoginApp({
    ...options,
    strategy: { dispatcher: secrets.dispatcher, ...options.strategy },
  });
  const requests = recordActions(h.strategy);
  return Object.assign(h, {
    secrets,
    requests,
    last(): RecordedRequest {
      const last = requests.at(-1);
      if (last === undefined) throw new Error('the strategy has served no request');
      return last;
    },
    leaks(request: RecordedRequest, extra: ScanTarget = {}, scan: ScanOptions = {}): Leak[] {
      return leaksOf(request, secrets, extra, scan);
    },
  });
}

/** Scans each action's arguments (phone numbers allowed only in `success` info and the operator redirect). */
export function leaksOf(
  request: RecordedRequest,
  secrets: SecretRecorder,
  extra: ScanTarget = {},
  scan: ScanOptions = {},
): Leak[] {
  const leaks: Leak[] = [];
  const debug = debugOutput.slice(request.debugStart, request.debugEnd);
  for (const { action, args } of request.actions) {
    if (action === 'error') leaks.push(...findLeaks({ error: args[0] }, secrets));
    if (action === 'fail') leaks.push(...findLeaks({ info: args }, secrets));
    if (action === 'success') {
      leaks.push(...findLeaks({ info: args }, secrets, { allowPhoneNumberIn: ['info'] }));
    }
    if (action === 'redirect') {
      leaks.push(
        ...findLeaks({ locations: [String(args[0])] }, secrets, {
          allowPhoneNumberIn: ['locations'],
        }),
      );
    }
  }
  leaks.push(...findLeaks({ debugOutput: debug }, secrets));
  leaks.push(...findLeaks(extra, secrets, scan));
  return leaks;
}

/** Waits a little for late actions (a second `fail` after the response would show up here). */
export async function settle(ms = 5): Promise<void> {
  await sleep(ms);
}
