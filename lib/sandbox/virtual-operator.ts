/**
 * Decides which SIM the "device" holds, as Vonage's Virtual Operator does for `+990` numbers
 * (Vonage Playground docs): last digit even → the device holds the number asked for; odd → it
 * holds another one; last two digits `99` → the operator cannot authenticate the user.
 */

export interface DeviceResolution {
  /** The number the application asked about (`login_hint`). */
  requestedNumber: string;
  /** The number of the SIM the device really holds. */
  deviceNumber: string;
  /**
   * False when the operator could not authenticate the user via the mobile network; NV then answers
   * 403 `NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK` (CAMARA NV 2.1.0, 403 responses).
   */
  authenticatedByMobileNetwork: boolean;
}

const VIRTUAL_OPERATOR_PREFIX = '+990';

export function isVirtualOperatorNumber(phoneNumber: string): boolean {
  return phoneNumber.startsWith(VIRTUAL_OPERATOR_PREFIX);
}

export function resolveDevice(
  requestedNumber: string,
  devices: ReadonlyMap<string, string>,
): DeviceResolution {
  if (!isVirtualOperatorNumber(requestedNumber)) {
    return {
      requestedNumber,
      deviceNumber: devices.get(requestedNumber) ?? requestedNumber,
      authenticatedByMobileNetwork: true,
    };
  }
  if (requestedNumber.endsWith('99')) {
    return { requestedNumber, deviceNumber: requestedNumber, authenticatedByMobileNetwork: false };
  }
  const lastDigit = Number(requestedNumber.slice(-1));
  if (lastDigit % 2 === 0) {
    return { requestedNumber, deviceNumber: requestedNumber, authenticatedByMobileNetwork: true };
  }
  // Odd: the device holds the neighbouring even number, which itself follows the "even" rule.
  return {
    requestedNumber,
    deviceNumber: `${requestedNumber.slice(0, -1)}${lastDigit - 1}`,
    authenticatedByMobileNetwork: true,
  };
}
