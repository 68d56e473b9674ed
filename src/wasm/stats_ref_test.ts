import { assert, assertEquals } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import { R, S, SAMPLE_LEN, statsDelta } from "./stats_ref.ts";

function sample(o: Partial<Record<keyof typeof S, number>>): Float64Array {
  const s = new Float64Array(SAMPLE_LEN);
  for (const [k, v] of Object.entries(o)) s[S[k as keyof typeof S]] = v!;
  return s;
}

Deno.test("statsDelta: percentages from two samples, ticks from MHz, counters passed through", () => {
  const prev = sample({ TIME_NS: 1e9, CPU_TOTAL_NS: 2e9, CPU_USER_NS: 1.5e9, CPU_SYSTEM_NS: 0.5e9 });
  const cur = sample({
    TIME_NS: 3e9,
    CPU_TOTAL_NS: 5e9,
    CPU_USER_NS: 3.5e9,
    CPU_SYSTEM_NS: 1.5e9,
    THROTTLED_PERIODS: 7,
    THROTTLED_TIME_NS: 1234,
    MEM_RSS: 100,
    MEM_USAGE: 300,
    MEM_SWAP: 5,
  });
  const r = statsDelta(prev, cur, 2400);
  assertEquals(r[R.CPU_PERCENT], 150); // 3 s of CPU in 2 s
  assertEquals(r[R.CPU_USER_PERCENT], 100);
  assertEquals(r[R.CPU_SYSTEM_PERCENT], 50);
  assertEquals(r[R.CPU_TOTAL_TICKS], 3600);
  assertEquals(r[R.THROTTLED_PERIODS], 7);
  assertEquals(r[R.THROTTLED_TIME_NS], 1234);
  assertEquals([r[R.MEM_RSS], r[R.MEM_USAGE], r[R.MEM_SWAP]], [100, 300, 5]);
});

Deno.test("statsDelta: the first sample and a counter reset give 0 %, never negative", () => {
  const cur = sample({ TIME_NS: 5e9, CPU_TOTAL_NS: 9e9 });
  assertEquals(statsDelta(new Float64Array(SAMPLE_LEN), cur, 1000)[R.CPU_PERCENT], 0);
  const reset = statsDelta(cur, sample({ TIME_NS: 6e9, CPU_TOTAL_NS: 1e8 }), 1000);
  assertEquals(reset[R.CPU_PERCENT], 0);
});

Deno.test("statsDelta properties: finite, non-negative, percent = used / wall", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e15, noNaN: true }),
      fc.double({ min: 1e6, max: 1e12, noNaN: true }),
      fc.double({ min: 0, max: 1e13, noNaN: true }),
      fc.double({ min: 0, max: 1e13, noNaN: true }),
      (t, dt, used0, used) => {
        const r = statsDelta(
          sample({ TIME_NS: t, CPU_TOTAL_NS: used0 }),
          sample({ TIME_NS: t + dt, CPU_TOTAL_NS: used0 + used }),
          1000,
        );
        assert(Number.isFinite(r[R.CPU_PERCENT]) && r[R.CPU_PERCENT] >= 0);
        const expect = used / ((t + dt) - t) * 100;
        assert(Math.abs(r[R.CPU_PERCENT] - expect) <= 1e-6 * Math.max(1, expect));
      },
    ),
    { numRuns: 2000 },
  );
});
