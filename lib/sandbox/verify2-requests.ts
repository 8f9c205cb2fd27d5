import { randomInt, randomUUID } from 'node:crypto';
import { E164_PATTERN } from '../phone-number.js';
import { randomSecret } from './store.js';
import { resolveDevice, type DeviceResolution } from './virtual-operator.js';

/**
 * Verify v2 channels the sandbox serves. `rcs` sends its code like SMS (an RCS step's optional
 * `from`, the sender agent, is accepted and not used); `whatsapp_interactive` is out of scope.
 */
export type Verify2Channel = 'silent_auth' | 'sms' | 'rcs' | 'whatsapp' | 'voice' | 'email';
export type CodeChannel = Exclude<Verify2Channel, 'silent_auth'>;

const CHANNELS: ReadonlySet<string> = new Set([
  'silent_auth',
  'sms',
  'rcs',
  'whatsapp',
  'voice',
  'email',
]);

export interface WorkflowStep {
  channel: Verify2Channel;
  /** E.164 with `+` for phone channels, the address for `email`. */
  to: string;
  /** `silent_auth` only: where the browser is sent with the result in the URL fragment. */
  redirectUrl?: string;
}

/** A validated `POST /v2/verify` body. */
export interface NewVerification {
  brand: string;
  workflow: WorkflowStep[];
  codeLength: number;
  locale: string;
  channelTimeoutSeconds: number;
}

/** One Verify request as the sandbox keeps it. */
export interface VerifyRequestRecord {
  requestId: string;
  applicationId: string;
  brand: string;
  workflow: WorkflowStep[];
  /** Index of the current workflow step. */
  step: number;
  codeLength: number;
  locale: string;
  /** The code of the current step: sent to the outbox, or handed out by the silent-auth redirect. */
  code: string | undefined;
  /** Silent auth: what the operator saw of the device (the Virtual Operator rules for `+990`). */
  device: DeviceResolution | undefined;
  /** Wrong codes so far; the third terminates the workflow (410). */
  wrongCodes: number;
  expiresAt: number;
}

/** Wrong codes after which the workflow is terminated (choice: Vonage documents no number). */
export const MAX_WRONG_CODES = 3;

/** Vonage limits, as the API reference states them (brand ≤ 16 characters, code 4–10 digits). */
const BRAND_MAX = 16;
const CODE_LENGTH = { min: 4, max: 10, default: 4 };
const CHANNEL_TIMEOUT = { min: 15, max: 900, default: 300 };
const LOCALE = /^[a-z]{2}-[a-z]{2}$/;
/** Vonage: "E.164 … Don't use a leading + or 00"; the sandbox also accepts the `+`. */
const TO_NUMBER = /^\+?[1-9][0-9]{4,14}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const MAX_STEPS = 5;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerIn(
  value: unknown,
  name: string,
  range: { min: number; max: number; default: number },
): number | string {
  if (value === undefined) return range.default;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < range.min ||
    value > range.max
  ) {
    return `${name} must be an integer from ${range.min} to ${range.max}`;
  }
  return value;
}

function isAllowedRedirect(value: string): boolean {
  if (!URL.canParse(value) || value.includes('#')) return false;
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function parseStep(value: unknown, index: number): WorkflowStep | string {
  if (!isRecord(value)) return `workflow[${index}] must be an object`;
  const { channel, to } = value;
  if (typeof channel !== 'string' || !CHANNELS.has(channel)) {
    return `workflow[${index}].channel must be one of ${[...CHANNELS].join(', ')}`;
  }
  if (channel === 'silent_auth' && index !== 0) {
    return 'silent_auth must be the first channel of the workflow';
  }
  if (typeof to !== 'string') return `workflow[${index}].to is required`;
  if (channel === 'email') {
    if (!EMAIL.test(to)) return `workflow[${index}].to must be an e-mail address`;
  } else if (!TO_NUMBER.test(to)) {
    return `workflow[${index}].to must be an E.164 number`;
  }
  const step: WorkflowStep = {
    channel: channel as Verify2Channel,
    to: channel === 'email' || to.startsWith('+') ? to : `+${to}`,
  };
  if (value.redirect_url !== undefined) {
    if (channel !== 'silent_auth') return 'redirect_url applies to silent_auth only';
    if (typeof value.redirect_url !== 'string' || !isAllowedRedirect(value.redirect_url)) {
      return 'redirect_url must be an absolute https URL without a fragment';
    }
    step.redirectUrl = value.redirect_url;
  }
  return step;
}

/** Validates a `POST /v2/verify` body; a string is the `detail` of a 422. */
export function parseNewVerification(body: unknown): NewVerification | string {
  if (!isRecord(body)) return 'The request body must be a JSON object';
  const { brand, workflow } = body;
  if (typeof brand !== 'string' || brand.length === 0 || brand.length > BRAND_MAX) {
    return `brand is required, 1 to ${BRAND_MAX} characters`;
  }
  if (!Array.isArray(workflow) || workflow.length === 0 || workflow.length > MAX_STEPS) {
    return `workflow must list 1 to ${MAX_STEPS} channels`;
  }
  const steps: WorkflowStep[] = [];
  for (const [index, item] of workflow.entries()) {
    const step = parseStep(item, index);
    if (typeof step === 'string') return step;
    steps.push(step);
  }
  const codeLength = integerIn(body.code_length, 'code_length', CODE_LENGTH);
  if (typeof codeLength === 'string') return codeLength;
  const channelTimeout = integerIn(body.channel_timeout, 'channel_timeout', CHANNEL_TIMEOUT);
  if (typeof channelTimeout === 'string') return channelTimeout;
  const locale = body.locale ?? 'en-us';
  if (typeof locale !== 'string' || !LOCALE.test(locale)) {
    return 'locale must look like en-gb';
  }
  return {
    brand,
    workflow: steps,
    codeLength,
    locale,
    channelTimeoutSeconds: channelTimeout,
  };
}

/** The phone number a request is about (concurrency is per number), when it has one. */
export function phoneNumberOf(workflow: readonly WorkflowStep[]): string | undefined {
  return workflow.find((step) => step.channel !== 'email' && E164_PATTERN.test(step.to))?.to;
}

export function createRecord(
  applicationId: string,
  request: NewVerification,
  now: number,
): VerifyRequestRecord {
  return {
    requestId: randomUUID(),
    applicationId,
    brand: request.brand,
    workflow: request.workflow,
    step: 0,
    codeLength: request.codeLength,
    locale: request.locale,
    code: undefined,
    device: undefined,
    wrongCodes: 0,
    // Choice: each channel gets channel_timeout seconds; the request lives for all of them.
    expiresAt: now + request.channelTimeoutSeconds * 1000 * request.workflow.length,
  };
}

export function currentStep(record: VerifyRequestRecord): WorkflowStep {
  return record.workflow[record.step] as WorkflowStep;
}

/** A one-time code of `length` digits. */
export function otp(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

/** Silent auth: the operator's check hands out an opaque code (and remembers the device it saw). */
export function issueSilentCode(
  record: VerifyRequestRecord,
  devices: ReadonlyMap<string, string>,
): DeviceResolution {
  const device = resolveDevice(currentStep(record).to, devices);
  record.device = device;
  record.code = device.authenticatedByMobileNetwork ? randomSecret().slice(0, 16) : undefined;
  return device;
}
