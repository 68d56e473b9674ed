/**
 * Decodes the cgroup metrics containerd's Tasks.Metrics returns (an Any holding cgroups v1 or v2
 * Metrics) into one sample vector in common units: nanoseconds and bytes. v2 reports CPU in
 * microseconds; converting here is what keeps v2 CPU figures right.
 *
 * @module
 */
import { Metrics as MetricsV1 } from "../gen/containerd/cgroups/v1/metrics.ts";
import { Metrics as MetricsV2 } from "../gen/containerd/cgroups/v2/metrics.ts";
import { S, SAMPLE_LEN } from "../wasm/stats_ref.ts";

/** One decoded sample plus the OOM-kill counter (for the OOM flag at exit). */
export interface DecodedMetrics {
  sample: Float64Array;
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
  const s = new Float64Array(SAMPLE_LEN);
  s[S.TIME_NS] = timeNs;
  if (typeUrl.endsWith("io.containerd.cgroups.v1.Metrics")) {
    const m = MetricsV1.decode(value);
    const cpu = m.cpu;
    s[S.CPU_TOTAL_NS] = n(cpu?.usage?.total);
    s[S.CPU_USER_NS] = n(cpu?.usage?.user);
    s[S.CPU_SYSTEM_NS] = n(cpu?.usage?.kernel);
    s[S.THROTTLED_PERIODS] = n(cpu?.throttling?.throttledPeriods);
    s[S.THROTTLED_TIME_NS] = n(cpu?.throttling?.throttledTime);
    const mem = m.memory;
    s[S.MEM_RSS] = n(mem?.totalRss);
    s[S.MEM_CACHE] = n(mem?.totalCache);
    s[S.MEM_USAGE] = n(mem?.usage?.usage);
    s[S.MEM_MAX_USAGE] = n(mem?.usage?.max);
    s[S.MEM_SWAP] = n(mem?.swap?.usage) > n(mem?.usage?.usage)
      ? n(mem?.swap?.usage) - n(mem?.usage?.usage)
      : 0;
    s[S.MEM_KERNEL] = n(mem?.kernel?.usage);
    s[S.MEM_KERNEL_MAX] = n(mem?.kernel?.max);
    s[S.CGROUP_VERSION] = 1;
    return { sample: s, oomKills: n(m.memoryOomControl?.oomKill), cgroupVersion: 1 };
  }
  if (typeUrl.endsWith("io.containerd.cgroups.v2.Metrics")) {
    const m = MetricsV2.decode(value);
    const cpu = m.cpu;
    s[S.CPU_TOTAL_NS] = n(cpu?.usageUsec) * 1000;
    s[S.CPU_USER_NS] = n(cpu?.userUsec) * 1000;
    s[S.CPU_SYSTEM_NS] = n(cpu?.systemUsec) * 1000;
    s[S.THROTTLED_PERIODS] = n(cpu?.nrThrottled);
    s[S.THROTTLED_TIME_NS] = n(cpu?.throttledUsec) * 1000;
    const mem = m.memory;
    s[S.MEM_RSS] = n(mem?.anon);
    s[S.MEM_CACHE] = n(mem?.file);
    s[S.MEM_USAGE] = n(mem?.usage);
    s[S.MEM_SWAP] = n(mem?.swapUsage);
    s[S.MEM_KERNEL] = n(mem?.kernelStack) + n(mem?.slab);
    s[S.CGROUP_VERSION] = 2;
    return { sample: s, oomKills: n(m.memoryEvents?.oomKill), cgroupVersion: 2 };
  }
  return undefined;
}
