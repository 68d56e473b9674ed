/**
 * One full garbage collection after a burst of work (a pull), instead of V8's memory reducer, which
 * polls an idle process on timers to shrink its heap (the plugin runs with `--no-memory-reducer` and
 * `--expose-gc`: src/driver/sandbox.ts). A leaf module: it imports nothing. In src/image, not src/util:
 * it unrefs its timer with a Deno API, which the browser-pure folders may not call.
 *
 * @module
 */

let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * Runs one full GC `delayMs` after the last call (calls in between push it back), if the runtime exposes
 * `gc`; a no-op otherwise (tests, the playground). The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * compactHeapSoon(); // after a pull: its garbage is freed and the heap shrinks once the burst is over
 * ```
 */
export function compactHeapSoon(delayMs = 3000): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") return;
  if (timer !== undefined) clearTimeout(timer);
  const t = setTimeout(() => {
    timer = undefined;
    gc();
  }, delayMs);
  timer = t;
  Deno.unrefTimer(t);
}
