/**
 * Decodes the cgroup metrics containerd's Tasks.Metrics returns (an Any holding cgroups v1 or v2
 * Metrics) into one sample in common units: nanoseconds and bytes. v2 reports CPU in microseconds;
 * converting here is what keeps v2 CPU figures right.
 *
 * @module
 */
import { Metrics as MetricsV1 } from "../gen/containerd/cgroups/v1/metrics.ts";
import { Metrics as MetricsV2 } from "../gen/containerd/cgroups/v2/metrics.ts";

/**
 * One cgroup sample in nanoseconds and bytes; 0 for what the cgroup version does not report. The same
 * fields as src/wasm/stats.ts's `StatsSample`, declared here on purpose: src/containerd imports nothing
 * outside itself (docs/architecture.md), and the driver hands one to the other (TypeScript checks they fit).
 */
export interface CgroupSample {
  /** sample time, nanoseconds (the caller's clock) */
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
  cgroupVersion: 1 | 2;
}

/** One decoded sample plus the OOM-kill counter (for the OOM flag at exit). */
export interface DecodedMetrics {
  sample: CgroupSample;
  oomKills: number;
  cgroupVersion: 1 | 2;
}

const n = (v: bigint | number | undefined): number => Number(v ?? 0);

/**
 * Decodes one metrics payload by its type URL; undefined for an unknown type.
 *
 * @example
 * ```ts ignore
 * const m = decodeMetrics("io.containerd.cgroups.v2.Metrics", bytes, Date.now() * 1e6);
 * ```
 */
export function decodeMetrics(
  typeUrl: string,
  value: Uint8Array,
  timeNs: number,
): DecodedMetrics | undefined {
  if (typeUrl.endsWith("io.containerd.cgroups.v1.Metrics")) {
    const m = MetricsV1.decode(value);
    const cpu = m.cpu, mem = m.memory;
    const usage = n(mem?.usage?.usage), memsw = n(mem?.swap?.usage);
    const sample: CgroupSample = {
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
    const sample: CgroupSample = {
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
