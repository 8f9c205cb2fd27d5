import type { ActiveFlow } from './flow/engine.js';
import type { PendingFlow } from './state/store.js';

/** A Verify flow: its request, number and remaining channels are always known. */
export type VerifyFlow = ActiveFlow & {
  requestId: string;
  channels: string[];
  phoneNumber: string;
};

/** Whether a taken flow has what a Verify callback needs (a flow of another kind has not). */
export function isVerifyFlow<T extends PendingFlow>(flow: T): flow is T & VerifyFlow {
  return (
    flow.requestId !== undefined && flow.channels !== undefined && flow.phoneNumber !== undefined
  );
}

/** Whether silent auth is the flow's current step (else a code went out by another channel). */
export function isSilent(flow: VerifyFlow): boolean {
  return flow.channels[0] === 'silent_auth';
}
