/**
 * One stats-delta result as Nomad's TaskStats message, with the fields this cgroup version
 * measures listed.
 *
 * @module
 */
import { CPUUsage_Fields as CpuF, MemoryUsage_Fields as MemF, type TaskStats } from "../gen/nomad/driver.ts";
import type { StatsResult } from "../wasm/stats.ts";
import { ts } from "./proto_time.ts";

/**
 * Builds TaskStats from one stats-delta result.
 *
 * @example
 * ```ts ignore
 * send({ stats: toNomadStats(taskId, Date.now(), result, 1) });
 * ```
 */
export function toNomadStats(taskId: string, atMs: number, r: StatsResult, cgroupVersion: 1 | 2): TaskStats {
  const big = (x: number) => BigInt(Math.max(0, Math.round(x)));
  const memFields = cgroupVersion === 1
    ? [MemF.RSS, MemF.CACHE, MemF.SWAP, MemF.USAGE, MemF.MAX_USAGE, MemF.KERNEL_USAGE, MemF.KERNEL_MAX_USAGE]
    : [MemF.RSS, MemF.CACHE, MemF.SWAP, MemF.USAGE];
  return {
    id: taskId,
    timestamp: ts(atMs),
    aggResourceUsage: {
      cpu: {
        systemMode: r.cpuSystemPercent,
        userMode: r.cpuUserPercent,
        totalTicks: r.cpuTotalTicks,
        throttledPeriods: big(r.throttledPeriods),
        throttledTime: big(r.throttledTimeNs),
        percent: r.cpuPercent,
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
        rss: big(r.memRss),
        cache: big(r.memCache),
        maxUsage: big(r.memMaxUsage),
        kernelUsage: big(r.memKernel),
        kernelMaxUsage: big(r.memKernelMax),
        usage: big(r.memUsage),
        swap: big(r.memSwap),
        measuredFields: memFields,
      },
    },
    resourceUsageByPid: {},
  };
}
