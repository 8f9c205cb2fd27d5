/**
 * Vonage Verify v2 (`https://api.nexmo.com/v2/verify`): start, check, next workflow, cancel.
 * Answers and errors follow Vonage's API reference and error catalogue (RFC 7807 bodies);
 * docs/verify.md lists the choices made where Vonage leaves a detail open.
 */
import { redactPhoneNumber } from '../phone-number.js';
import { authenticateClient } from './client-auth.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import { jsonResponse, mediaType, problem, type SandboxResponse } from './http-util.js';
import { messageText } from './outbox.js';
import {
  createRecord,
  currentStep,
  MAX_WRONG_CODES,
  otp,
  parseNewVerification,
  phoneNumberOf,
  type CodeChannel,
  type VerifyRequestRecord,
} from './verify2-requests.js';

export const VERIFY2_PATH = '/v2/verify';
const REQUEST_PATH = /^\/v2\/verify\/([0-9a-fA-F-]{36})(\/next_workflow|\/silent-auth\/redirect)?$/;

/** The request id in a `/v2/verify/{id}…` path, and which sub-resource it names. */
export function parseRequestPath(
  pathname: string,
): { requestId: string; rest: '' | 'next_workflow' | 'silent-auth' } | undefined {
  const match = REQUEST_PATH.exec(pathname);
  if (match === null) return undefined;
  const rest = match[2] === '/next_workflow' ? 'next_workflow' : match[2] ? 'silent-auth' : '';
  return { requestId: (match[1] as string).toLowerCase(), rest };
}

function unauthorized(detail: string): SandboxResponse {
  return problem(401, 'unauthorized', 'Unauthorized', detail, 'unauthorized');
}

function invalidParams(detail: string): SandboxResponse {
  return problem(422, 'invalid-params', 'Invalid params', detail, 'invalid_params');
}

function notFound(): SandboxResponse {
  return problem(
    404,
    'not-found',
    'Not Found',
    'Request was not found or it has been verified already.',
    'not_found',
  );
}

function withNumber(response: SandboxResponse, record: VerifyRequestRecord): SandboxResponse {
  const number = phoneNumberOf(record.workflow);
  return number === undefined ? response : { ...response, phoneNumber: redactPhoneNumber(number) };
}

