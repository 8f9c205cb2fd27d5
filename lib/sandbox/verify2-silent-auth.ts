import { redactPhoneNumber } from '../phone-number.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import {
  htmlErrorPage,
  jsonResponse,
  redirectResponse,
  type SandboxResponse,
} from './http-util.js';
import { parseRequestPath } from './verify2.js';
import { currentStep, issueSilentCode } from './verify2-requests.js';

/** The fragment error when the operator could not see the device on its mobile network (choice). */
export const NOT_ON_MOBILE_NETWORK = 'not_on_mobile_network';

/**
 * GET /v2/verify/{request_id}/silent-auth/redirect — the `check_url` the device opens over its
 * mobile data. The operator recognises the SIM (Virtual Operator rules for `+990…`), then:
 * with a `redirect_url`, redirects there with `#request_id=…&code=…` (or `#request_id=…&error=…`)
 * in the fragment; without one (mobile SDKs), answers `{request_id, code}` as JSON.
 * The code is handed out once: a second visit finds the step used up.
 */
export function handleSilentAuthCheck(ctx: SandboxContext, req: SandboxRequest): SandboxResponse {
  const path = parseRequestPath(req.url.pathname);
  const record = path === undefined ? undefined : ctx.store.verifyRequests.get(path.requestId);
  if (record === undefined) {
    return htmlErrorPage(404, 'This verification request is unknown or has ended.', 'not_found');
  }
  const step = currentStep(record);
  const redirectUrl = record.workflow[0]?.redirectUrl;
  const answer = (fragment: Record<string, string>, outcome: string): SandboxResponse => {
    const params = new URLSearchParams({ request_id: record.requestId, ...fragment });
    const response =
      redirectUrl === undefined
        ? jsonResponse(200, Object.fromEntries(params), outcome)
        : redirectResponse(`${redirectUrl}#${params.toString()}`, outcome);
    return { ...response, phoneNumber: redactPhoneNumber(step.to) };
  };
  if (step.channel !== 'silent_auth' || record.device !== undefined) {
    return answer(
      {
        error: 'invalid_request',
        error_description: 'Silent authentication is no longer the current step of this request.',
      },
      'silent_auth_used',
    );
  }
  const device = issueSilentCode(record, ctx.devices);
  if (record.code === undefined || !device.authenticatedByMobileNetwork) {
    return answer(
      {
        error: NOT_ON_MOBILE_NETWORK,
        error_description: 'The device was not seen on the mobile network.',
      },
      NOT_ON_MOBILE_NETWORK,
    );
  }
  return answer({ code: record.code }, 'silent_auth_code');
}
