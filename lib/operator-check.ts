import { traceStep, type StepContext } from './diagnostics.js';
import { VerificationError, type FailureCode } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { E164_PATTERN, redactPhoneNumber } from './phone-number.js';
import type { BackChannel } from './providers/types.js';
import type { ActiveFlow } from './flow/engine.js';

/** The number the operator vouched for, or the user-facing reason it did not. */
export type OperatorResult = { phoneNumber: string } | { failure: FailureCode };

/**
 * The callback's back-channel legs, through the provider: the token exchange (RFC 6749 §4.1.3),
 * then CAMARA NV `verify` for the stored number, or `share` for the device's number (E.164-checked
 * here whatever the provider, since it becomes the user's identity).
 */
export async function checkWithOperator(
  options: Pick<
    ResolvedOptions,
    'name' | 'provider' | 'mode' | 'hashPhoneNumber' | 'timeout' | 'dispatcher'
  >,
  code: string,
  flow: ActiveFlow,
): Promise<OperatorResult> {
  const { provider, mode } = options;
  const expected = flow.phoneNumber;
  // A flow without a number cannot be verified: it was not made by this strategy's verify mode.
  if (mode === 'verify' && expected === undefined) return { failure: 'invalid_state' };
  const channel: BackChannel = {
    timeout: options.timeout,
    dispatcher: options.dispatcher,
    correlator: flow.correlator,
  };
  const context = (): StepContext => ({
    strategy: options.name,
    ...(expected === undefined ? {} : { phoneNumber: redactPhoneNumber(expected) }),
    correlator: flow.correlator,
  });
  const accessToken = await traceStep('token', context(), () =>
    provider.exchangeCode(
      { code, redirectUri: flow.callbackURL, codeVerifier: flow.codeVerifier },
      channel,
    ),
  );
  if (mode === 'share' || expected === undefined) {
    const share = requireShare(provider);
    const answer = await traceStep(
      'verify',
      context(),
      () => share(accessToken, channel),
      (shared) =>
        'failure' in shared
          ? { failure: shared.failure }
          : { phoneNumber: redactPhoneNumber(String(shared.phoneNumber)) },
    );
    if ('failure' in answer) return answer;
    if (typeof answer.phoneNumber !== 'string' || !E164_PATTERN.test(answer.phoneNumber)) {
      throw new VerificationError('Device phone number response is not an E.164 number', {
        code: 'invalid_share_response',
      });
    }
    return { phoneNumber: answer.phoneNumber };
  }
  const answer = await traceStep(
    'verify',
    context(),
    () =>
      provider.verify(
        { accessToken, phoneNumber: expected, hashed: options.hashPhoneNumber },
        channel,
      ),
    (verdict) =>
      'failure' in verdict ? { failure: verdict.failure } : { verified: verdict.verified },
  );
  if ('failure' in answer) return answer;
  return answer.verified ? { phoneNumber: expected } : { failure: 'not_verified' };
}

function requireShare(provider: ResolvedOptions['provider']): NonNullable<typeof provider.share> {
  if (provider.share === undefined) throw new TypeError(`${provider.name} has no share request`);
  return provider.share.bind(provider);
}
