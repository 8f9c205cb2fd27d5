/**
 * The Verify v2 calls of one sign-in, each run inside its diagnostics step (docs/observability.md)
 * with the strategy's deadline and pool and the sign-in's `x-correlator`. A step's context names
 * the channel and the redacted number, never the request id, code or JWT.
 */
import { traceStep, type Step, type StepContext } from './diagnostics.js';
import { VerificationError } from './errors.js';
import type { ActiveFlow } from './flow/engine.js';
import { redactPhoneNumber } from './phone-number.js';
import type { BackChannelOptions } from './protocol/http.js';
import {
  cancelVerification,
  checkCode,
  nextWorkflow,
  startVerification,
  type StartedVerification,
  type StartVerification,
  type Verify2Client,
} from './protocol/verify2.js';
import type { ResolvedVerifyOptions } from './verify-options.js';
import type { VerifyFlow } from './verify-flow.js';

type CallOptions = Pick<
  ResolvedVerifyOptions,
  'name' | 'applicationId' | 'privateKey' | 'verifyBaseURL' | 'timeout' | 'dispatcher'
>;

export class VerifyCalls {
  private readonly client: Verify2Client;

  constructor(private readonly options: CallOptions) {
    const { verifyBaseURL, applicationId, privateKey } = options;
    this.client = { baseURL: verifyBaseURL, applicationId, privateKey };
  }

  /** `POST /v2/verify`: starts the workflow. */
  start(flow: ActiveFlow, request: StartVerification): Promise<StartedVerification> {
    const first = request.workflow[0]?.channel;
    return this.traced('verifyStart', flow, first, (options) =>
      startVerification(this.client, request, options),
    );
  }

  /** `POST /v2/verify/{id}` with the code, once: whether Verify answered `completed`. */
  async check(flow: VerifyFlow, code: string): Promise<boolean> {
    const completed = await this.traced(
      'verify',
      flow,
      flow.channels[0],
      async (options) =>
        (await checkCode(this.client, flow.requestId, code, options)) === 'completed',
      (verified) => ({ verified }),
    );
    return completed;
  }

  /** `next_workflow`: Verify moves on to the flow's next channel. */
  next(flow: VerifyFlow): Promise<void> {
    return this.traced('verifyNext', flow, flow.channels[1], (options) =>
      nextWorkflow(this.client, flow.requestId, options).catch((err: unknown) => {
        // 409: Verify already moved on by itself (the channel timed out), which is just as good.
        if (!(err instanceof VerificationError && err.status === 409)) throw err;
      }),
    );
  }

  /** `DELETE`, so the user's next attempt does not meet `verification_in_progress`. */
  async cancel(flow: VerifyFlow): Promise<void> {
    try {
      await this.traced('verifyCancel', flow, flow.channels[0], (options) =>
        cancelVerification(this.client, flow.requestId, options),
      );
    } catch {
      // Nothing the user can act on: the step's error event and debug line report it.
    }
  }

  private traced<T>(
    step: Step,
    flow: ActiveFlow,
    channel: string | undefined,
    call: (options: BackChannelOptions) => Promise<T>,
    describe?: (result: T) => Partial<StepContext>,
  ): Promise<T> {
    const { name, timeout, dispatcher } = this.options;
    const context: StepContext = {
      strategy: name,
      ...(flow.phoneNumber === undefined
        ? {}
        : { phoneNumber: redactPhoneNumber(flow.phoneNumber) }),
      ...(channel === undefined ? {} : { channel }),
      correlator: flow.correlator,
    };
    const options = { timeout, dispatcher, correlator: flow.correlator };
    return traceStep(step, context, () => call(options), describe);
  }
}
