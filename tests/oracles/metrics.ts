/**
 * Test oracle for the decoding half of src/wasm/stats.ts: the cgroup metrics containerd's Tasks.Metrics
 * returns (an Any holding cgroups v1 or v2 Metrics) decoded by the generated ts-proto code (src/gen, bigint
 * numbers) into one sample in common units, nanoseconds and bytes (v2 reports CPU in microseconds). This
 * was the plugin's decoder before assembly/stats walked the protobuf itself; the differential tests demand
 * the module's very same figures. Not used by the plugin.
 *
 * @module
 */
import { Metrics as MetricsV1 } from "../../src/gen/containerd/cgroups/v1/metrics.ts";
import { Metrics as MetricsV2 } from "../../src/gen/containerd/cgroups/v2/metrics.ts";
import type { StatsSample } from "../../src/wasm/stats.ts";

/** One decoded sample plus the OOM-kill counter (for the OOM flag at exit). */
export interface DecodedMetrics {
  sample: StatsSample;
  oomKills: number;
  cgroupVersion: 1 | 2;
}

const n = (v: bigint | number | undefined): number => Number(v ?? 0);

/**
 * Decodes one metrics payload by its type URL; undefined for an unknown type.
 *
 * @example
 * ```ts ignore
 * const m = decodeMetricsOracle("io.containerd.cgroups.v2.Metrics", bytes, Date.now() * 1e6);
 * ```
 */
export function decodeMetricsOracle(
  typeUrl: string,
  value: Uint8Array,
  timeNs: number,
): DecodedMetrics | undefined {
  if (typeUrl.endsWith("io.containerd.cgroups.v1.Metrics")) {
    const m = MetricsV1.decode(value);
    const cpu = m.cpu, mem = m.memory;
    const usage = n(mem?.usage?.usage), memsw = n(mem?.swap?.usage);
    const sample: StatsSample = {
      timeNs,
      cpuTotalNs: n(cpu?.usage?.total),
      cpuUserNs: n(cpu?.usage?.user),
      cpuSystemNs: n(cpu?.usage?.kernel),
      throttledPeriods: n(cpu?.throttling?.throttledPeriods),
      throttledTimeNs: n(cpu?.throttling?.throttledTime),
      memRss: n(mem?.totalRss),
      memCache: n(mem?.totalCache),
      memUsage: usage,
      memMaxUsage: n(mem?.usage?.max),
      // v1 reports memory+swap; swap alone is the difference
      memSwap: memsw > usage ? memsw - usage : 0,
      memKernel: n(mem?.kernel?.usage),
      memKernelMax: n(mem?.kernel?.max),
      cgroupVersion: 1,
    };
    return { sample, oomKills: n(m.memoryOomControl?.oomKill), cgroupVersion: 1 };
  }
  if (typeUrl.endsWith("io.containerd.cgroups.v2.Metrics")) {
    const m = MetricsV2.decode(value);
    const cpu = m.cpu, mem = m.memory;
    const sample: StatsSample = {
      timeNs,
      cpuTotalNs: n(cpu?.usageUsec) * 1000,
      cpuUserNs: n(cpu?.userUsec) * 1000,
      cpuSystemNs: n(cpu?.systemUsec) * 1000,
      throttledPeriods: n(cpu?.nrThrottled),
      throttledTimeNs: n(cpu?.throttledUsec) * 1000,
      memRss: n(mem?.anon),
      memCache: n(mem?.file),
      memUsage: n(mem?.usage),
      memMaxUsage: 0,
      memSwap: n(mem?.swapUsage),
      memKernel: n(mem?.kernelStack) + n(mem?.slab),
      memKernelMax: 0,
      cgroupVersion: 2,
    };
    return { sample, oomKills: n(m.memoryEvents?.oomKill), cgroupVersion: 2 };
  }
  return undefined;
}