function readJson(req: SandboxRequest): { ok: true; body: unknown } | { ok: false } {
  if (mediaType(req.headers['content-type']) !== 'application/json') return { ok: false };
  try {
    return { ok: true, body: JSON.parse(req.body.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * The JWT-authenticated application's live record for the `{request_id}` of the path, or the
 * answer when there is none (401, or 404 whether it never existed, ended or belongs to another).
 */
async function authorizedRecord(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<{ ok: true; record: VerifyRequestRecord } | { ok: false; response: SandboxResponse }> {
  const client = await authenticateClient(ctx, req.headers.authorization);
  if (!client.ok) return { ok: false, response: unauthorized(client.description) };
  const path = parseRequestPath(req.url.pathname);
  const record = ctx.store.verifyRequests.get(path?.requestId ?? '');
  return record?.applicationId === client.application.applicationId
    ? { ok: true, record }
    : { ok: false, response: notFound() };
}

/** Ends a request (completed, terminated, cancelled): its number is free for a new one. */
export function endRequest(ctx: SandboxContext, record: VerifyRequestRecord): void {
  ctx.store.verifyRequests.delete(record.requestId);
  const number = phoneNumberOf(record.workflow);
  if (
    number !== undefined &&
    ctx.store.verifyInFlight.get(number)?.requestId === record.requestId
  ) {
    ctx.store.verifyInFlight.delete(number);
  }
}

/** Sends the current step's code, when the step is a code channel. */
function sendCode(ctx: SandboxContext, record: VerifyRequestRecord): void {
  const step = currentStep(record);
  if (step.channel === 'silent_auth') {
    record.code = undefined;
    return;
  }
  record.code = otp(record.codeLength);
  ctx.outbox.add({
    channel: step.channel as CodeChannel,
    to: step.to,
    code: record.code,
    brand: record.brand,
    requestId: record.requestId,
    text: messageText(record.brand, record.code),
    sentAt: ctx.clock(),
  });
}

/** POST /v2/verify — starts a workflow (202 `{request_id, check_url?}`). */
export async function handleStart(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<SandboxResponse> {
  const client = await authenticateClient(ctx, req.headers.authorization);
  if (!client.ok) return unauthorized(client.description);
  const json = readJson(req);
  if (!json.ok) return invalidParams('The request body must be application/json');
  const parsed = parseNewVerification(json.body);
  if (typeof parsed === 'string') return invalidParams(parsed);

  const now = ctx.clock();
  const number = phoneNumberOf(parsed.workflow);
  const inFlight = number === undefined ? undefined : ctx.store.verifyInFlight.get(number);
  if (inFlight !== undefined && ctx.store.verifyRequests.has(inFlight.requestId)) {
    return {
      ...problem(
        409,
        'concurrent',
        'Conflict',
        'Concurrent verifications to the same number are not allowed.',
        'concurrent',
        { request_id: inFlight.requestId },
      ),
      ...(number === undefined ? {} : { phoneNumber: redactPhoneNumber(number) }),
    };
  }
  const record = createRecord(client.application.applicationId, parsed, now);
  ctx.store.verifyRequests.set(record.requestId, record);
  if (number !== undefined) {
    ctx.store.verifyInFlight.set(number, {
      requestId: record.requestId,
      expiresAt: record.expiresAt,
    });
  }
  sendCode(ctx, record);
  const first = currentStep(record);
  const payload =
    first.channel === 'silent_auth'
      ? {
          request_id: record.requestId,
          check_url: `${ctx.baseUrl()}/v2/verify/${record.requestId}/silent-auth/redirect`,
        }
      : { request_id: record.requestId };
  return withNumber(jsonResponse(202, payload, 'started'), record);
}

/** Reads `{code}`: a string of 1–64 letters, digits, `-` or `_`. */
function readCode(req: SandboxRequest): string | undefined {
  const json = readJson(req);
  if (!json.ok || typeof json.body !== 'object' || json.body === null) return undefined;
  const code = (json.body as Record<string, unknown>).code;
  return typeof code === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(code) ? code : undefined;
}

/** POST /v2/verify/{request_id} — checks a code (200 `{request_id, status}`). */
export async function handleCheck(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<SandboxResponse> {
  const found = await authorizedRecord(ctx, req);
  if (!found.ok) return found.response;
  const { record } = found;
  const code = readCode(req);
  if (code === undefined)
    return withNumber(invalidParams('code must be a string of 1 to 64 letters or digits'), record);

  if (record.code !== undefined && code === record.code) {
    const { channel } = currentStep(record);
    // Silent auth: the code proves which device came through the operator; its SIM must hold the number.
    const failed =
      channel === 'silent_auth' && record.device?.deviceNumber !== currentStep(record).to;
    if (failed) {
      record.code = undefined;
      return withNumber(
        jsonResponse(200, { request_id: record.requestId, status: 'failed' }, 'silent_auth_failed'),
        record,
      );
    }
    endRequest(ctx, record);
    return withNumber(
      jsonResponse(200, { request_id: record.requestId, status: 'completed' }, 'completed'),
      record,
    );
  }
  record.wrongCodes += 1;
  if (record.wrongCodes >= MAX_WRONG_CODES) {
    endRequest(ctx, record);
    return withNumber(
      problem(
        410,
        'expired',
        'Invalid Code',
        'An incorrect code has been provided too many times. Workflow terminated.',
        'too_many_attempts',
      ),
      record,
    );
  }
  return withNumber(
    problem(
      400,
      'invalid-code',
      'Invalid Code',
      'The code you provided does not match the expected value.',
      'invalid_code',
    ),
    record,
  );
}

/** POST /v2/verify/{request_id}/next_workflow — moves on to the next channel (200, no body). */
export async function handleNextWorkflow(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<SandboxResponse> {
  const found = await authorizedRecord(ctx, req);
  if (!found.ok) return found.response;
  const { record } = found;
  if (record.step + 1 >= record.workflow.length) {
    return withNumber(
      problem(
        409,
        'no-events',
        'Conflict',
        'There are no more events left to trigger.',
        'no_events',
      ),
      record,
    );
  }
  record.step += 1;
  sendCode(ctx, record);
  return withNumber(
    {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: Buffer.alloc(0),
      outcome: `next_${currentStep(record).channel}`,
    },
    record,
  );
}

/** DELETE /v2/verify/{request_id} — cancels a request (204). */
export async function handleCancel(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<SandboxResponse> {
  const found = await authorizedRecord(ctx, req);
  if (!found.ok) return found.response;
  const { record } = found;
  endRequest(ctx, record);
  return withNumber(
    {
      status: 204,
      headers: { 'cache-control': 'no-store' },
      body: Buffer.alloc(0),
      outcome: 'cancelled',
    },
    record,
  );
}
