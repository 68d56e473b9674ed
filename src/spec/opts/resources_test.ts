import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { cpuResources, memoryResources, withResources } from "./resources.ts";

const MB = 1024 * 1024;

Deno.test("memory: limit from Nomad's memory; memory_max makes it the limit and memory the reservation", () => {
  assertEquals(memoryResources(exampleInput()), { limit: 256 * MB, swap: 256 * MB });
  const max = exampleInput();
  max.nomad.resources.memoryMaxMb = 1024;
  assertEquals(memoryResources(max), { limit: 1024 * MB, reservation: 256 * MB, swap: 1024 * MB });
  const unlimited = exampleInput();
  unlimited.nomad.resources.memoryMaxMb = -1;
  assertEquals(memoryResources(unlimited), { reservation: 256 * MB });
});

Deno.test("memory: memory_reservation, memory_swap, swappiness (v1 only), no swap accounting", () => {
  assertEquals(
    memoryResources(exampleInput({ memory_reservation: "128M", memory_swap: "1G", memory_swappiness: 10 })),
    {
      limit: 256 * MB,
      reservation: 128 * MB,
      swap: 1024 * MB,
      swappiness: 10,
    },
  );
  assertEquals(memoryResources(exampleInput({ memory_swap: "-1" }))?.swap, -1);
  const v2 = exampleInput({ memory_swappiness: 10 });
  v2.host.cgroupVersion = 2;
  assertEquals(memoryResources(v2)?.swappiness, undefined);
  assertThrows(
    () => memoryResources(exampleInput({ memory_reservation: "1G" })),
    ConfigError,
    "memory_reservation",
  );
  assertThrows(
    () => memoryResources(exampleInput({ memory_swap: "128M" })),
    ConfigError,
    "below the memory limit",
  );
  const noSwap = exampleInput();
  noSwap.host.swapAccounting = false;
  assertEquals(memoryResources(noSwap), { limit: 256 * MB });
  const noSwapAsked = exampleInput({ memory_swap: "1G" });
  noSwapAsked.host.swapAccounting = false;
  assertThrows(() => memoryResources(noSwapAsked), ConfigError, "swap accounting");
});

Deno.test("cpu: shares clamped, cpuset, cpu_hard_limit quota as Nomad's docker driver computes it", () => {
  assertEquals(cpuResources(exampleInput()), { shares: 500 });
  const i = exampleInput({ cpu_hard_limit: true });
  i.nomad.resources.cpusetCpus = "0-1";
  // percentTicks 500/4000 = 0.125; period 100000 → floor(12500) × 2 cpus
  assertEquals(cpuResources(i), { shares: 500, cpus: "0-1", period: 100000, quota: 25000 });
  assertEquals(cpuResources(exampleInput({ cpu_hard_limit: true, cpu_cfs_period: 50000 }))?.quota, 12500);
  const tiny = exampleInput();
  tiny.nomad.resources.cpuShares = 1;
  assertEquals(cpuResources(tiny), { shares: 2 });
  const none = exampleInput({ cpu_hard_limit: true });
  none.nomad.resources.percentTicks = 0;
  assertThrows(() => cpuResources(none), ConfigError, "cpu_hard_limit");
});

Deno.test("cpu: no cpuset in the cgroup Nomad made for the task on v2 (Nomad writes it); v1 keeps it", () => {
  const scope = "/sys/fs/cgroup/nomad.slice/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.redis.scope";
  const v2 = exampleInput();
  v2.host.cgroupVersion = 2;
  v2.nomad.resources.cpusetCpus = "1";
  v2.nomad.resources.cpusetCgroup = scope;
  assertEquals(cpuResources(v2), { shares: 500 });
  v2.nomad.resources.cpusetCgroup = "";
  assertEquals(cpuResources(v2), { shares: 500, cpus: "1" });
  const v1 = exampleInput();
  v1.nomad.resources.cpusetCpus = "1";
  v1.nomad.resources.cpusetCgroup = scope;
  assertEquals(cpuResources(v1), { shares: 500, cpus: "1" });
});

Deno.test("withResources: pids and keeps the device rules", () => {
  const spec = baseSpec();
  spec.linux.resources = { devices: [{ allow: false, access: "rwm" }] };
  withResources(spec, exampleInput({ pids_limit: 100 }));
  assertEquals(spec.linux.resources.pids, { limit: 100 });
  assertEquals(spec.linux.resources.devices, [{ allow: false, access: "rwm" }]);
  assert(spec.linux.resources.memory?.limit === 256 * MB);
});
