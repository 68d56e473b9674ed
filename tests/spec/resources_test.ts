// Resources, read from the container's own cgroup files (cgroup v1: runc mounts the container's cgroup
// at /sys/fs/cgroup/<controller>) and /proc inside it: memory limit/reservation/swap/swappiness, cpu
// shares, the CFS quota of cpu_hard_limit, cpuset, shm_size in df, namespaced sysctls.
import { cpus } from "node:os";
import { assertEquals } from "../harness/assert.ts";
import { host, keyValues, specTest } from "./suite.ts";

const MB = 1024 * 1024;
const MEMORY = [
  "echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)",
  "echo soft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes)",
  "echo memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo none)",
  "echo swappiness=$(cat /sys/fs/cgroup/memory/memory.swappiness)",
].join("\n");
/** The kernel's "no limit" in memory.*limit_in_bytes on 4 KiB pages. */
const UNLIMITED = "9223372036854771712";

const cgroupV2 =
  (await host("sh", "-c", "test -e /sys/fs/cgroup/cgroup.controllers && echo 2 || echo 1")) === "2\n";

specTest("spec: resources in the container's cgroup files", async (s, t) => {
  if (cgroupV2) {
    console.log("cgroup v2 host: these checks read v1 files and are skipped");
    return;
  }

  await t.step(
    "memory: limit = memory_max, reservation = memory, memory_swap, memory_swappiness",
    async () => {
      const r = await s.sh(MEMORY, {
        memoryMb: 64,
        memoryMaxMb: 96,
        config: { memory_swap: "192M", memory_swappiness: 10 },
      });
      assertEquals(keyValues(r.out), {
        limit: String(96 * MB),
        soft: String(64 * MB),
        memsw: String(192 * MB),
        swappiness: "10",
      });
    },
  );

  await t.step(
    "memory: limit = memory and no swap by default; memory_reservation; memory_swap = -1",
    async () => {
      const d = keyValues((await s.sh(MEMORY, { memoryMb: 80, config: { memory_reservation: "40M" } })).out);
      assertEquals([d.limit, d.soft, d.memsw], [String(80 * MB), String(40 * MB), String(80 * MB)]);
      const u = keyValues((await s.sh(MEMORY, { memoryMb: 80, config: { memory_swap: "-1" } })).out);
      assertEquals([u.limit, u.memsw], [String(80 * MB), UNLIMITED]);
    },
  );

  await t.step(
    "cpu: shares; cpu_hard_limit turns them into a CFS quota; cpuset from Nomad's cores",
    async () => {
      const script = [
        "echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)",
        "echo period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)",
        "echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)",
        "echo cpuset=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)",
        "echo allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)",
      ].join("\n");
      const hard = keyValues(
        (await s.sh(script, {
          cpuShares: 300,
          linux: { percentTicks: 0.25, cpusetCpus: "0" },
          config: { cpu_hard_limit: true, cpu_cfs_period: 50000 },
        })).out,
      );
      // Nomad's docker driver: quota = percent ticks × period, per core, times the node's cores.
      const quota = Math.floor(0.25 * 50000) * cpus().length;
      assertEquals(hard, { shares: "300", period: "50000", quota: String(quota), cpuset: "0", allowed: "0" });
      const soft = keyValues((await s.sh(script, { cpuShares: 512 })).out);
      assertEquals([soft.shares, soft.quota], ["512", "-1"]);
    },
  );

  await t.step(
    "the container's cgroups are /<containerd namespace>/<container id>, as containerd's",
    async () => {
      const r = await s.sh("grep -E ':(memory|cpu,cpuacct|pids):' /proc/self/cgroup | cut -d: -f3 | sort -u");
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
