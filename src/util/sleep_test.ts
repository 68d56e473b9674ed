import { assertEquals } from "../../tests/harness/assert.ts";
import { Ticker } from "./sleep.ts";

Deno.test("Ticker: waiters on one period share one timer and wake on the same tick", async () => {
  const t = new Ticker();
  const order: string[] = [];
  const a = t.next(20).then(() => order.push("a"));
  const b = t.next(20).then(() => order.push("b"));
  assertEquals(t.running, 1);
  // Both resolve from the same tick: after it, neither re-armed, and the next tick stops the timer.
  await Promise.all([a, b]);
  assertEquals(order.sort(), ["a", "b"]);
  const c = t.next(30);
  assertEquals(t.running, 2);
  await c;
  while (t.running > 0) await new Promise((r) => setTimeout(r, 10));
  assertEquals(t.running, 0);
});

Deno.test("Ticker: an aborted wait resolves at once and its timer stops at the next tick", async () => {
  const t = new Ticker();
  const ac = new AbortController();
  const w = t.next(60_000, ac.signal);
  assertEquals(t.running, 1);
  ac.abort();
  await w;
  const done = new AbortController();
  done.abort();
  await t.next(10, done.signal); // already aborted: no timer
  assertEquals(t.running, 1); // the 60 s timer stays armed until its next tick …
  const other = t.next(60_000);
  t.close(); // … or close(), which also wakes the waiters
  await other;
  assertEquals(t.running, 0);
});
