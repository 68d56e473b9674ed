/**
 * Stats from containerd's cgroup metrics (assembly/stats): the raw Metrics protobuf bytes that
 * Tasks.Metrics returns (cgroup v1 or v2) and the previous sample in, Nomad's figures for the interval out
 * (CPU percentages, ticks, throttling, memory), plus the current sample to keep and the OOM-kill counter.
 * The module decodes and computes in one call; this is the only place that knows its memory layout.
 *
 * A sample is in common units for cgroup v1 and v2 (nanoseconds and bytes): the module converts v2's
 * microseconds, which is where the Go driver was 1000× off. Counters that went backwards (a restarted
 * cgroup) give 0 %, never a negative figure. The caller maps the Any's type URL to the cgroup version
 * (src/containerd/metrics.ts).
 *
 * ABI: the bytes are copied into the module's input area (grown as needed), the previous sample (the
 * caller's Float64Array, {@linkcode SAMPLE_FIELDS} order) into a fixed f64 area; one call decodes and
 * computes; the RESULT_LEN results ({@linkcode RESULT_FIELDS} order) are read back and the current sample
 * copied over the caller's array in one piece. No strings, no allocation inside WASM, no typed array
 * allocated per call.
 *
 * @module
 */
import { wasmGeneration, wasmInstance } from "./load.ts";

/**
 * One cgroup sample in nanoseconds and bytes (0 for what the cgroup version does not report), by name:
 * what a stats state ({@linkcode newStatsState}) holds, in {@linkcode SAMPLE_FIELDS} order.
 */
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
  /** v1 only */
  memMaxUsage: number;
  memSwap: number;
  memKernel: number;
  /** v1 only */
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
/** assembly/stats's ABI version (layout() = ABI << 16 | SAMPLE_LEN << 8 | RESULT_LEN) */
const ABI = 2;
const OOM_KILLS = 2 * SAMPLE_LEN + RESULT_LEN;

/** What one Metrics payload gives (the current sample goes into the caller's array). */
export interface MetricsStats {
  /** the figures for the interval since the previous sample (percentages 0 without one) */
  result: StatsResult;
  cgroupVersion: 1 | 2;
  /** the cgroup's OOM-kill counter (v1 memory.oom_control, v2 memory.events) */
  oomKills: number;
}

/**
 * A task's sample state for {@linkcode statsFromMetrics}: SAMPLE_LEN numbers in {@linkcode SAMPLE_FIELDS}
 * order, all 0 until the first sample (which then counts as none: percentages 0).
 *
 * @example
 * ```ts
 * const state = newStatsState(); // keep one per task
 * ```
 */
export function newStatsState(): Float64Array {
  return new Float64Array(SAMPLE_LEN);
}

/** Metrics bytes that are not valid protobuf; nothing was computed from them. */
export class MetricsDecodeError extends Error {
  constructor(
    /** 1 or 2 */
    readonly cgroupVersion: number,
    /** what was wrong */
    readonly problem: string,
    /** byte offset in the payload */
    readonly offset: number,
    /** payload length */
    readonly length: number,
  ) {
    super(
      `cgroup v${cgroupVersion} metrics (${length} bytes) are not valid protobuf: ${problem} at byte ${offset}`,
    );
    this.name = "MetricsDecodeError";
  }
}

// By error code (assembly/stats E_*).
const PROBLEMS: Record<number, string> = {
  1: "a field runs past the end of its message",
  2: "a varint is longer than 10 bytes",
  3: "a tag has field number 0 or does not fit in 32 bits",
  4: "a tag has wire type 6 or 7, or ends a group that was not started",
  5: "an end-group tag does not match its start-group tag",
  6: "groups are nested more than 100 deep",
};

interface StatsExports {
  memory: WebAssembly.Memory;
  buffer(): number;
  layout(): number;
  input(len: number): number;
  errorAt(): number;
  fromMetrics(kind: number, len: number, prevIsSample: number, timeNs: number, mhzPerCore: number): number;
}

