import { STATUS_CODES } from 'node:http';
import {
  errorInfo,
  htmlErrorPage,
  oauthError,
  problem,
  problemDetails,
  type SandboxResponse,
} from './http-util.js';
import type { ErrorShape, FaultEndpoint, FaultHandle, FaultInjection } from './types.js';

const ERROR_SHAPES: ReadonlySet<string> = new Set(['rfc6749', 'camara', 'rfc7807']);

const ENDPOINTS: ReadonlySet<string> = new Set([
  'auth',
  'token',
  'verify',
  'device-phone-number',
  'discovery',
  'verify2-start',
  'verify2-check',
  'verify2-next',
  'verify2-cancel',
  'silent-auth',
]);

/** CAMARA Commonalities 0.6 (`CAMARA_common.yaml`) code for each status a fault may answer. */
const CAMARA_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  410: 'GONE',
  412: 'FAILED_PRECONDITION',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'SERVICE_NOT_APPLICABLE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
};

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Rejects a fault spec that could not be applied, so a typo in a test fails loudly. */
function validate(spec: FaultInjection): void {
  if (!ENDPOINTS.has(spec.endpoint)) throw new TypeError(`unknown fault endpoint ${spec.endpoint}`);
  const { status, delayMs, times, rate, trickle, oversizedBytes, reset, error, errorShape } = spec;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw new RangeError('status must be an integer in 200..599');
  }
  if (delayMs !== undefined && !isNonNegativeInteger(delayMs)) {
    throw new RangeError('delayMs must be a non-negative integer');
  }
  if (times !== undefined && !(isNonNegativeInteger(times) && times > 0)) {
    throw new RangeError('times must be a positive integer');
  }
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    throw new RangeError('rate must be within 0..1');
  }
  if (
    trickle !== undefined &&
    (!(isNonNegativeInteger(trickle.chunkBytes) && trickle.chunkBytes > 0) ||
      !isNonNegativeInteger(trickle.intervalMs))
  ) {
    throw new RangeError('trickle needs chunkBytes > 0 and intervalMs >= 0');
  }
  if (
    oversizedBytes !== undefined &&
    !(isNonNegativeInteger(oversizedBytes) && oversizedBytes >= 16)
  ) {
    throw new RangeError('oversizedBytes must be an integer >= 16');
  }
  if (reset !== undefined && reset !== 'before-body' && reset !== 'during-body') {
    throw new TypeError('reset must be before-body or during-body');
  }
  if (
    errorShape !== undefined &&
    ((spec.endpoint !== 'token' && spec.endpoint !== 'verify') || !ERROR_SHAPES.has(errorShape))
  ) {
    throw new TypeError('errorShape applies to token and verify: rfc6749, camara or rfc7807');
  }
  if (error !== undefined && (spec.endpoint !== 'auth' || !/^[\x20-\x7e]+$/.test(error))) {
    throw new TypeError('error applies to the auth endpoint only and must be printable ASCII');
  }
}

export class ActiveFault {
  count = 0;
  constructor(readonly spec: FaultInjection) {}

  get exhausted(): boolean {
    return this.spec.times !== undefined && this.count >= this.spec.times;
  }

  /** True when the fault decides the answer itself (the real handler does not run). */
  get replacesResponse(): boolean {
    const s = this.spec;
    return (
      s.status !== undefined ||
      s.body !== undefined ||
      s.malformedJson === true ||
      s.oversizedBytes !== undefined ||
      s.reset === 'before-body'
    );
  }
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultInjection): FaultHandle {
    validate(spec);
    const fault = new ActiveFault({ ...spec });
    this.faults.push(fault);
    return {
      get count() {
        return fault.count;
      },
      remove: () => {
        this.faults = this.faults.filter((f) => f !== fault);
      },
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The first live fault for the endpoint that fires for this request (its `rate` drawn once). */
  take(endpoint: FaultEndpoint): ActiveFault | undefined {
    for (const fault of this.faults) {
      if (fault.spec.endpoint !== endpoint || fault.exhausted) continue;
      if (fault.spec.rate !== undefined && this.random() >= fault.spec.rate) continue;
      fault.count += 1;
      return fault;
    }
    return undefined;
  }
}

/** Vonage's error-catalogue code for each status a Verify v2 fault may answer. */
const VERIFY2_CODES: Readonly<Record<number, string>> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  410: 'expired',
  422: 'invalid-params',
  429: 'throttled',
};

function defaultBody(
  endpoint: FaultEndpoint,
  status: number,
  shape: ErrorShape | undefined,
): SandboxResponse {
  if (endpoint === 'auth' || endpoint === 'silent-auth') {
    return htmlErrorPage(status, 'Injected fault.', 'fault');
  }
  if (endpoint.startsWith('verify2-')) {
    return problem(
      status,
      VERIFY2_CODES[status] ?? 'internal-error',
      'Injected fault',
      'Injected fault.',
      'fault',
    );
  }
  switch (shape ?? (endpoint === 'token' || endpoint === 'discovery' ? 'rfc6749' : 'camara')) {
    case 'rfc6749':
      return oauthError(
        status,
        OAUTH_ERRORS[status] ?? defaultOAuthError(status),
        'Injected fault.',
      );
    case 'rfc7807':
      return problemDetails(status, STATUS_CODES[status] ?? 'Error', 'Injected fault.', 'fault');
    case 'camara':
      return errorInfo(status, CAMARA_CODES[status] ?? 'INTERNAL', 'Injected fault.', 'fault');
  }
}

/** RFC 6749 §5.2 errors for the statuses that have an obvious one. */
const OAUTH_ERRORS: Readonly<Record<number, string>> = {
  401: 'invalid_client',
  503: 'temporarily_unavailable',
};

function defaultOAuthError(status: number): string {
  return status >= 500 ? 'server_error' : 'invalid_request';
}

/** A valid JSON object of exactly `bytes` bytes. */
function oversizedJson(bytes: number): Buffer {
  const skeleton = '{"padding":""}';
  return Buffer.from(`{"padding":"${'x'.repeat(bytes - skeleton.length)}"}`);
}

/** The answer an injected fault replaces the real one with, or undefined when it only shapes delivery. */
export function faultResponse(
  fault: ActiveFault,
  endpoint: FaultEndpoint,
): SandboxResponse | undefined {
  const s = fault.spec;
  if (!fault.replacesResponse || s.reset === 'before-body') return undefined;
  const json = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  let response: SandboxResponse;
  if (s.malformedJson === true) {
    response = {
      status: s.status ?? 200,
      headers: json,
      body: Buffer.from('{"access_token": "tr'),
      outcome: 'fault',
    };
  } else if (s.oversizedBytes !== undefined) {
    response = {
      status: s.status ?? 200,
      headers: json,
      body: oversizedJson(s.oversizedBytes),
      outcome: 'fault',
    };
  } else if (s.body !== undefined) {
    const isText = typeof s.body === 'string';
    response = {
      status: s.status ?? 200,
      headers: {
        'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
        'cache-control': 'no-store',
      },
      body: Buffer.from(typeof s.body === 'string' ? s.body : JSON.stringify(s.body)),
      outcome: 'fault',
    };
  } else {
    response = { ...defaultBody(endpoint, s.status ?? 500, s.errorShape), outcome: 'fault' };
  }
  if (s.contentType !== undefined) response.headers['content-type'] = s.contentType;
  return response;
}
