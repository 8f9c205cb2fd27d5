/**
 * Vonage Verify v2 (`{verifyBaseURL}/v2/verify`): start a workflow, check a code, move on to the
 * next channel, cancel. Every call authenticates with the application JWT (as the token endpoint).
 * Errors are RFC 7807 problems whose `type` ends in the catalogue code
 * (`…/api-errors/verify-v2#invalid-code`); they become {@link VerificationError}s carrying that code.
 */
import type { KeyObject } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { createApplicationJWT } from './client-auth.js';
import { postToOperator, type BackChannelOptions, type BackChannelResponse } from './http.js';
import { bodyField, operatorString, readOperatorFailure } from './operator-body.js';

/** The channels a code can be sent by, in the order the strategy falls back to them. */
export type FallbackChannel = 'sms' | 'rcs' | 'whatsapp' | 'voice' | 'email';
export type Verify2Channel = 'silent_auth' | FallbackChannel;

export interface WorkflowStep {
  channel: Verify2Channel;
  /** E.164 number (sent without `+`, as Vonage asks) or, for `email`, the address. */
  to: string;
  /** `silent_auth` only: where the device is sent with the result in the URL fragment. */
  redirectURL?: string;
}

export interface Verify2Client {
  baseURL: URL;
  applicationId: string;
  privateKey: KeyObject;
}

export interface StartVerification {
  brand: string;
  workflow: readonly WorkflowStep[];
  codeLength?: number | undefined;
  locale?: string | undefined;
  /** Seconds each channel is given before Verify moves on. */
  channelTimeout?: number | undefined;
}

export interface StartedVerification {
  requestId: string;
  /** Present when the workflow starts with `silent_auth`: the URL the device must open. */
  checkURL: string | undefined;
}

/** What an `email` step needs; a plausible address, not a validated one (Vonage validates). */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * The workflow of a sign-in: `silent_auth` first, redirecting to `redirectURL`, then each fallback
 * channel — an `email` step only when there is an address to send it to.
 */
export function silentAuthWorkflow(
  phoneNumber: string,
  fallback: readonly FallbackChannel[],
  redirectURL: string,
  email: string | undefined,
): WorkflowStep[] {
  const steps: WorkflowStep[] = [{ channel: 'silent_auth', to: phoneNumber, redirectURL }];
  for (const channel of fallback) {
    if (channel !== 'email') steps.push({ channel, to: phoneNumber });
    else if (email !== undefined && EMAIL.test(email)) steps.push({ channel, to: email });
  }
  return steps;
}

/** Vonage request ids are UUIDs; anything else is refused before it goes into a path. */
const REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

function wireStep(step: WorkflowStep): Record<string, string> {
  const to = step.channel === 'email' ? step.to : step.to.replace(/^\+/, '');
  return step.redirectURL === undefined
    ? { channel: step.channel, to }
    : { channel: step.channel, to, redirect_url: step.redirectURL };
}

function endpoint(client: Verify2Client, path: string): URL {
  return new URL(
    `v2/verify${path}`,
    client.baseURL.href.endsWith('/') ? client.baseURL : `${client.baseURL.href}/`,
  );
}

async function call(
  client: Verify2Client,
  request: { path: string; method?: 'POST' | 'DELETE'; body?: object; label: string },
  options: BackChannelOptions,
): Promise<BackChannelResponse> {
  const jwt = await createApplicationJWT(client.applicationId, client.privateKey);
  const headers: Record<string, string> = {
    authorization: `Bearer ${jwt}`,
    accept: 'application/json',
  };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const response = await postToOperator(
    {
      url: endpoint(client, request.path),
      ...(request.method === undefined ? {} : { method: request.method }),
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      label: request.label,
      makeError: (message, errorOptions) => new VerificationError(message, errorOptions),
    },
    options,
  );
  if (response.status < 200 || response.status > 299) {
    throw problemError(request.label, response);
  }
  return response;
}

/**
 * An error answer → VerificationError, read by the one operator-body reader (RFC 6749, CAMARA
 * ErrorInfo, RFC 7807). Vonage's Verify v2 problems carry no `error`/`code` member: their stable
 * code is the fragment of `type` in Vonage's catalogue (`…/api-errors/verify-v2#invalid-code`).
 */
