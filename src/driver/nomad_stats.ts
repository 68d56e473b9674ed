/**
 * One stats-delta result vector as Nomad's TaskStats message, with the fields this cgroup version
 * measures listed.
 *
 * @module
 */
import { CPUUsage_Fields as CpuF, MemoryUsage_Fields as MemF, type TaskStats } from "../gen/nomad/driver.ts";
import { R as STATS } from "../wasm/stats_ref.ts";
import { ts } from "./proto_time.ts";

/**
 * Builds TaskStats from a result vector (see src/wasm/stats_ref.ts for its layout).
 *
 * @example
 * ```ts ignore
 * send({ stats: toNomadStats(taskId, Date.now(), result, 1) });
 * ```
 */
export function toNomadStats(taskId: string, atMs: number, r: Float64Array, cgroupVersion: 1 | 2): TaskStats {
  const big = (x: number) => BigInt(Math.max(0, Math.round(x)));
  const memFields = cgroupVersion === 1
    ? [MemF.RSS, MemF.CACHE, MemF.SWAP, MemF.USAGE, MemF.MAX_USAGE, MemF.KERNEL_USAGE, MemF.KERNEL_MAX_USAGE]
    : [MemF.RSS, MemF.CACHE, MemF.SWAP, MemF.USAGE];
  return {
    id: taskId,
    timestamp: ts(atMs),
    aggResourceUsage: {
      cpu: {
        systemMode: r[STATS.CPU_SYSTEM_PERCENT],
        userMode: r[STATS.CPU_USER_PERCENT],
        totalTicks: r[STATS.CPU_TOTAL_TICKS],
        throttledPeriods: big(r[STATS.THROTTLED_PERIODS]),
        throttledTime: big(r[STATS.THROTTLED_TIME_NS]),
        percent: r[STATS.CPU_PERCENT],
        measuredFields: [
          CpuF.SYSTEM_MODE,
          CpuF.USER_MODE,
          CpuF.TOTAL_TICKS,
          CpuF.THROTTLED_PERIODS,
          CpuF.THROTTLED_TIME,
          CpuF.PERCENT,
        ],
      },
      memory: {
        rss: big(r[STATS.MEM_RSS]),
        cache: big(r[STATS.MEM_CACHE]),
        maxUsage: big(r[STATS.MEM_MAX_USAGE]),
        kernelUsage: big(r[STATS.MEM_KERNEL]),
        kernelMaxUsage: big(r[STATS.MEM_KERNEL_MAX]),
        usage: big(r[STATS.MEM_USAGE]),
        swap: big(r[STATS.MEM_SWAP]),
        measuredFields: memFields,
      },
    },
    resourceUsageByPid: {},
  };
}
