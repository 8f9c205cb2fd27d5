import { createPrivateKey } from 'node:crypto';
import { format, inspect } from 'node:util';
import { Agent, type Dispatcher } from 'undici';

/**
 * The one secrets scanner of the test suite. A {@link SecretRecorder} learns the real secrets of a
 * run (the application's private key, every JWT, authorization code, PKCE verifier and access token that crossed
 * the back channel, the full phone numbers), and {@link findLeaks} / {@link expectNoLeaks} scan an
 * outcome for any of them: the error as `String(err)`, `err.stack` and `util.inspect`, the `info`
 * as JSON, captured debug output, response bodies and redirect locations.
 */

export type SecretKind =
  | 'access token'
  | 'JWT'
  | 'JWT signature'
  | 'code'
  | 'PKCE verifier'
  | 'private key'
  | 'phone number';

/** Values shorter than this are not scanned for: they would match by accident (a code `42`). */
const MIN_SECRET_LENGTH = 12;
/** What secrets are made of: base64url (codes, tokens), base64 (PEM), `.` (JWT), `+` and digits. */
const SECRET_RUN = /[A-Za-z0-9_\-.~+/=]{12,}/g;

/** What a test saw of one request's outcome. Every field is optional; all present ones are scanned. */
export interface ScanTarget {
  /** The error handed to `this.error` (or any thrown value). */
  error?: unknown;
  /** The `info` handed to `fail` or `success`, or a fail challenge. */
  info?: unknown;
  /** Response bodies the app sent. */
  responseBodies?: readonly string[];
  /** `Location` headers the app sent. */
  locations?: readonly string[];
  /** Debug output captured while the request ran. */
  debugOutput?: string | readonly string[];
  /** Any further text (log lines). */
  text?: readonly string[];
}

export interface ScanOptions {
  /**
   * Where the full phone number may legitimately appear: `success` info carries `phoneNumber` by
   * contract, the redirect to the operator carries `login_hint`. Everywhere else it is a leak.
   */
  allowPhoneNumberIn?: ReadonlyArray<'info' | 'responseBodies' | 'locations'>;
}

export interface Leak {
  kind: SecretKind;
  /** Where it was found, e.g. `util.inspect(error)`. */
  where: string;
}

/** The text views of a thrown value that a log line or an error page could ever show. */
export function errorViews(error: unknown): Record<string, string> {
  const views: Record<string, string> = {
    'String(error)': safeString(error),
    'util.inspect(error)': inspect(error, { depth: 10 }),
    'util.inspect(error, showHidden)': inspect(error, { depth: 10, showHidden: true }),
  };
  if (error instanceof Error) {
    views['error.stack'] = String(error.stack);
    views['error.message'] = error.message;
    views['JSON.stringify(error)'] = safeJson(error);
    // Own properties that inspect may shorten (long strings) are scanned in full.
    for (const name of Object.getOwnPropertyNames(error)) {
      const value: unknown = (error as unknown as Record<string, unknown>)[name];
      if (typeof value === 'string') views[`error.${name}`] = value;
    }
    if (error.cause !== undefined) {
      for (const [where, text] of Object.entries(errorViews(error.cause))) {
        views[`cause: ${where}`] = text;
      }
    }
  }
  return views;
}

/**
 * Learns the secrets of a run. Pass {@link dispatcher} as the strategy's `dispatcher` option: it
 * records, without touching the traffic, the JWT and the code of every token request and the access
 * token of every verify request — the real values the operator issued.
 */
export class SecretRecorder {
  readonly #values = new Map<SecretKind, Set<string>>();
  /** Every value by its length, with its kinds: lets a scan look up windows instead of searching. */
  readonly #byLength = new Map<number, Map<string, SecretKind[]>>();
  /** An undici dispatcher for the strategy's back channel that records what it sends. */
  readonly dispatcher: Dispatcher;

  readonly #learnCodesFromRequests: boolean;

