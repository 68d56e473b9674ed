// Resources, read from the container's own cgroup files and /proc inside it, on cgroup v1 and v2 alike.
// runc mounts the container's cgroup at /sys/fs/cgroup inside: per controller on v1
// (/sys/fs/cgroup/memory/...), the unified one on v2 (with the private cgroup namespace v2 tasks get by
// default). Memory limit/reservation/swap (and swappiness on v1), cpu shares (v2: runc's cpu.weight for
// them), the CFS quota of cpu_hard_limit, cpuset, the cgroup's path, shm_size in df, namespaced sysctls.
import { cpus } from "node:os";
import { assertEquals } from "../harness/assert.ts";
import { host, keyValues, specTest } from "./suite.ts";
import { sharesToWeight } from "../cgroupv2/v2.ts";

const MB = 1024 * 1024;
const cgroupV2 = (await host("stat", "-fc", "%T", "/sys/fs/cgroup")).trim() === "cgroup2fs";

const MEMORY = cgroupV2
  ? [
    "echo limit=$(cat /sys/fs/cgroup/memory.max)",
    "echo soft=$(cat /sys/fs/cgroup/memory.low)",
    "echo swap=$(cat /sys/fs/cgroup/memory.swap.max)",
  ].join("\n")
  : [
    "echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)",
    "echo soft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes)",
    "echo memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo none)",
    "echo swappiness=$(cat /sys/fs/cgroup/memory/memory.swappiness)",
  ].join("\n");
/** The kernel's "no limit" in memory.*limit_in_bytes on 4 KiB pages (v1). */
const UNLIMITED = "9223372036854771712";

const CPU = cgroupV2
  ? [
    "echo weight=$(cat /sys/fs/cgroup/cpu.weight)",
    "echo max=$(cat /sys/fs/cgroup/cpu.max)",
    "echo cpuset=$(cat /sys/fs/cgroup/cpuset.cpus)",
    "echo allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)",
  ].join("\n")
  : [
    "echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)",
    "echo period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)",
    "echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)",
    "echo cpuset=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)",
    "echo allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)",
  ].join("\n");

specTest(`spec: resources in the container's cgroup files (cgroup v${cgroupV2 ? 2 : 1})`, async (s, t) => {
  await t.step(
    "memory: limit = memory_max, reservation = memory, memory_swap (, memory_swappiness on v1)",
    async () => {
      const r = await s.sh(MEMORY, {
        memoryMb: 64,
        memoryMaxMb: 96,
        config: { memory_swap: "192M", memory_swappiness: 10 },
      });
      // v2: memory.swap.max is the swap alone (runc subtracts the limit); v2 has no swappiness.
      assertEquals(
        keyValues(r.out),
        cgroupV2
          ? { limit: String(96 * MB), soft: String(64 * MB), swap: String(96 * MB) }
          : { limit: String(96 * MB), soft: String(64 * MB), memsw: String(192 * MB), swappiness: "10" },
      );
    },
  );

  await t.step(
    "memory: limit = memory and no swap by default; memory_reservation; memory_swap = -1",
    async () => {
      const d = keyValues((await s.sh(MEMORY, { memoryMb: 80, config: { memory_reservation: "40M" } })).out);
      const u = keyValues((await s.sh(MEMORY, { memoryMb: 80, config: { memory_swap: "-1" } })).out);
      if (cgroupV2) {
        assertEquals([d.limit, d.soft, d.swap], [String(80 * MB), String(40 * MB), "0"]);
        assertEquals([u.limit, u.swap], [String(80 * MB), "max"]);
      } else {
        assertEquals([d.limit, d.soft, d.memsw], [String(80 * MB), String(40 * MB), String(80 * MB)]);
        assertEquals([u.limit, u.memsw], [String(80 * MB), UNLIMITED]);
      }
    },
  );

  await t.step(
    "cpu: shares (v2: cpu.weight); cpu_hard_limit turns them into a CFS quota; cpuset from Nomad's cores",
    async () => {
      const hard = keyValues(
        (await s.sh(CPU, {
          cpuShares: 300,
          linux: { percentTicks: 0.25, cpusetCpus: "0" },
          config: { cpu_hard_limit: true, cpu_cfs_period: 50000 },
        })).out,
      );
      // Nomad's docker driver: quota = percent ticks × period, per core, times the node's cores.
      const quota = Math.floor(0.25 * 50000) * cpus().length;
      const soft = keyValues((await s.sh(CPU, { cpuShares: 512 })).out);
      if (cgroupV2) {
        assertEquals(hard, {
          weight: String(sharesToWeight(300)),
          max: `${quota} 50000`,
          cpuset: "0",
          allowed: "0",
        });
        assertEquals([soft.weight, soft.max], [String(sharesToWeight(512)), "max 100000"]);
      } else {
        assertEquals(hard, {
          shares: "300",
          period: "50000",
          quota: String(quota),
          cpuset: "0",
          allowed: "0",
        });
        assertEquals([soft.shares, soft.quota], ["512", "-1"]);
      }
    },
  );

  await t.step(
    "the container's cgroups are /<containerd namespace>/<container id>, as containerd's",
    async () => {
      // In the host's cgroup namespace the path shows: v1 per controller, v2 the one "0::" line.
      const script = cgroupV2
        ? "grep '^0::' /proc/self/cgroup | cut -d: -f3"
        : "grep -E ':(memory|cpu,cpuacct|pids):' /proc/self/cgroup | cut -d: -f3 | sort -u";
      const r = await s.sh(script, { config: { cgroupns: "host" } });
      assertEquals(r.out, `/${s.d.namespace}/${r.containerId}\n`);
    },
  );

  await t.step("shm_size is the size of /dev/shm (64M by default)", async () => {
    const df = "df -k /dev/shm | tail -1 | awk '{print $2}'";
    assertEquals((await s.sh(df, { config: { shm_size: "96M" } })).out, `${96 * 1024}\n`);
    assertEquals((await s.sh(df)).out, `${64 * 1024}\n`);
  });

  await t.step("sysctl: namespaced values in /proc/sys", async () => {
    const sysctl = {
      "net.core.somaxconn": "1234",
      "net.ipv4.ip_unprivileged_port_start": "80",
      "kernel.shmmax": "123456789",
      "fs.mqueue.msg_max": "20",
    };
    const script = Object.keys(sysctl).map((k) => `echo ${k}=$(cat /proc/sys/${k.replaceAll(".", "/")})`)
      .join("\n");
    const r = await s.sh(script, { config: { sysctl: [sysctl] } });
    assertEquals(keyValues(r.out), sysctl, r.err);
  });
});
