/**
 * The stats delta through the WASM module (assembly/stats): the same signature and the same numbers as
 * {@linkcode statsDelta} in stats_ref.ts, which stays as the reference for tests and benchmarks.
 *
 * ABI: the two samples are copied into one fixed f64 area of the module's memory, one call computes, the
 * 13 results are copied out; no strings, no allocation inside WASM.
 *
 * @module
 */
import { RESULT_LEN, SAMPLE_LEN } from "./stats_ref.ts";
import { wasmInstance } from "./load.ts";

interface StatsExports {
  memory: WebAssembly.Memory;
  buffer(): number;
  layout(): number;
  delta(prevIsSample: number, mhzPerCore: number): void;
}

let bound: WebAssembly.Instance | undefined;
let ex: StatsExports;
let area: Float64Array;

function bind(): void {
  const inst = wasmInstance("stats");
  if (inst === bound) return;
  ex = inst.exports as unknown as StatsExports;
  if (ex.layout() !== ((SAMPLE_LEN << 8) | RESULT_LEN)) {
    throw new Error("wasm/stats.wasm was built for another sample layout than stats_ref.ts; rebuild it");
  }
  area = new Float64Array(ex.memory.buffer, ex.buffer(), 2 * SAMPLE_LEN + RESULT_LEN);
  bound = inst;
}

/**
 * {@linkcode statsDelta} computed by the WASM module: CPU percentages, ticks, throttling and memory
 * figures from the previous and the current sample (fixed-layout vectors, `S` indexes of stats_ref.ts).
 *
 * @example
 * ```ts
 * import { R, S, SAMPLE_LEN } from "./stats_ref.ts";
 * const prev = new Float64Array(SAMPLE_LEN), cur = new Float64Array(SAMPLE_LEN);
 * prev[S.TIME_NS] = 1; cur[S.TIME_NS] = 1e9 + 1; cur[S.CPU_TOTAL_NS] = 5e8;
 * statsDeltaWasm(prev, cur, 2000)[R.CPU_PERCENT]; // 50
 * ```
 */
export function statsDeltaWasm(prev: Float64Array, cur: Float64Array, mhzPerCore: number): Float64Array {
  bind();
  const a = area;
  const prevIsSample = prev.length === SAMPLE_LEN;
  // Element loops: for 14 numbers they beat TypedArray#set and #slice, whose fixed cost dominates here.
  if (prevIsSample) { for (let i = 0; i < SAMPLE_LEN; i++) a[i] = prev[i]; }
  const n = cur.length < SAMPLE_LEN ? cur.length : SAMPLE_LEN;
  for (let i = 0; i < n; i++) a[SAMPLE_LEN + i] = cur[i];
  // The reference reads missing fields as undefined, which is NaN in its arithmetic.
  for (let i = n; i < SAMPLE_LEN; i++) a[SAMPLE_LEN + i] = NaN;
  ex.delta(prevIsSample ? 1 : 0, mhzPerCore);
  const out = new Float64Array(RESULT_LEN);
  for (let i = 0; i < RESULT_LEN; i++) out[i] = a[2 * SAMPLE_LEN + i];
  return out;
}
