import { cleanOperatorText, isOAuthErrorCode } from '../errors.js';

/** A field of an operator's JSON object body, or `undefined` when the body is not an object. */
export function bodyField(body: unknown, field: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
}

/** A non-empty string field of an operator's JSON body, cleaned, or `undefined`. */
export function operatorString(body: unknown, field: string): string | undefined {
  const value = bodyField(body, field);
  return typeof value === 'string' && value !== '' ? cleanOperatorText(value) : undefined;
}

/** What an operator's error answer says, whichever of the three shapes it came in. */
export interface OperatorFailure {
  /** The OAuth `error`, else the CAMARA `code`, else the leg's fallback. */
  code: string;
  /** `HTTP 403 (PERMISSION_DENIED): text` — for the error's message. */
  description: string;
}

/**
 * The one reader of operator error bodies, for every back-channel leg. Operators answer in three
 * shapes (all seen in Vonage's SDK fixtures):
 * - RFC 6749 §5.2 `{error, error_description}`;
 * - CAMARA ErrorInfo `{status, code, message}` (Commonalities; also from Vonage's token endpoint);
 * - RFC 7807 problem+json `{type, title, status, detail}`.
 * Only `error` and `code` are stable codes (and only when they keep to RFC 6749's charset); a
 * problem's `type` (a URI) and `title` (free text) only add text, as do the descriptions.
 */
export function readOperatorFailure(
  status: number,
  body: unknown,
  fallbackCode: string,
): OperatorFailure {
  const code = stableCode(body, 'error') ?? stableCode(body, 'code');
  const texts = ['error_description', 'message', 'title', 'detail']
    .map((field) => operatorString(body, field))
    .filter((text, i, all): text is string => text !== undefined && all.indexOf(text) === i);
  const type = operatorString(body, 'type');
  let text = texts.join(': ');
  if (type !== undefined && type !== 'about:blank') text = `${text} (${type})`.trim();
  text = cleanOperatorText(text);
  return {
    code: code ?? fallbackCode,
    description: describeFailure(status, code, text),
  };
}

function stableCode(body: unknown, field: string): string | undefined {
  const value = bodyField(body, field);
  return typeof value === 'string' && isOAuthErrorCode(value)
    ? cleanOperatorText(value)
    : undefined;
}

/** `HTTP 401 (invalid_client): description` — the operator's own words, already cleaned. */
export function describeFailure(status: number, code?: string, detail?: string): string {
  return `HTTP ${status}${code ? ` (${code})` : ''}${detail ? `: ${detail}` : ''}`;
}
