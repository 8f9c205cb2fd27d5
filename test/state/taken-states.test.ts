import { afterEach, describe, expect, it, vi } from 'vitest';
import { TakenStates } from '../../lib/state/taken-states.js';

describe('TakenStates', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a state be claimed once while it is remembered', () => {
    const taken = new TakenStates(10);
    const expiresAt = Date.now() + 60_000;
    expect(taken.claim('a', expiresAt)).toBe(true);
    expect(taken.claim('a', expiresAt)).toBe(false);
    expect(taken.claim('b', expiresAt)).toBe(true);
  });

  it('forgets a state once its flow has expired', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const taken = new TakenStates(10);
    expect(taken.claim('a', 1_000_500)).toBe(true);
    vi.setSystemTime(1_000_501);
    expect(taken.claim('a', 1_060_000)).toBe(true);
  });

  it('keeps at most limit states, forgetting the oldest', () => {
    const taken = new TakenStates(2);
    const expiresAt = Date.now() + 60_000;
    for (const state of ['a', 'b', 'c']) expect(taken.claim(state, expiresAt)).toBe(true);
    expect(taken.claim('c', expiresAt)).toBe(false);
    expect(taken.claim('b', expiresAt)).toBe(false);
    expect(taken.claim('a', expiresAt)).toBe(true);
  });
});
