/**
 * Test oracle for src/wasm/stats.ts: the ts-proto decode of tests/oracles/metrics.ts, then the stats
 * delta in plain TypeScript, the arithmetic written out once more, operation by operation as
 * assembly/stats does it, so that the differential tests can demand the very same f64 values (Object.is,
 * NaN and -0 included). Not used by the plugin.
 *
 * @module
 */
import type { StatsResult, StatsSample } from "../../src/wasm/stats.ts";
import { decodeMetricsOracle } from "./metrics.ts";

/** What the oracle makes of one Metrics payload (src/wasm/stats.ts's MetricsStats, by name). */
export interface MetricsStatsOracle {
  result: StatsResult;
  cgroupVersion: 1 | 2;
  oomKills: number;
  sample: StatsSample;
}

/**
 * The oracle's pipeline: decode the Metrics payload of this type URL with ts-proto, then the delta
 * against the previous sample. Undefined for an unknown type; throws where ts-proto throws.
 *
 * @example
 * ```ts ignore
 * statsFromMetricsOracle("io.containerd.cgroups.v2.Metrics", bytes, now, prev?.sample, 2000);
 * ```
 */
export function statsFromMetricsOracle(
  typeUrl: string,
  bytes: Uint8Array,
  timeNs: number,
  prev: StatsSample | undefined,
  mhzPerCore: number,
): MetricsStatsOracle | undefined {
  const d = decodeMetricsOracle(typeUrl, bytes, timeNs);
  if (!d) return undefined;
  return {
    result: statsDeltaOracle(prev, d.sample, mhzPerCore),
    cgroupVersion: d.cgroupVersion,
    oomKills: d.oomKills,
    sample: d.sample,
  };
}

/**
 * The oracle's stats delta: the previous sample counts only when it has a time or a CPU total.
 *
 * @example
 * ```ts ignore
 * statsDeltaOracle(prev, cur, 2000).cpuPercent;
 * ```
 */
export function statsDeltaOracle(
  prev: StatsSample | undefined,
  cur: StatsSample,
  mhzPerCore: number,
): StatsResult {
  const havePrev = prev !== undefined && (prev.timeNs > 0 || prev.cpuTotalNs > 0);
  const dt = havePrev ? cur.timeNs - prev.timeNs : 0;
  let cpuPercent = 0, cpuUserPercent = 0, cpuSystemPercent = 0;
  if (havePrev && dt > 0) {
    cpuPercent = pct(cur.cpuTotalNs - prev.cpuTotalNs, dt);
    cpuUserPercent = pct(cur.cpuUserNs - prev.cpuUserNs, dt);
    cpuSystemPercent = pct(cur.cpuSystemNs - prev.cpuSystemNs, dt);
  }
  return {
    cpuPercent,
    cpuUserPercent,
    cpuSystemPercent,
    cpuTotalTicks: cpuPercent / 100 * mhzPerCore,
    throttledPeriods: cur.throttledPeriods,
    throttledTimeNs: cur.throttledTimeNs,
    memRss: cur.memRss,
    memCache: cur.memCache,
    memUsage: cur.memUsage,
    memMaxUsage: cur.memMaxUsage,
    memSwap: cur.memSwap,
    memKernel: cur.memKernel,
    memKernelMax: cur.memKernelMax,
  };
}

function pct(used: number, dt: number): number {
  return used > 0 ? used / dt * 100 : 0;
}
