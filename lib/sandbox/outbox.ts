import type { SandboxContext, SandboxRequest } from './context.js';
import { escapeHtml, jsonResponse, type SandboxResponse } from './http-util.js';
import type { CodeChannel } from './verify2-requests.js';

/** A code the sandbox "sent": nothing leaves the machine, tests and the example read it here. */
export interface OutboxMessage {
  channel: CodeChannel;
  /** E.164 with `+`, or the e-mail address. */
  to: string;
  code: string;
  brand: string;
  requestId: string;
  /** What the user would have read or heard. */
  text: string;
  /** Epoch milliseconds. */
  sentAt: number;
}

/** Most messages kept; the oldest go first so a long-running sandbox stays small. */
const MAX_MESSAGES = 1_000;

function normalizeRecipient(to: string): string {
  return /^[1-9][0-9]{4,14}$/.test(to) ? `+${to}` : to;
}

export class Outbox {
  private messages: OutboxMessage[] = [];

  add(message: OutboxMessage): void {
    this.messages.push(message);
    if (this.messages.length > MAX_MESSAGES) this.messages.shift();
  }

  /** Messages to `to` (`+447…`, `447…` or an e-mail address), oldest first; all when `to` is omitted. */
  list(to?: string): OutboxMessage[] {
    const wanted = to === undefined ? undefined : normalizeRecipient(to);
    return this.messages
      .filter((message) => wanted === undefined || message.to === wanted)
      .map((message) => ({ ...message }));
  }
}

export function messageText(brand: string, code: string): string {
  return `${brand}: your verification code is ${code}`;
}

function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined &&
    (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
  );
}

/**
 * GET /sandbox/outbox[?to=…] — the codes "sent", for people and tests on this machine only:
 * any other client gets 404, as if the page did not exist. JSON when asked for, else HTML.
 */
export function handleOutbox(ctx: SandboxContext, req: SandboxRequest): SandboxResponse {
  if (!isLoopback(req.remoteAddress)) {
    return jsonResponse(404, { title: 'Not Found' }, 'not_local');
  }
  const to = req.url.searchParams.get('to') ?? undefined;
  const messages = ctx.outbox.list(to).reverse();
  if ((req.headers.accept ?? '').includes('application/json')) {
    return jsonResponse(200, { messages }, 'outbox');
  }
  const rows = messages
    .map(
      (m) =>
        `<tr><td>${escapeHtml(new Date(m.sentAt).toISOString())}</td><td>${escapeHtml(m.channel)}</td><td>${escapeHtml(m.to)}</td><td><code>${escapeHtml(m.code)}</code></td><td>${escapeHtml(m.text)}</td></tr>`,
    )
    .join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Sandbox outbox</title></head><body><h1>Sandbox outbox</h1><p>Codes the sandbox would have sent. Nothing left this machine.</p><table><thead><tr><th>Sent</th><th>Channel</th><th>To</th><th>Code</th><th>Message</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: Buffer.from(html),
    outcome: 'outbox',
  };
}
