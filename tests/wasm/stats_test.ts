/**
 * Differential tests: assembly/stats (through src/wasm/stats.ts) gives the same numbers as the TS
 * reference src/wasm/stats_ref.ts, for any samples — Object.is per field, so -0 and NaN count too.
 */
import fc from "fast-check";
import { assert } from "../harness/assert.ts";
import { R, RESULT_LEN, S, SAMPLE_LEN, statsDelta } from "../../src/wasm/stats_ref.ts";
import { statsDeltaWasm } from "../../src/wasm/stats.ts";

function same(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function check(prev: Float64Array, cur: Float64Array, mhz: number): void {
  const want = statsDelta(prev, cur, mhz);
  const got = statsDeltaWasm(prev, cur, mhz);
  assert(got.length === RESULT_LEN, "result length");
  assert(same(want, got), `differs for prev=${prev} cur=${cur} mhz=${mhz}\n  ts:   ${want}\n  wasm: ${got}`);
}

const anyDouble = fc.double();
const counter = fc.double({ min: 0, max: 1e16, noNaN: true });

Deno.test("stats wasm == ts: arbitrary doubles (NaN, ±Infinity, -0, subnormals), 10 000 cases", () => {
  const vec = fc.float64Array({ minLength: SAMPLE_LEN, maxLength: SAMPLE_LEN });
  fc.assert(fc.property(vec, vec, anyDouble, (p, c, m) => check(p, c, m)), { numRuns: 10_000 });
});

Deno.test("stats wasm == ts: realistic cgroup v1/v2 sample pairs, 10 000 cases", () => {
  const sample = fc.record({
    t: fc.double({ min: 1, max: 1e15, noNaN: true }),
    total: counter,
    user: counter,
    system: counter,
    periods: fc.nat(),
    throttled: counter,
    mem: fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 7, maxLength: 7 }),
    v: fc.constantFrom(1, 2),
  }).map((s) => {
    const v = new Float64Array(SAMPLE_LEN);
    v[S.TIME_NS] = s.t;
    v[S.CPU_TOTAL_NS] = s.total;
    v[S.CPU_USER_NS] = s.user;
    v[S.CPU_SYSTEM_NS] = s.system;
    v[S.THROTTLED_PERIODS] = s.periods;
    v[S.THROTTLED_TIME_NS] = s.throttled;
    s.mem.forEach((m, i) => (v[S.MEM_RSS + i] = m));
    v[S.CGROUP_VERSION] = s.v;
    return v;
  });
  const dt = fc.double({ min: 0, max: 1e11, noNaN: true });
  fc.assert(
    fc.property(sample, sample, dt, fc.integer({ min: 0, max: 10_000 }), (p, c, d, mhz) => {
      const cur = c.slice();
      cur[S.TIME_NS] = p[S.TIME_NS] + d; // forwards in time; counters may go back (cgroup restart)
      check(p, cur, mhz);
      check(new Float64Array(SAMPLE_LEN), cur, mhz); // first sample
    }),
    { numRuns: 10_000 },
  );
});

Deno.test("stats wasm == ts: vectors of the wrong length (empty prev, short or long cur)", () => {
  fc.assert(
    fc.property(
      fc.float64Array({ maxLength: 2 * SAMPLE_LEN }),
      fc.float64Array({ maxLength: 2 * SAMPLE_LEN }),
      anyDouble,
      (p, c, m) => check(p, c, m),
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("stats wasm: the reference's worked example", () => {
  const prev = new Float64Array(SAMPLE_LEN);
  const cur = new Float64Array(SAMPLE_LEN);
  prev[S.TIME_NS] = 1e9;
  prev[S.CPU_TOTAL_NS] = 2e9;
  cur[S.TIME_NS] = 3e9;
  cur[S.CPU_TOTAL_NS] = 5e9;
  const r = statsDeltaWasm(prev, cur, 2400);
  assert(r[R.CPU_PERCENT] === 150 && r[R.CPU_TOTAL_TICKS] === 3600, String(r));
});
