import { randomUUID } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { postToOperator, type BackChannelOptions } from './http.js';
import { bodyField, describeFailure, operatorString } from './operator-body.js';

export interface VerifyRequest {
  verifyURL: URL;
  accessToken: string;
  /** E.164 with its `+` (CAMARA NV v1+ pattern; v0.3.1, Vonage's basis, also accepts it). */
  phoneNumber: string;
}

/** The CAMARA code Vonage answers when the device was not seen on the mobile network. */
export const NOT_ON_MOBILE_NETWORK_CODE =
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK';

/**
 * Asks the operator whether the device that obtained the access token holds `phoneNumber`
 * (CAMARA NV `POST /verify`). Throws {@link VerificationError} carrying the CAMARA ErrorInfo
 * `code` (or `verify_request_failed` / `invalid_verify_response`, or a transport code).
 */
export async function verifyPhoneNumber(
  request: VerifyRequest,
  options: BackChannelOptions,
): Promise<boolean> {
  const response = await postToOperator(
    {
      url: request.verifyURL,
      headers: {
        authorization: `Bearer ${request.accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json',
        // CAMARA x-correlator: lets an operator's support team find this call.
        'x-correlator': randomUUID(),
      },
      body: JSON.stringify({ phoneNumber: request.phoneNumber }),
      label: 'Verify request',
      makeError: (message, errorOptions) => new VerificationError(message, errorOptions),
    },
    options,
  );
  const { status, json } = response;
  if (status < 200 || status > 299) {
    // CAMARA ErrorInfo: {status, code, message}.
    const code = operatorString(json, 'code');
    const message = operatorString(json, 'message');
    throw new VerificationError(
      `Verify request failed: ${describeFailure(status, code, message)}`,
      {
        code: code ?? 'verify_request_failed',
        status,
      },
    );
  }
  const verified = bodyField(json, 'devicePhoneNumberVerified');
  if (typeof verified !== 'boolean') {
    throw new VerificationError(
      `Verify response (HTTP ${status}) has no boolean devicePhoneNumberVerified`,
      { code: 'invalid_verify_response', status },
    );
  }
  return verified;
}
