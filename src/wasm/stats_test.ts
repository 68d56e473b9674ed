// The stats delta as the plugin computes it (WASM): worked examples, properties, and a differential test
// against the TypeScript oracle (tests/oracles/stats.ts) that demands the very same f64 values.
import fc from "fast-check";
import { assert, assertEquals } from "../../tests/harness/assert.ts";
import { statsDeltaOracle } from "../../tests/oracles/stats.ts";
import { RESULT_FIELDS, SAMPLE_FIELDS, statsDelta, type StatsResult, type StatsSample } from "./stats.ts";

const ZERO: StatsSample = Object.fromEntries(SAMPLE_FIELDS.map((k) => [k, 0])) as unknown as StatsSample;
const sample = (o: Partial<StatsSample>): StatsSample => ({ ...ZERO, cgroupVersion: 2, ...o });

Deno.test("statsDelta: percentages from two samples, ticks from MHz, counters passed through", () => {
  const prev = sample({ timeNs: 1e9, cpuTotalNs: 2e9, cpuUserNs: 1.5e9, cpuSystemNs: 0.5e9 });
  const cur = sample({
    timeNs: 3e9,
    cpuTotalNs: 5e9,
    cpuUserNs: 3.5e9,
    cpuSystemNs: 1.5e9,
    throttledPeriods: 7,
    throttledTimeNs: 1234,
    memRss: 100,
    memUsage: 300,
    memSwap: 5,
  });
  const r = statsDelta(prev, cur, 2400);
  assertEquals(r.cpuPercent, 150); // 3 s of CPU in 2 s
  assertEquals(r.cpuUserPercent, 100);
  assertEquals(r.cpuSystemPercent, 50);
  assertEquals(r.cpuTotalTicks, 3600);
  assertEquals([r.throttledPeriods, r.throttledTimeNs], [7, 1234]);
  assertEquals([r.memRss, r.memUsage, r.memSwap], [100, 300, 5]);
});

Deno.test("statsDelta: the first sample and a counter reset give 0 %, never negative", () => {
  const cur = sample({ timeNs: 5e9, cpuTotalNs: 9e9 });
  assertEquals(statsDelta(undefined, cur, 1000).cpuPercent, 0);
  assertEquals(statsDelta(ZERO, cur, 1000).cpuPercent, 0);
  assertEquals(statsDelta(cur, sample({ timeNs: 6e9, cpuTotalNs: 1e8 }), 1000).cpuPercent, 0);
});

Deno.test("statsDelta properties: finite, non-negative, percent = used / wall", () => {
  const time = fc.double({ min: 1, max: 1e15, noNaN: true });
  const dt = fc.double({ min: 1e6, max: 1e12, noNaN: true });
  const used = fc.double({ min: 0, max: 1e13, noNaN: true });
  fc.assert(
    fc.property(time, dt, used, used, (t, d, used0, u) => {
      const r = statsDelta(
        sample({ timeNs: t, cpuTotalNs: used0 }),
        sample({ timeNs: t + d, cpuTotalNs: used0 + u }),
        1000,
      );
      assert(Number.isFinite(r.cpuPercent) && r.cpuPercent >= 0);
      const expect = u / ((t + d) - t) * 100;
      assert(Math.abs(r.cpuPercent - expect) <= 1e-6 * Math.max(1, expect));
    }),
    { numRuns: 2000 },
  );
});

// --- WASM == oracle ---------------------------------------------------------------------------------

function same(a: StatsResult, b: StatsResult): boolean {
  return RESULT_FIELDS.every((k) => Object.is(a[k], b[k]));
}

function check(prev: StatsSample | undefined, cur: StatsSample, mhz: number): void {
  const want = statsDeltaOracle(prev, cur, mhz);
  const got = statsDelta(prev, cur, mhz);
  assert(
    same(want, got),
    `differs for ${JSON.stringify({ prev, cur, mhz })}\n  ts:   ${JSON.stringify(want)}\n  wasm: ${
      JSON.stringify(got)
    }`,
  );
}

const fromVector = (v: Float64Array): StatsSample =>
  Object.fromEntries(SAMPLE_FIELDS.map((k, i) => [k, v[i]])) as unknown as StatsSample;

Deno.test("statsDelta == oracle: arbitrary doubles (NaN, ±Infinity, -0, subnormals), 10 000 cases", () => {
  const vec = fc.float64Array({ minLength: SAMPLE_FIELDS.length, maxLength: SAMPLE_FIELDS.length }).map(
    fromVector,
  );
  fc.assert(
    fc.property(fc.option(vec, { nil: undefined }), vec, fc.double(), (p, c, m) => check(p, c, m)),
    { numRuns: 10_000 },
  );
});

Deno.test("statsDelta == oracle: realistic cgroup v1/v2 sample pairs, 10 000 cases", () => {
  const counter = fc.double({ min: 0, max: 1e16, noNaN: true });
  const mem = fc.nat({ max: 2 ** 40 });
  const s = fc.record({
    timeNs: fc.double({ min: 1, max: 1e15, noNaN: true }),
    cpuTotalNs: counter,
    cpuUserNs: counter,
    cpuSystemNs: counter,
    throttledPeriods: fc.nat(),
    throttledTimeNs: counter,
    memRss: mem,
    memCache: mem,
    memUsage: mem,
    memMaxUsage: mem,
    memSwap: mem,
    memKernel: mem,
    memKernelMax: mem,
    cgroupVersion: fc.constantFrom(1, 2),
  });
  const dt = fc.double({ min: 0, max: 1e11, noNaN: true });
  fc.assert(
    fc.property(s, s, dt, fc.integer({ min: 0, max: 10_000 }), (p, c, d, mhz) => {
      const cur = { ...c, timeNs: p.timeNs + d }; // forwards in time; counters may go back (cgroup restart)
      check(p, cur, mhz);
      check(undefined, cur, mhz); // first sample
    }),
    { numRuns: 10_000 },
  );
});