let bound: WebAssembly.Instance | undefined;
let boundGeneration = -1;
let ex: StatsExports;
let area: Float64Array;
let prevView: Float64Array;
let curView: Float64Array;
let bytesView: Uint8Array;
let inPtr = 0;
let inCap = -1;

function bind(): void {
  // Per call: one number compared (the stats of every task of every tick come through here).
  if (boundGeneration === wasmGeneration) return;
  const inst = wasmInstance("stats");
  if (inst === bound) {
    boundGeneration = wasmGeneration;
    return;
  }
  const e = inst.exports as unknown as StatsExports;
  if (typeof e.layout !== "function" || e.layout() !== ((ABI << 16) | (SAMPLE_LEN << 8) | RESULT_LEN)) {
    throw new Error("wasm/stats.wasm was built for another ABI than src/wasm/stats.ts; rebuild it");
  }
  ex = e;
  inCap = -1;
  views();
  bound = inst;
  boundGeneration = wasmGeneration;
}

function views(): void {
  const buf = ex.memory.buffer, at = ex.buffer();
  area = new Float64Array(buf, at, 2 * SAMPLE_LEN + RESULT_LEN + 1);
  prevView = new Float64Array(buf, at, SAMPLE_LEN);
  curView = new Float64Array(buf, at + 8 * SAMPLE_LEN, SAMPLE_LEN);
  bytesView = new Uint8Array(buf);
}

/**
 * Nomad's figures from one cgroup Metrics payload (`kind`: its cgroup version, from the Any's type URL)
 * taken at `timeNs`. `state` holds the previous sample ({@linkcode newStatsState} before the first:
 * percentages are then 0) and is overwritten with the current one, both copied in one piece; without it
 * there is no previous sample and the current one is not kept (the OOM counter alone). `mhzPerCore`
 * converts percent of one core into Nomad's ticks (MHz). Throws {@linkcode MetricsDecodeError} when the
 * bytes are not valid protobuf (then `state` is unchanged).
 *
 * @example
 * ```ts
 * // cgroup v2 Metrics { cpu { usage_usec: 500000 } }: half a core for one second
 * const bytes = new Uint8Array([0x12, 0x04, 0x08, 0xa0, 0xc2, 0x1e]);
 * const state = newStatsState();
 * statsFromMetrics(2, new Uint8Array(), 1, state, 2000);
 * statsFromMetrics(2, bytes, 1e9 + 1, state, 2000).result.cpuPercent; // 50
 * ```
 */
export function statsFromMetrics(
  kind: 1 | 2,
  bytes: Uint8Array,
  timeNs: number,
  state: Float64Array | undefined,
  mhzPerCore: number,
): MetricsStats {
  bind();
  const n = bytes.length;
  if (n > inCap) {
    inPtr = ex.input(n);
    inCap = n;
    if (bytesView.buffer !== ex.memory.buffer) views(); // memory grew
  }
  bytesView.set(bytes, inPtr);
  if (state) {
    if (state.length !== SAMPLE_LEN) {
      throw new RangeError(
        `a stats state has ${SAMPLE_LEN} numbers, not ${state.length}; use newStatsState()`,
      );
    }
    prevView.set(state);
  }
  const code = ex.fromMetrics(kind, n, state ? 1 : 0, timeNs, mhzPerCore);
  if (code !== 0) {
    if (code === 7) throw new RangeError(`cgroup version ${kind} is neither 1 nor 2`);
    throw new MetricsDecodeError(kind, PROBLEMS[code] ?? `error ${code}`, ex.errorAt(), n);
  }
  if (state) state.set(curView);
  const a = area, o = 2 * SAMPLE_LEN;
  return {
    result: {
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
    },
    cgroupVersion: kind,
    oomKills: a[OOM_KILLS],
  };
}
