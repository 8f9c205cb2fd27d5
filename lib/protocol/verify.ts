import { VerificationError } from '../errors.js';
import { hashPhoneNumber } from '../phone-number.js';
import type { ShareAnswer, VerifyAnswer, VerifyRequest } from '../providers/types.js';
import { postToOperator, type BackChannelOptions, type BackChannelResponse } from './http.js';
import { bodyField, readOperatorFailure } from './operator-body.js';

/**
 * The CAMARA code (NV v0.3.1 to v2.1.0 alike) for a device the operator did not see on its mobile
 * network (Wi-Fi, roaming): the user's situation, so it maps to the fail `not_on_mobile_network`.
 */
export const NOT_ON_MOBILE_NETWORK_CODE =
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK';

/**
 * CAMARA NV `POST /verify` (`phoneNumberVerify`): whether the device that obtained the access token
 * holds the number, sent as `phoneNumber` or, hashed, as `hashedPhoneNumber` (NV 2.1.0: lower-case
 * hex SHA-256 of the `+E164` string). Throws {@link VerificationError} carrying the operator's
 * OAuth `error` or CAMARA `code` (or `verify_request_failed` / `invalid_verify_response`, or a
 * transport code).
 */
export async function verifyPhoneNumber(
  verifyURL: URL,
  request: VerifyRequest,
  options: BackChannelOptions,
): Promise<VerifyAnswer> {
  const body = request.hashed
    ? { hashedPhoneNumber: hashPhoneNumber(request.phoneNumber) }
    : { phoneNumber: request.phoneNumber };
  const response = await postToOperator(
    {
      url: verifyURL,
      headers: {
        authorization: `Bearer ${request.accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
      label: 'Verify request',
      makeError: (message, errorOptions) => new VerificationError(message, errorOptions),
    },
    options,
  );
  const failure = camaraFailure('Verify request', response);
  if (failure !== undefined) return failure;
  const verified = bodyField(response.json, 'devicePhoneNumberVerified');
  if (typeof verified !== 'boolean') {
    throw new VerificationError(
      `Verify response (HTTP ${response.status}) has no boolean devicePhoneNumberVerified`,
      { code: 'invalid_verify_response', status: response.status },
    );
  }
  return { verified };
}

/**
 * CAMARA NV `GET /device-phone-number` (`phoneNumberShare`): the number of the device that obtained
 * the access token. The strategy checks it is E.164 before anyone uses it.
 */
export async function getDevicePhoneNumber(
  url: URL,
  accessToken: string,
  options: BackChannelOptions,
): Promise<ShareAnswer> {
  const response = await postToOperator(
    {
      url,
      method: 'GET',
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      label: 'Device phone number request',
      makeError: (message, errorOptions) => new VerificationError(message, errorOptions),
    },
    options,
  );
  const failure = camaraFailure('Device phone number request', response);
  if (failure !== undefined) return failure;
  const phoneNumber = bodyField(response.json, 'devicePhoneNumber');
  if (typeof phoneNumber !== 'string') {
    throw new VerificationError(
      `Device phone number response (HTTP ${response.status}) has no string devicePhoneNumber`,
      { code: 'invalid_share_response', status: response.status },
    );
  }
  return { phoneNumber };
}

/**
 * A non-2xx answer: the fail `not_on_mobile_network` for CAMARA's 403 saying so, else a thrown
 * {@link VerificationError} with the operator's OAuth `error` or CAMARA `code` (any of the three
 * body shapes, see {@link readOperatorFailure}), else `verify_request_failed`.
 */
function camaraFailure(
  label: string,
  { status, json }: BackChannelResponse,
): { failure: 'not_on_mobile_network' } | undefined {
  if (status >= 200 && status <= 299) return undefined;
  const { code, description } = readOperatorFailure(status, json, 'verify_request_failed');
  if (status === 403 && code === NOT_ON_MOBILE_NETWORK_CODE) {
    return { failure: 'not_on_mobile_network' };
  }
  throw new VerificationError(`${label} failed: ${description}`, { code, status });
}
