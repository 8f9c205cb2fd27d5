import { channel, tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { debug } from './debug.js';

/**
 * `node:diagnostics_channel` names, one per step of a sign-in (see docs/observability.md).
 * The steps are tracing channels (`diagnostics_channel.tracingChannel(name)`: `start`, `end`,
 * `asyncStart`, `asyncEnd`, `error`); the outcome is a plain channel with one message per request.
 * `verifyStart`, `verifyNext` and `verifyCancel` are Verify v2's own calls; its code check is `verify`.
 */
export const CHANNELS = {
  firstLeg: 'passport-number-verification:first-leg',
  state: 'passport-number-verification:state',
  token: 'passport-number-verification:token',
  verify: 'passport-number-verification:verify',
  verifyStart: 'passport-number-verification:verify-start',
  verifyNext: 'passport-number-verification:verify-next',
  verifyCancel: 'passport-number-verification:verify-cancel',
  outcome: 'passport-number-verification:outcome',
} as const;

export type Step = Exclude<keyof typeof CHANNELS, 'outcome'>;

/**
 * The context object of a step's tracing events. It never holds a token, code, JWT, PKCE verifier
 * or key, and the phone number only redacted; `durationMs` is set before `asyncEnd`/`error`.
 */
export interface StepContext {
  /** Name of the strategy (`strategy.name`). */
  strategy: string;
  /**
   * Redacted, e.g. `+44********01`: the number being verified (on `state`, once a pending sign-in
   * was found), or in share mode the number the operator shared (on `verify`).
   */
  phoneNumber?: string;
  /** `state`: whether a pending sign-in matched the callback's state. */
  found?: boolean;
  /** `verify`: the operator's answer (Verify v2: whether the code check `completed`). */
  verified?: boolean;
  /** `verify`: the user-facing reason the operator gave instead (e.g. `not_on_mobile_network`). */
  failure?: string;
  /**
   * Verify v2: the channel the step is about (`silent_auth`, `sms`, …): the first of the workflow
   * (start), the one whose code is checked (verify), the one moved on to (next), the current one
   * (cancel).
   */
  channel?: string;
  /** The sign-in's `x-correlator` (sent to the operator; not a secret), once chosen. */
  correlator?: string;
  /** Milliseconds the step took. */
  durationMs?: number;
  /** Set by Node on the `error` event: the error the step failed with. */
  error?: unknown;
}

/** The message on {@link CHANNELS.outcome}: what Passport was told, once per `authenticate`. */
export interface OutcomeMessage {
  strategy: string;
  leg: 'first-leg' | 'callback';
  outcome: 'redirect' | 'success' | 'fail' | 'error' | 'pass';
  /** The fail code (`info.code`) or the error's `code`. */
  code?: string;
  /** The fail status or the error's `status`. */
  status?: number;
  /** Milliseconds from `authenticate` to the outcome. */
  durationMs: number;
}

const tracing = {
  firstLeg: tracingChannel<unknown, StepContext>(CHANNELS.firstLeg),
  state: tracingChannel<unknown, StepContext>(CHANNELS.state),
  token: tracingChannel<unknown, StepContext>(CHANNELS.token),
  verify: tracingChannel<unknown, StepContext>(CHANNELS.verify),
  verifyStart: tracingChannel<unknown, StepContext>(CHANNELS.verifyStart),
  verifyNext: tracingChannel<unknown, StepContext>(CHANNELS.verifyNext),
  verifyCancel: tracingChannel<unknown, StepContext>(CHANNELS.verifyCancel),
};
const outcomeChannel = channel(CHANNELS.outcome);

/** Debug line per step, written from the context alone (so it has no secret either). */
const DESCRIBE: Record<Step, (context: StepContext) => string> = {
  firstLeg: (c) =>
    `pending sign-in saved, redirecting ${c.phoneNumber ?? 'the browser'} to the operator`,
  state: (c) =>
    c.found ? `state consumed${forNumber(c)}` : 'state consumed: no pending sign-in matches',
  token: (c) => `token obtained${forNumber(c)} (x-correlator ${c.correlator})`,
  verify: (c) =>
    `operator answered ${c.failure ?? c.verified ?? 'shared'}${forNumber(c)}${byChannel(c, ' (', ' code)')}`,
  verifyStart: (c) => `Verify request started${forNumber(c)}${byChannel(c, ', first by ')}`,
  verifyNext: (c) => `Verify moved on${byChannel(c, ' to ')}${forNumber(c)}`,
  verifyCancel: (c) => `Verify request cancelled${forNumber(c)}`,
};

const forNumber = (context: StepContext): string =>
  context.phoneNumber === undefined ? '' : ` for ${context.phoneNumber}`;

const byChannel = (context: StepContext, before: string, after = ''): string =>
  context.channel === undefined ? '' : `${before}${context.channel}${after}`;

/**
 * Whether the debug output is on (`NODE_DEBUG`). With it off and no subscriber, the steps run
 * bare: no timing, no wrappers, nothing allocated per request.
 */
const debugging = (): boolean => debug.enabled !== false;

const elapsed = (since: number): number => Math.round((performance.now() - since) * 1000) / 1000;

/**
 * Runs one async step inside its tracing channel. Subscribers get `context`, never the step's
 * result (the token step resolves to the access token): `describe` copies what may be shown.
 */
export async function traceStep<T>(
  step: Step,
  context: StepContext,
  run: () => Promise<T>,
  describe?: (result: T) => Partial<StepContext>,
): Promise<T> {
  const channel = tracing[step];
  if (!channel.hasSubscribers && !debugging()) return run();
  const started = performance.now();
  const measured = async (): Promise<T> => {
    try {
      const result = await run();
      Object.assign(context, describe?.(result));
      context.durationMs = elapsed(started);
      debug('%s (%d ms)', DESCRIBE[step](context), context.durationMs);
      return result;
    } catch (err) {
      context.durationMs = elapsed(started);
      const name = CHANNELS[step].slice(CHANNELS[step].indexOf(':') + 1);
      debug('%s failed: %s (%d ms)', name, errorCode(err) ?? 'error', context.durationMs);
      throw err;
    }
  };
  if (!channel.hasSubscribers) return measured();
  let result: Promise<T> | undefined;
  await channel.tracePromise(() => {
    result = measured();
    return result.then(() => undefined);
  }, context);
  return result as Promise<T>;
}

type Action = (...args: never[]) => void;
type Actions = Record<'success' | 'fail' | 'error' | 'redirect' | 'pass', Action | undefined>;

const originals = new WeakMap<Action, Action>();

/**
 * Reports the first of Passport's actions a request ends with on {@link CHANNELS.outcome} (and in
 * the debug output), then runs it. Passport gives each request its own object with the actions;
 * a second `authenticate` on the same object replaces the wrappers instead of stacking them.
 */
export function observeOutcome(
  actions: Partial<Actions>,
  strategy: string,
  leg: OutcomeMessage['leg'],
): void {
  if (!outcomeChannel.hasSubscribers && !debugging()) return;
  const started = performance.now();
  let reported = false;
  for (const outcome of ['success', 'fail', 'error', 'redirect', 'pass'] as const) {
    const current = actions[outcome];
    if (typeof current !== 'function') continue;
    const original = originals.get(current) ?? current;
    const wrapper = function (this: unknown, ...args: unknown[]): void {
      if (!reported) {
        reported = true;
        report({
          strategy,
          leg,
          outcome,
          ...detailsOf(outcome, args),
          durationMs: elapsed(started),
        });
      }
      Reflect.apply(original, this, args);
    };
    originals.set(wrapper, original);
    actions[outcome] = wrapper;
  }
}

function report(message: OutcomeMessage): void {
  debug(
    'outcome: %s%s%s (%d ms)',
    message.outcome,
    message.code === undefined ? '' : ` ${message.code}`,
    message.status === undefined ? '' : ` ${message.status}`,
    message.durationMs,
  );
  if (outcomeChannel.hasSubscribers) outcomeChannel.publish(message);
}

/** Code and status of a fail (`fail(info, status)` or `fail(status)`) or an error; never a URL. */
function detailsOf(
  outcome: OutcomeMessage['outcome'],
  [first, second]: unknown[],
): Pick<OutcomeMessage, 'code' | 'status'> {
  if (outcome !== 'fail' && outcome !== 'error') return {};
  const code = errorCode(first);
  const status =
    outcome === 'error'
      ? (first as { status?: unknown } | null | undefined)?.status
      : typeof first === 'number'
        ? first
        : second;
  return {
    ...(code === undefined ? {} : { code }),
    ...(typeof status === 'number' ? { status } : {}),
  };
}

/** A short `code` string of an error or fail info, when it has one. */
function errorCode(value: unknown): string | undefined {
  const code = (value as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code.slice(0, 64) : undefined;
}
