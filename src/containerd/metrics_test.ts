import { assertEquals } from "../../tests/harness/assert.ts";
import { Metrics as V1 } from "../gen/containerd/cgroups/v1/metrics.ts";
import { Metrics as V2 } from "../gen/containerd/cgroups/v2/metrics.ts";
import { decodeMetrics } from "./metrics.ts";

// Values recorded from a cgroup v2 host's cpu.stat / memory.stat / memory.events for a busy container
// (microseconds for CPU, as the kernel reports them).
const V2_RECORDED = {
  cpu: {
    usageUsec: 4_170_512n,
    userUsec: 3_921_330n,
    systemUsec: 249_182n,
    nrPeriods: 412n,
    nrThrottled: 37n,
    throttledUsec: 1_804_377n,
  },
  memory: {
    anon: 63_012_864n,
    file: 1_216_512n,
    fileMapped: 405_504n,
    usage: 66_088_960n,
    usageLimit: 268_435_456n,
    swapUsage: 0n,
    kernelStack: 49_152n,
    slab: 612_352n,
  },
  memoryEvents: { low: 0n, high: 0n, max: 3n, oom: 1n, oomKill: 1n },
};

Deno.test("cgroup v2 metrics: CPU microseconds become nanoseconds (the Go driver's 1000× bug)", () => {
  const bytes = V2.encode(V2.fromPartial(V2_RECORDED)).finish();
  const d = decodeMetrics("io.containerd.cgroups.v2.Metrics", bytes, 42)!;
  assertEquals(d.cgroupVersion, 2);
  assertEquals(d.oomKills, 1);
  const s = d.sample;
  assertEquals(s.timeNs, 42);
  assertEquals(s.cpuTotalNs, 4_170_512_000);
  assertEquals(s.cpuUserNs, 3_921_330_000);
  assertEquals(s.cpuSystemNs, 249_182_000);
  assertEquals(s.throttledPeriods, 37);
  assertEquals(s.throttledTimeNs, 1_804_377_000);
  assertEquals(s.memRss, 63_012_864);
  assertEquals(s.memCache, 1_216_512);
  assertEquals(s.memUsage, 66_088_960);
  assertEquals(s.memKernel, 49_152 + 612_352);
  assertEquals(s.cgroupVersion, 2);
});

Deno.test("cgroup v1 metrics: nanoseconds kept, swap is memsw minus usage, OOM counter read", () => {
  const bytes = V1.encode(V1.fromPartial({
    cpu: {
      usage: { total: 9_000_000_000n, kernel: 1_000_000_000n, user: 8_000_000_000n },
      throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n },
    },
    memory: {
      totalRss: 1000n,
      totalCache: 2000n,
      usage: { usage: 4000n, max: 5000n },
      swap: { usage: 4500n },
      kernel: { usage: 77n, max: 88n },
    },
    memoryOomControl: { oomKill: 2n },
  })).finish();
  const d = decodeMetrics("io.containerd.cgroups.v1.Metrics", bytes, 1)!;
  assertEquals(d.oomKills, 2);
  assertEquals([d.sample.cpuTotalNs, d.sample.cpuUserNs, d.sample.cpuSystemNs], [
    9e9,
    8e9,
    1e9,
  ]);
  assertEquals(
    [d.sample.memRss, d.sample.memCache, d.sample.memUsage, d.sample.memMaxUsage],
    [1000, 2000, 4000, 5000],
  );
  assertEquals(d.sample.memSwap, 500);
  assertEquals([d.sample.memKernel, d.sample.memKernelMax], [77, 88]);
});

Deno.test("unknown metrics types are ignored", () => {
  assertEquals(decodeMetrics("example.Other", new Uint8Array(), 0), undefined);
});
