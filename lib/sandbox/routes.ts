import { handleAuthorization } from './authorization.js';
import { handleDiscovery } from './discovery.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import {
  errorInfo,
  htmlErrorPage,
  oauthError,
  problem,
  type SandboxResponse,
} from './http-util.js';
import { handleOutbox } from './outbox.js';
import { handleToken } from './token.js';
import {
  handleCancel,
  handleCheck,
  handleNextWorkflow,
  handleStart,
  parseRequestPath,
  VERIFY2_PATH,
} from './verify2.js';
import { handleSilentAuthCheck } from './verify2-silent-auth.js';
import type { FaultEndpoint, SandboxEndpoint } from './types.js';
import { handleDevicePhoneNumber, handleVerify } from './verify.js';

export const PATHS = {
  auth: '/oauth2/auth',
  token: '/oauth2/token',
  vonageVerify: '/camara/number-verification/v031/verify',
  camaraVerify: '/number-verification/v2/verify',
  camaraDevicePhoneNumber: '/number-verification/v2/device-phone-number',
  discovery: '/.well-known/openid-configuration',
  verify2: VERIFY2_PATH,
  outbox: '/sandbox/outbox',
} as const;

/**
 * How a path answers errors: an HTML page (front channel), RFC 6749 JSON, CAMARA ErrorInfo,
 * or an RFC 7807 problem (Vonage Verify v2).
 */
type ErrorStyle = 'page' | 'oauth' | 'camara' | 'problem';

export interface Route {
  endpoint: SandboxEndpoint;
  fault?: FaultEndpoint;
  method: 'GET' | 'POST' | 'DELETE';
  /** The `Allow` header of a 405, when the path serves more than `method`. */
  allow?: string;
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
      fault: 'device-phone-number',
      method: 'GET',
      style: 'camara',
      handle: handleDevicePhoneNumber,
    },
  ],
  [
    PATHS.discovery,
    {
      endpoint: 'discovery',
      fault: 'discovery',
      method: 'GET',
      style: 'oauth',
      handle: (ctx) => handleDiscovery(ctx, PATHS),
    },
  ],
]);

const VERIFY2_ROUTES = {
  start: {
    endpoint: 'verify2-start',
    fault: 'verify2-start',
    method: 'POST',
    style: 'problem',
    handle: handleStart,
  },
  check: {
    endpoint: 'verify2-check',
    fault: 'verify2-check',
    method: 'POST',
    allow: 'POST, DELETE',
    style: 'problem',
    handle: handleCheck,
  },
  cancel: {
    endpoint: 'verify2-cancel',
    fault: 'verify2-cancel',
    method: 'DELETE',
    allow: 'POST, DELETE',
    style: 'problem',
    handle: handleCancel,
  },
  next: {
    endpoint: 'verify2-next',
    fault: 'verify2-next',
    method: 'POST',
    style: 'problem',
    handle: handleNextWorkflow,
  },
  silentAuth: {
    endpoint: 'silent-auth',
    fault: 'silent-auth',
    method: 'GET',
    style: 'page',
    handle: handleSilentAuthCheck,
  },
  outbox: { endpoint: 'outbox', method: 'GET', style: 'page', handle: handleOutbox },
} as const satisfies Record<string, Route>;

/** The route serving `pathname` (for `method` when the path serves several), if any. */
export function findRoute(pathname: string, method: string | undefined): Route | undefined {
  const fixed = ROUTES.get(pathname);
  if (fixed !== undefined) return fixed;
  if (pathname === PATHS.verify2) return VERIFY2_ROUTES.start;
  if (pathname === PATHS.outbox) return VERIFY2_ROUTES.outbox;
  const path = parseRequestPath(pathname);
  if (path === undefined) return undefined;
  if (path.rest === 'next_workflow') return VERIFY2_ROUTES.next;
  if (path.rest === 'silent-auth') return VERIFY2_ROUTES.silentAuth;
  return method === 'DELETE' ? VERIFY2_ROUTES.cancel : VERIFY2_ROUTES.check;
}

export function notFound(): SandboxResponse {
  return errorInfo(404, 'NOT_FOUND', 'The requested resource does not exist.', 'not_found');
}

export function methodNotAllowed(route: Route): SandboxResponse {
  const allow = { allow: route.allow ?? route.method };
  const message = `Use ${allow.allow} on this endpoint.`;
  if (route.style === 'page') return htmlErrorPage(405, message, 'method_not_allowed', allow);
  if (route.style === 'problem') {
    return problem(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      message,
      'method_not_allowed',
      {},
      allow,
    );
  }
  if (route.style === 'oauth') {
    return { ...oauthError(405, 'invalid_request', message, allow), outcome: 'method_not_allowed' };
  }
  return errorInfo(405, 'METHOD_NOT_ALLOWED', message, 'method_not_allowed', allow);
}

/** 413 for a body over 64 KiB, in the error style of the path (Commonalities defines no 413 code). */
export function payloadTooLarge(route: Route | undefined): SandboxResponse {
  const message = 'The request body is larger than 64 KiB.';
  if (route?.style === 'page') return htmlErrorPage(413, message, 'payload_too_large');
  if (route?.style === 'problem') {
    return problem(413, 'payload-too-large', 'Payload Too Large', message, 'payload_too_large');
  }
  if (route?.style === 'oauth') {
    return { ...oauthError(413, 'invalid_request', message), outcome: 'payload_too_large' };
  }
  return errorInfo(413, 'PAYLOAD_TOO_LARGE', message, 'payload_too_large');
}
