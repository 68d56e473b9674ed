/**
 * The stats delta (assembly/stats): CPU percentages, ticks, throttling and memory figures from two cgroup
 * samples, computed by the WASM module. This is the only place that knows the module's memory layout:
 * callers pass and get named fields.
 *
 * A sample is already in common units for cgroup v1 and v2 (nanoseconds and bytes): the decoder in
 * src/containerd/metrics.ts converts v2's microseconds, which is where the Go driver was 1000× off.
 * Counters that went backwards (a restarted cgroup) give 0, never a negative figure.
 *
 * ABI: both samples are copied into one fixed f64 area of the module's memory (previous at 0, current at
 * SAMPLE_LEN, in {@linkcode SAMPLE_FIELDS} order), one call computes, the RESULT_LEN results are read back
 * ({@linkcode RESULT_FIELDS} order); no strings, no allocation inside WASM.
 *
 * @module
 */
import { wasmGeneration, wasmInstance } from "./load.ts";

/** One cgroup sample in nanoseconds and bytes (0 for what the cgroup version does not report). */
export interface StatsSample {
  /** sample time, nanoseconds (any fixed origin) */
  timeNs: number;
  cpuTotalNs: number;
  cpuUserNs: number;
  cpuSystemNs: number;
  throttledPeriods: number;
  throttledTimeNs: number;
  memRss: number;
  memCache: number;
  memUsage: number;
  memMaxUsage: number;
  memSwap: number;
  memKernel: number;
  memKernelMax: number;
  /** 1 or 2 */
  cgroupVersion: number;
}

/** What Nomad gets for one interval. */
export interface StatsResult {
  cpuPercent: number;
  cpuUserPercent: number;
  cpuSystemPercent: number;
  /** CPU used in MHz ("ticks"): percent of one core × MHz per core */
  cpuTotalTicks: number;
  throttledPeriods: number;
  throttledTimeNs: number;
  memRss: number;
  memCache: number;
  memUsage: number;
  memMaxUsage: number;
  memSwap: number;
  memKernel: number;
  memKernelMax: number;
}

/** The order of a sample's fields in the module's memory. */
export const SAMPLE_FIELDS: readonly (keyof StatsSample)[] = [
  "timeNs",
  "cpuTotalNs",
  "cpuUserNs",
  "cpuSystemNs",
  "throttledPeriods",
  "throttledTimeNs",
  "memRss",
  "memCache",
  "memUsage",
  "memMaxUsage",
  "memSwap",
  "memKernel",
  "memKernelMax",
  "cgroupVersion",
];

/** The order of a result's fields in the module's memory. */
export const RESULT_FIELDS: readonly (keyof StatsResult)[] = [
  "cpuPercent",
  "cpuUserPercent",
  "cpuSystemPercent",
  "cpuTotalTicks",
  "throttledPeriods",
  "throttledTimeNs",
  "memRss",
  "memCache",
  "memUsage",
  "memMaxUsage",
  "memSwap",
  "memKernel",
  "memKernelMax",
];

const SAMPLE_LEN = 14;
const RESULT_LEN = 13;

interface StatsExports {
  memory: WebAssembly.Memory;
  buffer(): number;
  layout(): number;
  delta(prevIsSample: number, mhzPerCore: number): void;
}

let bound: WebAssembly.Instance | undefined;
let boundGeneration = -1;
let ex: StatsExports;
let area: Float64Array;

function bind(): void {
  // Per call: one number compared (the stats of every task of every tick come through here).
  if (boundGeneration === wasmGeneration) return;
  const inst = wasmInstance("stats");
  if (inst === bound) {
    boundGeneration = wasmGeneration;
    return;
  }
  ex = inst.exports as unknown as StatsExports;
  if (ex.layout() !== ((SAMPLE_LEN << 8) | RESULT_LEN)) {
    throw new Error("wasm/stats.wasm was built for another sample layout than src/wasm/stats.ts; rebuild it");
  }
  area = new Float64Array(ex.memory.buffer, ex.buffer(), 2 * SAMPLE_LEN + RESULT_LEN);
  bound = inst;
  boundGeneration = wasmGeneration;
}

// Field by field, in SAMPLE_FIELDS order: for 14 numbers this beats any loop over names.
function put(a: Float64Array, o: number, s: StatsSample): void {
  a[o] = s.timeNs;
  a[o + 1] = s.cpuTotalNs;
  a[o + 2] = s.cpuUserNs;
  a[o + 3] = s.cpuSystemNs;
  a[o + 4] = s.throttledPeriods;
  a[o + 5] = s.throttledTimeNs;
  a[o + 6] = s.memRss;
  a[o + 7] = s.memCache;
  a[o + 8] = s.memUsage;
  a[o + 9] = s.memMaxUsage;
  a[o + 10] = s.memSwap;
  a[o + 11] = s.memKernel;
  a[o + 12] = s.memKernelMax;
  a[o + 13] = s.cgroupVersion;
}

/**
 * Computes one interval's figures from the previous sample (none for the first: percentages are then 0)
 * and the current one. `mhzPerCore` converts percent of one core into Nomad's ticks (MHz).
 *
 * @example
 * ```ts
 * const zero = { timeNs: 0, cpuTotalNs: 0, cpuUserNs: 0, cpuSystemNs: 0, throttledPeriods: 0,
 *   throttledTimeNs: 0, memRss: 0, memCache: 0, memUsage: 0, memMaxUsage: 0, memSwap: 0, memKernel: 0,
 *   memKernelMax: 0, cgroupVersion: 2 };
 * const prev = { ...zero, timeNs: 1 };
 * const cur = { ...zero, timeNs: 1e9 + 1, cpuTotalNs: 5e8 }; // half a core for one second
 * statsDelta(prev, cur, 2000).cpuPercent; // 50
 * ```
 */
export function statsDelta(prev: StatsSample | undefined, cur: StatsSample, mhzPerCore: number): StatsResult {
  bind();
  const a = area;
  if (prev) put(a, 0, prev);
  put(a, SAMPLE_LEN, cur);
  ex.delta(prev ? 1 : 0, mhzPerCore);
  const o = 2 * SAMPLE_LEN;
  return {
    cpuPercent: a[o],
    cpuUserPercent: a[o + 1],
    cpuSystemPercent: a[o + 2],
    cpuTotalTicks: a[o + 3],
    throttledPeriods: a[o + 4],
    throttledTimeNs: a[o + 5],
    memRss: a[o + 6],
    memCache: a[o + 7],
    memUsage: a[o + 8],
    memMaxUsage: a[o + 9],
    memSwap: a[o + 10],
    memKernel: a[o + 11],
    memKernelMax: a[o + 12],
  };
}
