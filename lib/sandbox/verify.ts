import { E164_PATTERN, hashPhoneNumber, redactPhoneNumber } from '../phone-number.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import { errorInfo, jsonResponse, mediaType, type SandboxResponse } from './http-util.js';
import type { AccessToken, Permission } from './store.js';

/** Which Number Verification API a path serves: Vonage's v0.3.1-based one or CAMARA v2.1.0. */
export type ApiVersion = 'v031' | 'v2';

/**
 * CAMARA NV 2.1.0 `XCorrelator` pattern. v0.3.1 allows any string; the sandbox applies the 2.1.0
 * rule to both (stricter where the spec allows), and per the CAMARA API Design Guide a
 * non-matching value gets 400 INVALID_ARGUMENT while a valid one is echoed.
 */
const X_CORRELATOR = /^[a-zA-Z0-9\-_:;./<>{}]{0,256}$/;

/** v0.3.1: "E.164 format (starting with country code). Optionally prefixed with '+'". */
const V031_PHONE_NUMBER = /^\+?[1-9][0-9]{4,14}$/;
/** `HashedPhoneNumber` pattern (2.1.0; v0.3.1 has none but describes the same hex SHA-256). */
const HASHED_PHONE_NUMBER = /^[a-fA-F0-9]{64}$/;

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

type Authorized =
  | { ok: true; token: string; grant: AccessToken; headers: Record<string, string> }
  | { ok: false; response: SandboxResponse };

/** Shared checks, in order: x-correlator, bearer token (401), scope (403), mobile-network auth (403). */
function authorize(ctx: SandboxContext, req: SandboxRequest, needed: Permission): Authorized {
  const correlator = req.headers['x-correlator'];
  const headers: Record<string, string> = {};
  if (correlator !== undefined) {
    const value = Array.isArray(correlator) ? correlator.join(',') : correlator;
    if (!X_CORRELATOR.test(value)) {
      return {
        ok: false,
        response: errorInfo(
          400,
          'INVALID_ARGUMENT',
          'Invalid x-correlator header',
          'invalid_argument',
        ),
      };
    }
    if (value !== '') headers['x-correlator'] = value;
  }
  const match = BEARER.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  const grant = token === undefined ? undefined : ctx.store.tokens.get(token);
  if (token === undefined || grant === undefined) {
    return {
      ok: false,
      response: errorInfo(
        401,
        'UNAUTHENTICATED',
        'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.',
        'unauthenticated',
        headers,
      ),
    };
  }
  if (!grant.permissions.has(needed)) {
    return {
      ok: false,
      response: errorInfo(
        403,
        'PERMISSION_DENIED',
        'Client does not have sufficient permissions to perform this action.',
        'permission_denied',
        headers,
      ),
    };
  }
  if (!grant.device.authenticatedByMobileNetwork) {
    return {
      ok: false,
      response: {
        ...errorInfo(
          403,
          'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
          'Client must authenticate via the mobile network to use this service',
          'not_authenticated_by_mobile_network',
          headers,
        ),
        phoneNumber: redactPhoneNumber(grant.device.requestedNumber),
      },
    };
  }
  return { ok: true, token, grant, headers };
}

type Claim = { kind: 'plain'; phoneNumber: string } | { kind: 'hashed'; hash: string };

/** `NumberVerificationRequestBody`: exactly one of `phoneNumber` / `hashedPhoneNumber`. */
function parseVerifyBody(req: SandboxRequest, version: ApiVersion): Claim | string {
  if (mediaType(req.headers['content-type']) !== 'application/json') {
    return 'Content-Type must be application/json';
  }
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8'));
  } catch {
    return 'The request body is missing or is not valid JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'The request body must be a JSON object';
  }
  const keys = Object.keys(body);
  const record = body as Record<string, unknown>;
  if (keys.length !== 1) {
    return 'Exactly one of phoneNumber or hashedPhoneNumber must be provided';
  }
  if (keys[0] === 'phoneNumber') {
    const value = record.phoneNumber;
    const pattern = version === 'v2' ? E164_PATTERN : V031_PHONE_NUMBER;
    if (typeof value !== 'string' || !pattern.test(value)) {
      return version === 'v2'
        ? 'The phoneNumber must be an E.164 number prefixed with +'
        : 'The phoneNumber must be an E.164 number';
    }
    return { kind: 'plain', phoneNumber: value.startsWith('+') ? value : `+${value}` };
  }
  if (keys[0] === 'hashedPhoneNumber') {
    const value = record.hashedPhoneNumber;
    if (typeof value !== 'string' || !HASHED_PHONE_NUMBER.test(value)) {
      return 'The hashedPhoneNumber must be a hex SHA-256 digest';
    }
    return { kind: 'hashed', hash: value.toLowerCase() };
  }
  return 'Only phoneNumber or hashedPhoneNumber may be provided';
}

function matches(claim: Claim, deviceNumber: string, version: ApiVersion): boolean {
  if (claim.kind === 'plain') return claim.phoneNumber === deviceNumber;
  if (claim.hash === hashPhoneNumber(deviceNumber)) return true;
  // v0.3.1: the hashed number is "optionally prefixed with '+'".
  return version === 'v031' && claim.hash === hashPhoneNumber(deviceNumber.slice(1));
}

/**
 * Strict mode spends a token on its first 200, so a request rejected for its body can be corrected;
 * otherwise it stays valid until `expires_in`, as on Vonage's service (its Node SDK reuses tokens).
 */
function spend(ctx: SandboxContext, token: string): void {
  if (ctx.strict) ctx.store.tokens.delete(token);
}

/** POST …/verify (CAMARA NV `phoneNumberVerify`). The token is bound to the device's number. */
export function handleVerify(
  ctx: SandboxContext,
  req: SandboxRequest,
  version: ApiVersion,
): SandboxResponse {
  const auth = authorize(ctx, req, 'verify');
  if (!auth.ok) return auth.response;
  const claim = parseVerifyBody(req, version);
  if (typeof claim === 'string') {
    return errorInfo(400, 'INVALID_ARGUMENT', claim, 'invalid_argument', auth.headers);
  }
  spend(ctx, auth.token);
  const verified = matches(claim, auth.grant.device.deviceNumber, version);
  return {
    ...jsonResponse(
      200,
      { devicePhoneNumberVerified: verified },
      verified ? 'verified' : 'not_verified',
      auth.headers,
    ),
    phoneNumber: redactPhoneNumber(auth.grant.device.requestedNumber),
  };
}

/** GET …/device-phone-number (CAMARA NV `phoneNumberShare`); spends the token as verify does. */
export function handleDevicePhoneNumber(ctx: SandboxContext, req: SandboxRequest): SandboxResponse {
  const auth = authorize(ctx, req, 'share');
  if (!auth.ok) return auth.response;
  spend(ctx, auth.token);
  const { deviceNumber } = auth.grant.device;
  return {
    ...jsonResponse(200, { devicePhoneNumber: deviceNumber }, 'shared', auth.headers),
    phoneNumber: redactPhoneNumber(deviceNumber),
  };
}
