/**
 * One queue per session id, for the whole process: the read-modify-write of a session's pending
 * flows runs for one request at a time, so two tabs (or a callback delivered twice) cannot both
 * read the same session and overwrite each other's change. Only within one process: several
 * processes need a store that is atomic itself.
 */
const queues = new Map<string, Promise<void>>();

/** Runs `task` once every earlier task of the same session id has settled. */
export async function withSessionLock<T>(
  sessionId: string | undefined,
  task: () => Promise<T>,
): Promise<T> {
  if (sessionId === undefined) return task();
  const previous = queues.get(sessionId) ?? Promise.resolve();
  let release = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => done);
  queues.set(sessionId, tail);
  await previous;
  try {
    return await task();
  } finally {
    release();
    // The last in line removes the queue, so idle sessions hold no memory.
    if (queues.get(sessionId) === tail) queues.delete(sessionId);
  }
}
