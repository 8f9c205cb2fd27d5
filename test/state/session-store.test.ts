import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { NumberVerificationError, SessionStateStore, type PendingFlow } from '../../lib/index.js';

interface FakeSession {
  [key: string]: unknown;
  save: (callback: (err?: unknown) => void) => void;
}

function requestWithSession(saveError?: Error): {
  req: Request;
  session: FakeSession;
  saves: string[][];
} {
  const saves: string[][] = [];
  const session: FakeSession = {
    save(callback) {
      const flows = session['passport-number-verification'] as Record<string, unknown> | undefined;
      saves.push(Object.keys(flows ?? {}));
      setTimeout(() => callback(saveError), 5);
    },
  };
  return { req: { session } as unknown as Request, session, saves };
}

function flow(state: string, expiresAt = Date.now() + 60_000): PendingFlow {
  return {
    state,
    strategy: 'number-verification',
    phoneNumber: '+447700900001',
    callbackURL: 'https://app.example/cb',
    expiresAt,
  };
}

describe('SessionStateStore', () => {
  it('persists the session (req.session.save) before save resolves', async () => {
    const { req, saves } = requestWithSession();
    await new SessionStateStore().save(req, flow('s1'));
    expect(saves).toEqual([['s1']]);
  });

  it('returns a flow once and deletes it, persisting the deletion', async () => {
    const { req, session, saves } = requestWithSession();
    const store = new SessionStateStore();
    await store.save(req, flow('s1'));
    await store.save(req, flow('s2'));
    expect((await store.take(req, 's1'))?.state).toBe('s1');
    expect(await store.take(req, 's1')).toBeUndefined();
    expect(saves.at(-1)).toEqual(['s2']);
    expect((await store.take(req, 's2'))?.state).toBe('s2');
    expect(session['passport-number-verification']).toBeUndefined();
  });

  it('keeps at most maxPendingFlows, dropping the oldest', async () => {
    const { req, session } = requestWithSession();
    const store = new SessionStateStore({ maxPendingFlows: 3 });
    for (const state of ['a', 'b', 'c', 'd', 'e']) await store.save(req, flow(state));
    expect(Object.keys(session['passport-number-verification'] as object)).toEqual(['c', 'd', 'e']);
    expect(await store.take(req, 'a')).toBeUndefined();
  });

  it('prunes expired flows when saving', async () => {
    const { req, session } = requestWithSession();
    const store = new SessionStateStore();
    await store.save(req, flow('old', Date.now() - 1));
    await store.save(req, flow('new'));
    expect(Object.keys(session['passport-number-verification'] as object)).toEqual(['new']);
  });

  it('uses its own key, and ignores inherited property names', async () => {
    const { req, session } = requestWithSession();
    const store = new SessionStateStore({ key: 'nv' });
    await store.save(req, flow('s1'));
    expect(session.nv).toBeDefined();
    expect(await store.take(req, '__proto__')).toBeUndefined();
    expect(await store.take(req, 'constructor')).toBeUndefined();
  });

  it('rejects with session_required when there is no session', async () => {
    const store = new SessionStateStore();
    const noSession = {} as Request;
    await expect(store.save(noSession, flow('s1'))).rejects.toBeInstanceOf(NumberVerificationError);
    await expect(store.take(noSession, 's1')).rejects.toMatchObject({ code: 'session_required' });
  });

  it('rejects when the session store fails to save', async () => {
    const { req } = requestWithSession(new Error('redis down'));
    await expect(new SessionStateStore().save(req, flow('s1'))).rejects.toThrow('redis down');
  });

  it('works with sessions that have no save method (cookie-session)', async () => {
    const session: Record<string, unknown> = {};
    const req = { session } as unknown as Request;
    const store = new SessionStateStore();
    await store.save(req, flow('s1'));
    expect((await store.take(req, 's1'))?.state).toBe('s1');
  });

  it.each([{ key: '' }, { maxPendingFlows: 0 }, { maxPendingFlows: 1.5 }])(
    'rejects invalid options %j',
    (options) => {
      expect(() => new SessionStateStore(options)).toThrow(TypeError);
    },
  );
});
