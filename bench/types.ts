/**
 * The shape of the benchmarks' results (bench/suite.ts fills it, bench/report.ts and bench/repeat.ts read it).
 *
 * @module
 */

/** One point of the scaling curve (results.json `scaling`). */
export interface ScalingPoint {
  tasks: number;
  started: number;
  rss_mb: number;
  hwm_mb: number;
  cpu_pct: number;
  rpc_p50_ms: number;
  rpc_p99_ms: number;
  containerd_rss_mb: number;
}

/** What the benchmarks produce. */
export interface BenchResults {
  /** the headline figures (results.json keys) */
  figures: Record<string, number>;
  wasm_vs_ts?: { imageref: number; stats: number; seccomp: number };
  /** the scaling curve, one point per task count */
  scaling?: ScalingPoint[];
  /** supporting numbers per benchmark */
  details: Record<string, Record<string, number | string>>;
  /** benchmarks that failed, with the error */
  errors: Record<string, string>;
  notes: string[];
}
