/**
 * Timing helpers shared by every layer (a leaf module: it imports nothing).
 *
 * @module
 */

/**
 * An abortable sleep: resolves after `ms` or as soon as `signal` aborts.
 *
 * @example
 * ```ts
 * await sleep(10);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** One shared interval timer and the waiters of its next tick. */
interface Clock {
  timer: ReturnType<typeof setInterval>;
  waiters: Set<() => void>;
}

/**
 * Shared interval timers: every waiter on the same period wakes on the same tick of one timer, instead
 * of a timer each. With many stats streams at 1 s, they then sample together (one batched containerd
 * call per tick) and the process wakes once per period, not once per stream. A period's timer stops
 * at its first tick with no one waiting.
 *
 * @example
 * ```ts
 * const ticks = new Ticker();
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 5);
 * await ticks.next(1000, ac.signal); // resolves at the next tick of the 1 s timer, or on abort
 * ```
 */
export class Ticker {
  readonly #clocks = new Map<number, Clock>();

  /** Resolves at the next tick of the shared `periodMs` timer, or as soon as `signal` aborts. */
  next(periodMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let clock = this.#clocks.get(periodMs);
      if (!clock) {
        const waiters = new Set<() => void>();
        const timer = setInterval(() => this.#tick(periodMs), periodMs);
        this.#clocks.set(periodMs, clock = { timer, waiters });
      }
      const c = clock;
      const done = () => {
        c.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      c.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Stops every timer and wakes every waiter. */
  close(): void {
    for (const [period, c] of this.#clocks) {
      clearInterval(c.timer);
      this.#clocks.delete(period);
      for (const w of [...c.waiters]) w();
    }
  }

  /** How many periods have a running timer (for tests and diagnostics). */
  get running(): number {
    return this.#clocks.size;
  }

  /** Wakes the waiters; a tick that finds none stops the timer (waiters re-arm right after a tick). */
  #tick(periodMs: number): void {
    const c = this.#clocks.get(periodMs);
    if (!c) return;
    if (c.waiters.size === 0) {
      clearInterval(c.timer);
      this.#clocks.delete(periodMs);
      return;
    }
    for (const w of [...c.waiters]) w();
  }
}
