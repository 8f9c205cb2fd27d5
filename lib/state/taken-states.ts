/**
 * The states a store instance has handed out, remembered until their flow would have expired, so
 * that within one process a state is taken once even where the store itself cannot forget it (a
 * cookie that a browser replays, or a callback delivered twice at once).
 */
export class TakenStates {
  /** state → epoch ms after which remembering it is pointless (the strategy refuses it anyway). */
  readonly #until = new Map<string, number>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** True the first time `state` is claimed; false for every later claim while it is remembered. */
  claim(state: string, expiresAt: number): boolean {
    const now = Date.now();
    // Insertion order is nearly expiry order (one stateMaxAge per strategy): prune from the front.
    for (const [taken, until] of this.#until) {
      if (until > now) break;
      this.#until.delete(taken);
    }
    if (this.#until.has(state)) return false;
    this.#until.set(state, expiresAt);
    // Bounded memory: past the limit the oldest is forgotten (the operator still refuses its code).
    if (this.#until.size > this.#limit) {
      const [oldest] = this.#until.keys();
      if (oldest !== undefined) this.#until.delete(oldest);
    }
    return true;
  }
}
