import { handleAuthorization } from './authorization.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import { errorInfo, htmlErrorPage, oauthError, type SandboxResponse } from './http-util.js';
import { handleToken } from './token.js';
import type { FaultEndpoint, SandboxEndpoint } from './types.js';
import { handleDevicePhoneNumber, handleVerify } from './verify.js';

export const PATHS = {
  auth: '/oauth2/auth',
  token: '/oauth2/token',
  vonageVerify: '/camara/number-verification/v031/verify',
  camaraVerify: '/number-verification/v2/verify',
  camaraDevicePhoneNumber: '/number-verification/v2/device-phone-number',
} as const;

/** How a path answers errors: an HTML page (front channel), RFC 6749 JSON, or CAMARA ErrorInfo. */
type ErrorStyle = 'page' | 'oauth' | 'camara';

export interface Route {
  endpoint: SandboxEndpoint;
  fault?: FaultEndpoint;
  method: 'GET' | 'POST';
  style: ErrorStyle;
  handle(
    ctx: SandboxContext,
    req: SandboxRequest,
    forcedError: string | undefined,
  ): SandboxResponse | Promise<SandboxResponse>;
}

export const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  [
    PATHS.auth,
    {
      endpoint: 'auth',
      fault: 'auth',
      method: 'GET',
      style: 'page',
      handle: (ctx, req, forcedError) => handleAuthorization(ctx, req, { forcedError }),
    },
  ],
  [
    PATHS.token,
    { endpoint: 'token', fault: 'token', method: 'POST', style: 'oauth', handle: handleToken },
  ],
  [
    PATHS.vonageVerify,
    {
      endpoint: 'verify',
      fault: 'verify',
      method: 'POST',
      style: 'camara',
      handle: (ctx, req) => handleVerify(ctx, req, 'v031'),
    },
  ],
  [
    PATHS.camaraVerify,
    {
      endpoint: 'verify',
      fault: 'verify',
      method: 'POST',
      style: 'camara',
      handle: (ctx, req) => handleVerify(ctx, req, 'v2'),
    },
  ],
  [
    PATHS.camaraDevicePhoneNumber,
    {
      endpoint: 'device-phone-number',
      method: 'GET',
      style: 'camara',
      handle: handleDevicePhoneNumber,
    },
  ],
]);

export function notFound(): SandboxResponse {
  return errorInfo(404, 'NOT_FOUND', 'The requested resource does not exist.', 'not_found');
}

export function methodNotAllowed(route: Route): SandboxResponse {
  const allow = { allow: route.method };
  const message = `Use ${route.method} on this endpoint.`;
  if (route.style === 'page') return htmlErrorPage(405, message, 'method_not_allowed', allow);
  if (route.style === 'oauth') {
    return { ...oauthError(405, 'invalid_request', message, allow), outcome: 'method_not_allowed' };
  }
  return errorInfo(405, 'METHOD_NOT_ALLOWED', message, 'method_not_allowed', allow);
}

/** 413 for a body over 64 KiB, in the error style of the path (Commonalities defines no 413 code). */
export function payloadTooLarge(route: Route | undefined): SandboxResponse {
  const message = 'The request body is larger than 64 KiB.';
  if (route?.style === 'page') return htmlErrorPage(413, message, 'payload_too_large');
  if (route?.style === 'oauth') {
    return { ...oauthError(413, 'invalid_request', message), outcome: 'payload_too_large' };
  }
  return errorInfo(413, 'PAYLOAD_TOO_LARGE', message, 'payload_too_large');
}
