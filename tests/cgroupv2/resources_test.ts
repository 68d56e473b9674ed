// cgroup v2: each resource the driver sets, read from the container's own cgroup files on the host (the
// cgroup found from the task's PID): memory.max (memory / memory_max), memory.low (memory_max's reservation,
// memory_reservation), memory.swap.max (memory_swap), cpu.weight (runc's conversion of Nomad's CPU shares,
// never the shares number itself), cpu.max (cpu_hard_limit with cpu_cfs_period), pids.max (pids_limit),
// cpuset.cpus (Nomad's cores), and where the cgroup is: /<namespace>/<container id>.
import { cpus } from "node:os";
import { assert, assertEquals } from "../harness/assert.ts";
import { type Running, type RunOptions, type SpecSuite, specTest } from "../spec/suite.ts";
import { cgRead, cgroupOf, requireCgroupV2, sharesToWeight, taskPid } from "./v2.ts";

const MB = 1024 * 1024;
const SLEEP = { command: "/bin/sleep", args: ["3600"] };

/** Starts a sleeping task with these options and reads these files of its cgroup. */
async function cgFiles(
  s: SpecSuite,
  o: RunOptions,
  files: string[],
  also?: (r: Running, cgroup: string) => Promise<void> | void,
): Promise<Record<string, string>> {
  return await s.running({ ...o, config: { ...SLEEP, ...o.config } }, async (r) => {
    const cgroup = await cgroupOf(await taskPid(s.d, r.containerId));
    const out: Record<string, string> = { cgroup };
    for (const f of files) out[f] = await cgRead(cgroup, f);
    await also?.(r, cgroup);
    return out;
  });
}

specTest("cgroup v2: resources in the container's cgroup files", async (s, t) => {
  await requireCgroupV2();

  await t.step(
    "memory_max: memory.max = memory_max, memory.low = memory, no swap (memory.swap.max 0)",
    async () => {
      const f = await cgFiles(s, { memoryMb: 64, memoryMaxMb: 96 }, [
        "memory.max",
        "memory.low",
        "memory.swap.max",
      ]);
      console.log(`memory 64 / memory_max 96 MiB: ${JSON.stringify(f)}`);
      assertEquals(f["memory.max"], String(96 * MB));
      assertEquals(f["memory.low"], String(64 * MB));
      assertEquals(f["memory.swap.max"], "0");
    },
  );

  await t.step("memory only: memory.max = memory, memory.low unset (0)", async () => {
    const f = await cgFiles(s, { memoryMb: 80 }, ["memory.max", "memory.low", "memory.swap.max"]);
    assertEquals([f["memory.max"], f["memory.low"], f["memory.swap.max"]], [String(80 * MB), "0", "0"]);
  });

  await t.step(
    "memory_reservation → memory.low; memory_swap (memory + swap) → memory.swap.max = swap alone",
    async () => {
      const f = await cgFiles(
        s,
        { memoryMb: 80, config: { memory_reservation: "40M", memory_swap: "200M" } },
        [
          "memory.max",
          "memory.low",
          "memory.swap.max",
        ],
      );
      assertEquals(f["memory.low"], String(40 * MB));
      assertEquals(f["memory.swap.max"], String(120 * MB));
      const u = await cgFiles(s, { memoryMb: 80, config: { memory_swap: "-1" } }, ["memory.swap.max"]);
      assertEquals(u["memory.swap.max"], "max");
    },
  );

  await t.step("cpu.weight is runc's conversion of Nomad's CPU shares, not the shares number", async () => {
    for (const shares of [300, 500, 2000]) {
      const f = await cgFiles(s, { cpuShares: shares }, ["cpu.weight", "cpu.max"]);
      const want = sharesToWeight(shares);
      console.log(`cpu shares ${shares}: cpu.weight ${f["cpu.weight"]} (runc's conversion: ${want})`);
      assertEquals(f["cpu.weight"], String(want), `shares ${shares}`);
      assert(f["cpu.weight"] !== String(shares), `cpu.weight holds the v1 shares number ${shares}`);
      assertEquals(f["cpu.max"], "max 100000");
    }
  });

  await t.step('cpu_hard_limit + cpu_cfs_period → cpu.max "<quota> <period>"', async () => {
    const f = await cgFiles(s, {
      cpuShares: 300,
      linux: { percentTicks: 0.25 },
      config: { cpu_hard_limit: true, cpu_cfs_period: 50000 },
    }, ["cpu.max"]);
    // Nomad's docker driver: quota = floor(percent ticks × period) × the node's cores.
    const quota = Math.floor(0.25 * 50000) * cpus().length;
    console.log(`cpu_hard_limit, 25 % of the node, period 50000: cpu.max "${f["cpu.max"]}"`);
    assertEquals(f["cpu.max"], `${quota} 50000`);
  });

  await t.step("pids_limit → pids.max; none: max", async () => {
    assertEquals((await cgFiles(s, { config: { pids_limit: 42 } }, ["pids.max"]))["pids.max"], "42");
    assertEquals((await cgFiles(s, {}, ["pids.max"]))["pids.max"], "max");
  });

  await t.step("Nomad's cores → cpuset.cpus; the cgroup is /<namespace>/<container id>", async () => {
    const f = await cgFiles(
      s,
      { linux: { cpusetCpus: "0" } },
      ["cpuset.cpus", "cpuset.cpus.effective"],
      (r, cg) => assertEquals(cg, `/${s.d.namespace}/${r.containerId}`),
    );
    assertEquals([f["cpuset.cpus"], f["cpuset.cpus.effective"]], ["0", "0"]);
  });
});

// The conversion is tested on values whose weight is not within float noise of an integer (ceil would
// then depend on the last bit of pow()).
Deno.test("sharesToWeight: the values the test uses are clear of integers", () => {
  for (const shares of [300, 500, 2000]) {
    const l = Math.log2(shares);
    const w = 10 ** ((l * l + 125 * l) / 612 - 7 / 34);
    const frac = w - Math.floor(w);
    assert(frac > 1e-6 && frac < 1 - 1e-6, `${shares}: ${w}`);
  }
  assertEquals([sharesToWeight(2), sharesToWeight(262144)], [1, 10000]);
});