function problemError(label: string, { status, json }: BackChannelResponse): VerificationError {
  const failure = readOperatorFailure(status, json, FALLBACK_CODE);
  const code =
    failure.code === FALLBACK_CODE ? (catalogueCode(json) ?? FALLBACK_CODE) : failure.code;
  return new VerificationError(`${label} failed: ${failure.description}`, { code, status });
}

const FALLBACK_CODE = 'verify_request_failed';

function catalogueCode(body: unknown): string | undefined {
  const type = operatorString(body, 'type');
  const fragment = type?.includes('#') ? type.slice(type.lastIndexOf('#') + 1) : undefined;
  return fragment !== undefined && /^[a-z0-9-]{1,64}$/.test(fragment) ? fragment : undefined;
}

/** `POST /v2/verify`: starts the workflow (Vonage answers 202 `{request_id, check_url?}`). */
export async function startVerification(
  client: Verify2Client,
  request: StartVerification,
  options: BackChannelOptions,
): Promise<StartedVerification> {
  const body: Record<string, unknown> = {
    brand: request.brand,
    workflow: request.workflow.map(wireStep),
  };
  if (request.codeLength !== undefined) body.code_length = request.codeLength;
  if (request.locale !== undefined) body.locale = request.locale;
  if (request.channelTimeout !== undefined) body.channel_timeout = request.channelTimeout;
  const { status, json } = await call(
    client,
    { path: '', body, label: 'Verify start request' },
    options,
  );
  const requestId = bodyField(json, 'request_id');
  const checkURL = bodyField(json, 'check_url');
  const startsSilently = request.workflow[0]?.channel === 'silent_auth';
  if (!isRequestId(requestId) || (startsSilently && !isHttpURL(checkURL))) {
    throw new VerificationError(
      `Verify start response (HTTP ${status}) has no usable request_id${startsSilently ? ' and check_url' : ''}`,
      { code: 'invalid_verify_response', status },
    );
  }
  return { requestId, checkURL: startsSilently ? (checkURL as string) : undefined };
}

function isHttpURL(value: unknown): boolean {
  return typeof value === 'string' && /^https?:\/\//i.test(value) && URL.canParse(value);
}

/**
 * `POST /v2/verify/{request_id}` with `{code}`: the request's `status` (`completed` when the code
 * is right). Wrong code, too many attempts, unknown request… arrive as errors (400, 410, 404).
 */
export async function checkCode(
  client: Verify2Client,
  requestId: string,
  code: string,
  options: BackChannelOptions,
): Promise<string> {
  const { status, json } = await call(
    client,
    { path: `/${encodeURIComponent(requestId)}`, body: { code }, label: 'Verify check request' },
    options,
  );
  const answer = bodyField(json, 'status');
  if (typeof answer !== 'string' || answer === '') {
    throw new VerificationError(`Verify check response (HTTP ${status}) has no status`, {
      code: 'invalid_verify_response',
      status,
    });
  }
  return answer;
}

/** `POST /v2/verify/{request_id}/next_workflow`: Verify moves on to the next channel now. */
export function nextWorkflow(
  client: Verify2Client,
  requestId: string,
  options: BackChannelOptions,
): Promise<void> {
  return callWithoutAnswer(client, requestId, 'next', options);
}

/** `DELETE /v2/verify/{request_id}`: cancels the request (204). */
export function cancelVerification(
  client: Verify2Client,
  requestId: string,
  options: BackChannelOptions,
): Promise<void> {
  return callWithoutAnswer(client, requestId, 'cancel', options);
}

async function callWithoutAnswer(
  client: Verify2Client,
  requestId: string,
  action: 'next' | 'cancel',
  options: BackChannelOptions,
): Promise<void> {
  const path = `/${encodeURIComponent(requestId)}`;
  await call(
    client,
    action === 'next'
      ? { path: `${path}/next_workflow`, label: 'Verify next-workflow request' }
      : { path, method: 'DELETE', label: 'Verify cancel request' },
    options,
  );
}
