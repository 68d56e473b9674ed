// Stats delta, called through src/wasm/stats.ts (which alone knows this layout); tests/oracles/stats.ts is
// the TypeScript oracle the differential tests compare it with.
//
// ABI (numbers only, nothing allocated): one static area of 41 f64 at `buffer()`:
//   [0, 14)   previous sample, in SAMPLE_FIELDS order of src/wasm/stats.ts
//   [14, 28)  current sample
//   [28, 41)  result, in RESULT_FIELDS order
// The caller writes both samples, calls `delta(prevIsSample, mhzPerCore)` and reads the result.
// `prevIsSample` is 1 when there is a previous sample; the oracle does the same arithmetic, operation by
// operation, so the results are the same f64 values.

const SAMPLE_LEN: i32 = 14;
const RESULT_LEN: i32 = 13;

// S indexes
const TIME_NS: i32 = 0;
const CPU_TOTAL_NS: i32 = 1;
const CPU_USER_NS: i32 = 2;
const CPU_SYSTEM_NS: i32 = 3;
const THROTTLED_PERIODS: i32 = 4;
const THROTTLED_TIME_NS: i32 = 5;
const MEM_RSS: i32 = 6;
const MEM_CACHE: i32 = 7;
const MEM_USAGE: i32 = 8;
const MEM_MAX_USAGE: i32 = 9;
const MEM_SWAP: i32 = 10;
const MEM_KERNEL: i32 = 11;
const MEM_KERNEL_MAX: i32 = 12;

// R indexes
const R_CPU_PERCENT: i32 = 0;
const R_CPU_USER_PERCENT: i32 = 1;
const R_CPU_SYSTEM_PERCENT: i32 = 2;
const R_CPU_TOTAL_TICKS: i32 = 3;
const R_THROTTLED_PERIODS: i32 = 4;
const R_THROTTLED_TIME_NS: i32 = 5;
const R_MEM_RSS: i32 = 6;
const R_MEM_CACHE: i32 = 7;
const R_MEM_USAGE: i32 = 8;
const R_MEM_MAX_USAGE: i32 = 9;
const R_MEM_SWAP: i32 = 10;
const R_MEM_KERNEL: i32 = 11;
const R_MEM_KERNEL_MAX: i32 = 12;

const BUF: usize = memory.data(8 * (2 * SAMPLE_LEN + RESULT_LEN), 16);
const PREV: usize = BUF;
const CUR: usize = BUF + 8 * SAMPLE_LEN;
const OUT: usize = BUF + 16 * SAMPLE_LEN;

/** Address of the 41-f64 exchange area. */
export function buffer(): usize {
  return BUF;
}

/** Lengths, so the loader can check it was built for the same layout: SAMPLE_LEN << 8 | RESULT_LEN. */
export function layout(): i32 {
  return (SAMPLE_LEN << 8) | RESULT_LEN;
}

@inline function prev(i: i32): f64 {
  return load<f64>(PREV + (<usize>i << 3));
}
@inline function cur(i: i32): f64 {
  return load<f64>(CUR + (<usize>i << 3));
}
@inline function out(i: i32, v: f64): void {
  store<f64>(OUT + (<usize>i << 3), v);
}
@inline function pct(used: f64, dt: f64): f64 {
  return used > 0 ? used / dt * 100 : 0;
}

/** Computes the result from the two samples in the exchange area (see the header). */
export function delta(prevIsSample: i32, mhzPerCore: f64): void {
  const havePrev = prevIsSample != 0 && (prev(TIME_NS) > 0 || prev(CPU_TOTAL_NS) > 0);
  const dt: f64 = havePrev ? cur(TIME_NS) - prev(TIME_NS) : 0;
  let total: f64 = 0;
  let user: f64 = 0;
  let system: f64 = 0;
  if (dt > 0) {
    total = pct(cur(CPU_TOTAL_NS) - prev(CPU_TOTAL_NS), dt);
    user = pct(cur(CPU_USER_NS) - prev(CPU_USER_NS), dt);
    system = pct(cur(CPU_SYSTEM_NS) - prev(CPU_SYSTEM_NS), dt);
  }
  out(R_CPU_PERCENT, total);
  out(R_CPU_USER_PERCENT, user);
  out(R_CPU_SYSTEM_PERCENT, system);
  out(R_CPU_TOTAL_TICKS, total / 100 * mhzPerCore);
  out(R_THROTTLED_PERIODS, cur(THROTTLED_PERIODS));
  out(R_THROTTLED_TIME_NS, cur(THROTTLED_TIME_NS));
  out(R_MEM_RSS, cur(MEM_RSS));
  out(R_MEM_CACHE, cur(MEM_CACHE));
  out(R_MEM_USAGE, cur(MEM_USAGE));
  out(R_MEM_MAX_USAGE, cur(MEM_MAX_USAGE));
  out(R_MEM_SWAP, cur(MEM_SWAP));
  out(R_MEM_KERNEL, cur(MEM_KERNEL));
  out(R_MEM_KERNEL_MAX, cur(MEM_KERNEL_MAX));
}