  /**
   * `learnCodesFromRequests: false` learns codes only from the operator's redirects
   * ({@link addCallbackURL}): for fuzzing, where the strategy also sends made-up codes (which are
   * no secret and may legitimately reappear, e.g. echoed as an OAuth `error`).
   */
  constructor(
    options: {
      privateKeyPem?: string;
      phoneNumbers?: readonly string[];
      learnCodesFromRequests?: boolean;
    } = {},
  ) {
    this.#learnCodesFromRequests = options.learnCodesFromRequests ?? true;
    if (options.privateKeyPem !== undefined) this.addPrivateKey(options.privateKeyPem);
    for (const phoneNumber of options.phoneNumbers ?? []) this.addPhoneNumber(phoneNumber);
    this.dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      this.#recordRequest(opts);
      return dispatch(opts, handler);
    });
  }

  add(kind: SecretKind, value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    if (!new RegExp(`^${SECRET_RUN.source}$`).test(value)) {
      throw new Error(`a ${kind} with characters the scanner does not index`);
    }
    let values = this.#values.get(kind);
    if (values === undefined) {
      values = new Set();
      this.#values.set(kind, values);
    }
    values.add(value);
    let sameLength = this.#byLength.get(value.length);
    if (sameLength === undefined) {
      sameLength = new Map();
      this.#byLength.set(value.length, sameLength);
    }
    const kinds = sameLength.get(value) ?? [];
    if (!kinds.includes(kind)) sameLength.set(value, [...kinds, kind]);
  }

  /**
   * Every recorded secret that occurs in `text`, exactly. All secrets are runs of URL-safe, base64
   * and E.164 characters, so a secret can only occur inside such a run of the text: each run is cut
   * into windows of each secret length, and each window looked up — linear in the text, whatever
   * the number of secrets (a load test records thousands).
   */
  occurrences(text: string): [SecretKind, string][] {
    const found: [SecretKind, string][] = [];
    for (const [run] of text.matchAll(SECRET_RUN)) {
      for (const [length, values] of this.#byLength) {
        for (let i = 0; i + length <= run.length; i++) {
          const kinds = values.get(run.slice(i, i + length));
          if (kinds !== undefined)
            for (const kind of kinds) found.push([kind, run.slice(i, i + length)]);
        }
      }
    }
    return found;
  }

  /** The PEM body lines and the private JWK members (`d`, `p`, `q`, `dp`, `dq`, `qi`). */
  addPrivateKey(pem: string): void {
    for (const line of pem.split(/\r?\n/)) {
      if (!line.startsWith('-----') && line.trim().length >= 40)
        this.add('private key', line.trim());
    }
    const jwk = createPrivateKey(pem).export({ format: 'jwk' });
    for (const member of [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
      if (typeof member === 'string') this.add('private key', member.slice(0, 64));
    }
  }

  /** The E.164 number, and its digits without the `+`. */
  addPhoneNumber(phoneNumber: string): void {
    this.add('phone number', phoneNumber);
    this.add('phone number', phoneNumber.replace(/^\+/, ''));
  }

  /** The code in a callback URL the operator redirected to. */
  addCallbackURL(url: URL | string): void {
    const code = new URL(url, 'http://callback.invalid').searchParams.get('code');
    if (code !== null) this.add('code', code);
  }

  /** Forgets the values of these kinds (a load test scans each run, then starts afresh). */
  forget(kinds: readonly SecretKind[]): void {
    for (const kind of kinds) {
      for (const value of this.#values.get(kind) ?? []) {
        const sameLength = this.#byLength.get(value.length);
        const left = (sameLength?.get(value) ?? []).filter((k) => k !== kind);
        if (left.length > 0) sameLength?.set(value, left);
        else sameLength?.delete(value);
      }
      this.#values.delete(kind);
    }
  }

  values(kind: SecretKind): string[] {
    return [...(this.#values.get(kind) ?? [])];
  }

  /** How many distinct values of each kind were learnt (tests assert the recorder saw traffic). */
  count(kind: SecretKind): number {
    return this.#values.get(kind)?.size ?? 0;
  }

  *entries(): Generator<[SecretKind, string]> {
    for (const [kind, values] of this.#values) for (const value of values) yield [kind, value];
  }

  #recordRequest(opts: Dispatcher.DispatchOptions): void {
    const authorization = headerValue(opts.headers, 'authorization');
    const bearer = authorization?.match(/^Bearer (.+)$/i)?.[1];
    const body = typeof opts.body === 'string' ? opts.body : undefined;
    if (body !== undefined && /(^|&)grant_type=/.test(body)) {
      const code = new URLSearchParams(body).get('code');
      if (code !== null && this.#learnCodesFromRequests) this.add('code', code);
      const verifier = new URLSearchParams(body).get('code_verifier');
      if (verifier !== null) this.add('PKCE verifier', verifier);
      // private_key_jwt: the client assertion is a JWT in the form (RFC 7523 §2.2).
      const assertion = new URLSearchParams(body).get('client_assertion');
      if (assertion !== null) {
        this.add('JWT', assertion);
        const signature = assertion.split('.')[2];
        if (signature !== undefined) this.add('JWT signature', signature);
      }
      if (bearer !== undefined) {
        this.add('JWT', bearer);
        const signature = bearer.split('.')[2];
        if (signature !== undefined) this.add('JWT signature', signature);
      }
    } else if (bearer !== undefined && /^\/v2\/verify(\/|$)/.test(String(opts.path))) {
      // Vonage Verify v2: every call carries the application JWT; a check carries the code.
      this.add('JWT', bearer);
      const signature = bearer.split('.')[2];
      if (signature !== undefined) this.add('JWT signature', signature);
      const code = body === undefined ? undefined : jsonCode(body);
      if (code !== undefined && this.#learnCodesFromRequests) this.add('code', code);
    } else if (bearer !== undefined) {
      this.add('access token', bearer);
    }
  }
}

function jsonCode(body: string): string | undefined {
  try {
    const code: unknown = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Every place a recorded secret appears in `target`. */
export function findLeaks(
  target: ScanTarget,
  secrets: SecretRecorder,
  options: ScanOptions = {},
): Leak[] {
  const allowed = new Set(options.allowPhoneNumberIn ?? []);
  const texts: { where: string; text: string; phoneAllowed: boolean }[] = [];
  if ('error' in target && target.error !== undefined) {
    for (const [where, text] of Object.entries(errorViews(target.error))) {
      texts.push({ where, text, phoneAllowed: false });
    }
  }
  if (target.info !== undefined) {
    texts.push({
      where: 'JSON.stringify(info)',
      text: safeJson(target.info),
      phoneAllowed: allowed.has('info'),
    });
    texts.push({
      where: 'util.inspect(info)',
      text: inspect(target.info, { depth: 10 }),
      phoneAllowed: allowed.has('info'),
    });
  }
  for (const body of target.responseBodies ?? []) {
    texts.push({ where: 'response body', text: body, phoneAllowed: allowed.has('responseBodies') });
  }
  for (const location of target.locations ?? []) {
    texts.push({ where: 'Location', text: location, phoneAllowed: allowed.has('locations') });
    texts.push({
      where: 'Location (decoded)',
      text: safeDecode(location),
      phoneAllowed: allowed.has('locations'),
    });
  }
  const debugOutput = target.debugOutput;
  const debugLines = typeof debugOutput === 'string' ? [debugOutput] : (debugOutput ?? []);
  for (const line of debugLines)
    texts.push({ where: 'debug output', text: line, phoneAllowed: false });
  for (const line of target.text ?? [])
    texts.push({ where: 'text', text: line, phoneAllowed: false });

  const leaks: Leak[] = [];
  for (const { where, text, phoneAllowed } of texts) {
    const kinds = new Set(secrets.occurrences(text).map(([kind]) => kind));
    for (const kind of kinds) {
      if (kind === 'phone number' && phoneAllowed) continue;
      leaks.push({ kind, where });
    }
  }
  return leaks;
}

/** Throws, naming each kind of secret and where it appeared, when `target` leaks any. */
export function expectNoLeaks(
  target: ScanTarget,
  secrets: SecretRecorder,
  options: ScanOptions = {},
): void {
  const leaks = findLeaks(target, secrets, options);
  if (leaks.length > 0) {
    const list = leaks.map((leak) => `${leak.kind} in ${leak.where}`).join(', ');
    throw new Error(`secret leaked: ${list}`);
  }
}

/**
 * Debug output of the strategy. `lib/debug.ts` is `util.debuglog('passport-number-verification')`,
 * which reads `NODE_DEBUG` once at process start-up — before a test file runs — so test files
 * replace it with {@link recordingDebug}, which formats each line exactly as `util.debuglog` does
 * and keeps it here (and writes it to stderr too when `NODE_DEBUG` enables the section):
 *
 *     vi.mock('../../lib/debug.js', async () => ({
 *       debug: (await import('../helpers/secrets.js')).recordingDebug,
 *     }));
 */
export const debugOutput: string[] = [];

const DEBUG_SECTION = 'passport-number-verification';
const debugToStderr = (process.env.NODE_DEBUG ?? '')
  .split(',')
  .some((section) => section.trim().toLowerCase() === DEBUG_SECTION || section.trim() === '*');

export function recordingDebug(message: string, ...args: unknown[]): void {
  const line = `${DEBUG_SECTION.toUpperCase()} ${process.pid}: ${format(message, ...args)}`;
  debugOutput.push(line);
  if (debugToStderr) process.stderr.write(`${line}\n`);
}

/** Lines of debug output written since `mark` (a previous `debugOutput.length`). */
export function debugOutputSince(mark: number): string[] {
  return debugOutput.slice(mark);
}

function headerValue(
  headers: Dispatcher.DispatchOptions['headers'],
  name: string,
): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return inspect(value);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return inspect(value, { depth: 10 });
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
