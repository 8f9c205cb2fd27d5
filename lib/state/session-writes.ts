import { createHash } from 'node:crypto';

/**
 * A fingerprint of the pending flows this process last wrote to each session (per session key), so
 * a request whose copy of the session still holds exactly those can skip re-reading the session
 * store: nothing in this process has changed them since. Anything else (a copy loaded before
 * another request's write, a session this process never wrote) is re-read. Shared by every
 * SessionStateStore in the process, since two stores can use one key.
 */
const written = new Map<string, string>();
// Sessions remembered; past it the oldest is forgotten and simply re-read next time.
const LIMIT = 10_000;

function fingerprint(flows: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(flows) ?? '')
    .digest('base64url');
}

/** Whether `flows` are what this process last wrote under `key` in session `sessionId`. */
export function isLastWritten(sessionId: string, key: string, flows: unknown): boolean {
  const last = written.get(`${key}\0${sessionId}`);
  return last !== undefined && last === fingerprint(flows);
}

/** Records the flows just written under `key` in session `sessionId`. */
export function recordWritten(sessionId: string, key: string, flows: unknown): void {
  const entry = `${key}\0${sessionId}`;
  written.delete(entry);
  written.set(entry, fingerprint(flows));
  if (written.size > LIMIT) {
    const [oldest] = written.keys();
    if (oldest !== undefined) written.delete(oldest);
  }
}
