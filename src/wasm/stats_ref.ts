/**
 * Stats delta: CPU percentages, ticks, throttling and memory figures from two cgroup samples — the
 * TypeScript reference of the WASM module in assembly/stats (same ABI: numbers in fixed-layout
 * Float64Arrays, no strings). Pure, no I/O; used by tests and benchmarks, and by the plugin until the
 * WASM module is loaded.
 *
 * A sample is already in common units for cgroup v1 and v2 (nanoseconds and bytes): the decoders in
 * src/containerd/metrics.ts convert v2's microseconds, which is where the Go driver was 1000× off.
 *
 * @module
 */

/** Index of each field in a sample vector. */
export const S = {
  /** sample time, nanoseconds (any fixed origin) */
  TIME_NS: 0,
  CPU_TOTAL_NS: 1,
  CPU_USER_NS: 2,
  CPU_SYSTEM_NS: 3,
  THROTTLED_PERIODS: 4,
  THROTTLED_TIME_NS: 5,
  MEM_RSS: 6,
  MEM_CACHE: 7,
  MEM_USAGE: 8,
  /** 0 when the cgroup version does not report it */
  MEM_MAX_USAGE: 9,
  MEM_SWAP: 10,
  MEM_KERNEL: 11,
  MEM_KERNEL_MAX: 12,
  /** 1 or 2 */
  CGROUP_VERSION: 13,
} as const;
/** Length of a sample vector. */
export const SAMPLE_LEN = 14;

/** Index of each field in a result vector. */
export const R = {
  CPU_PERCENT: 0,
  CPU_USER_PERCENT: 1,
  CPU_SYSTEM_PERCENT: 2,
  CPU_TOTAL_TICKS: 3,
  THROTTLED_PERIODS: 4,
  THROTTLED_TIME_NS: 5,
  MEM_RSS: 6,
  MEM_CACHE: 7,
  MEM_USAGE: 8,
  MEM_MAX_USAGE: 9,
  MEM_SWAP: 10,
  MEM_KERNEL: 11,
  MEM_KERNEL_MAX: 12,
} as const;
/** Length of a result vector. */
export const RESULT_LEN = 13;

/**
 * Computes one stats result from the previous and the current sample (`prev` may be empty: the
 * percentages are then 0). `mhzPerCore` converts percent of one core into Nomad's "ticks" (MHz).
 * Counters that went backwards (a restarted cgroup) give 0, never a negative figure.
 *
 * @example
 * ```ts
 * const prev = new Float64Array(SAMPLE_LEN), cur = new Float64Array(SAMPLE_LEN);
 * cur[S.TIME_NS] = 1e9; cur[S.CPU_TOTAL_NS] = 5e8; // half a core for one second
 * statsDelta(prev, cur, 2000)[R.CPU_PERCENT]; // 50
 * ```
 */
export function statsDelta(prev: Float64Array, cur: Float64Array, mhzPerCore: number): Float64Array {
  const out = new Float64Array(RESULT_LEN);
  const havePrev = prev.length === SAMPLE_LEN && (prev[S.TIME_NS] > 0 || prev[S.CPU_TOTAL_NS] > 0);
  const dt = havePrev ? cur[S.TIME_NS] - prev[S.TIME_NS] : 0;
  if (dt > 0) {
    out[R.CPU_PERCENT] = pct(cur[S.CPU_TOTAL_NS] - prev[S.CPU_TOTAL_NS], dt);
    out[R.CPU_USER_PERCENT] = pct(cur[S.CPU_USER_NS] - prev[S.CPU_USER_NS], dt);
    out[R.CPU_SYSTEM_PERCENT] = pct(cur[S.CPU_SYSTEM_NS] - prev[S.CPU_SYSTEM_NS], dt);
  }
  out[R.CPU_TOTAL_TICKS] = out[R.CPU_PERCENT] / 100 * mhzPerCore;
  out[R.THROTTLED_PERIODS] = cur[S.THROTTLED_PERIODS];
  out[R.THROTTLED_TIME_NS] = cur[S.THROTTLED_TIME_NS];
  out[R.MEM_RSS] = cur[S.MEM_RSS];
  out[R.MEM_CACHE] = cur[S.MEM_CACHE];
  out[R.MEM_USAGE] = cur[S.MEM_USAGE];
  out[R.MEM_MAX_USAGE] = cur[S.MEM_MAX_USAGE];
  out[R.MEM_SWAP] = cur[S.MEM_SWAP];
  out[R.MEM_KERNEL] = cur[S.MEM_KERNEL];
  out[R.MEM_KERNEL_MAX] = cur[S.MEM_KERNEL_MAX];
  return out;
}

function pct(used: number, dt: number): number {
  return used > 0 ? used / dt * 100 : 0;
}
