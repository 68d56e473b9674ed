// cgroup v2: TaskStats against the container's own cgroup files, read on the host over the same window.
// CPU percent of a busy loop within 5 points of cpu.stat's usage_usec delta (a µs-vs-ns slip is 1000×
// off); throttled time of a hard-limited one against throttled_usec; memory usage, RSS and cache against
// memory.current and memory.stat's anon and file.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX, purgeNamespace, startDriver, type TestDriver } from "../harness/driver.ts";
import { makeTask, type PreparedTask } from "../harness/task.ts";
import { waitFor } from "../harness/services.ts";
import type { TaskStats, TaskStatsResponse } from "../../src/gen/nomad/driver.ts";
import { cgKeyed, cgRead, cgroupOf, requireCgroupV2, taskPid } from "./v2.ts";

/** Streams TaskStats at 1 s; calls `each` on every sample as it arrives; stops after n. */
async function stream(
  d: TestDriver,
  taskId: string,
  n: number,
  each: (s: TaskStats, i: number) => Promise<void> | void = () => {},
): Promise<TaskStats[]> {
  const s = d.p.driver.taskStats({ taskId, collectionInterval: { seconds: 1n, nanos: 0 } });
  const got: TaskStats[] = [];
  let chain = Promise.resolve();
  await new Promise<void>((resolve, reject) => {
    s.on("data", (m: TaskStatsResponse) => {
      if (got.length >= n) return;
      got.push(m.stats!);
      const i = got.length - 1;
      chain = chain.then(() => each(m.stats!, i)).then(() => {
        if (got.length >= n) resolve();
      }, reject);
    });
    s.on("error", reject);
  });
  s.cancel();
  s.on("error", () => {});
  return got;
}

const atNs = (s: TaskStats) => Number(s.timestamp!.seconds) * 1e9 + s.timestamp!.nanos;

async function withTasks(fn: (d: TestDriver, tasks: PreparedTask[]) => Promise<void>): Promise<void> {
  await requireCgroupV2();
  const d = await startDriver();
  const tasks: PreparedTask[] = [];
  try {
    await fn(d, tasks);
  } finally {
    for (const t of tasks) await d.destroy(t.config.id).catch(() => {});
    await d.close();
    for (const t of tasks) await t.cleanup();
    await purgeNamespace(d.namespace);
  }
}

async function busyTask(d: TestDriver, tasks: PreparedTask[], config = {}) {
  const t = await makeTask({
    config: { image: BUSYBOX, command: "/bin/sh", args: ["-c", "while :; do :; done"], ...config },
    linux: { percentTicks: 0.1 },
  });
  tasks.push(t);
  const res = await d.start(t.config);
  const cid = JSON.parse(new TextDecoder().decode(res.handle!.driverState)).containerId;
  return { t, cgroup: await cgroupOf(await taskPid(d, cid)) };
}

Deno.test("cgroup v2 stats: a busy loop's CPU percent within 5 points of cpu.stat usage_usec", async () => {
  await withTasks(async (d, tasks) => {
    const { t, cgroup } = await busyTask(d, tasks);
    // cpu.stat read as each sample arrives: the same window as the samples', to within the RPC's latency.
    const usage: { usec: number; atNs: number }[] = [];
    const samples = await stream(d, t.config.id, 7, async () => {
      usage.push({ usec: (await cgKeyed(cgroup, "cpu.stat")).usage_usec, atNs: performance.now() * 1e6 });
    });
    // The driver's figure over samples 2..n: each is Δcpu/Δt of its own interval; weighted by the intervals.
    let weighted = 0, span = 0;
    for (let i = 2; i < samples.length; i++) {
      const dt = atNs(samples[i]) - atNs(samples[i - 1]);
      weighted += samples[i].aggResourceUsage!.cpu!.percent * dt;
      span += dt;
    }
    const driver = weighted / span;
    const truth = (usage.at(-1)!.usec - usage[1].usec) * 1000 / (usage.at(-1)!.atNs - usage[1].atNs) * 100;
    console.log(
      `busy loop: TaskStats ${driver.toFixed(1)} %, cgroup usage_usec delta ${truth.toFixed(1)} % over ${
        (span / 1e9).toFixed(1)
      } s; last sample ${samples.at(-1)!.aggResourceUsage!.cpu!.percent.toFixed(1)} %`,
    );
    assert(truth > 20, `the busy loop got only ${truth.toFixed(1)} % of a CPU by its own cgroup`);
    assert(
      Math.abs(driver - truth) <= 5,
      `TaskStats say ${driver.toFixed(1)} %, the cgroup ${truth.toFixed(1)} %`,
    );
    const cpu = samples.at(-1)!.aggResourceUsage!.cpu!;
    const shown = `user ${cpu.userMode.toFixed(1)} %, system ${cpu.systemMode.toFixed(1)} %, total ${
      cpu.percent.toFixed(1)
    } %, ticks ${cpu.totalTicks.toFixed(0)}`;
    console.log(`last sample: ${shown}`);
    assert(cpu.userMode + cpu.systemMode > 0.8 * cpu.percent, shown);
    assert(cpu.totalTicks > 0, shown);
  });
});

Deno.test("cgroup v2 stats: throttled time and periods of a hard-limited loop = cpu.stat's", async () => {
  await withTasks(async (d, tasks) => {
    const { t, cgroup } = await busyTask(d, tasks, { cpu_hard_limit: true });
    const [s] = await stream(d, t.config.id, 1);
    await new Promise((r) => setTimeout(r, 3000));
    const before = await cgKeyed(cgroup, "cpu.stat");
    const [s2] = await stream(d, t.config.id, 1);
    const after = await cgKeyed(cgroup, "cpu.stat");
    const cpu = s2.aggResourceUsage!.cpu!;
    console.log(
      `hard limit: cpu.max "${await cgRead(
        cgroup,
        "cpu.max",
      )}", throttled ${cpu.throttledPeriods} periods / ${
        Number(cpu.throttledTime) / 1e6
      } ms; cpu.stat ${before.nr_throttled}..${after.nr_throttled} periods, ${
        before.throttled_usec / 1000
      }..${after.throttled_usec / 1000} ms`,
    );
    assert(s !== undefined && after.nr_throttled > 0, "the loop was never throttled");
    const periods = Number(cpu.throttledPeriods), timeUs = Number(cpu.throttledTime) / 1000;
    assert(periods >= before.nr_throttled && periods <= after.nr_throttled, `periods ${periods}`);
    assert(
      timeUs >= before.throttled_usec && timeUs <= after.throttled_usec,
      `throttled time ${timeUs} µs is not between the cgroup's ${before.throttled_usec} and ${after.throttled_usec} µs`,
    );
  });
});

Deno.test("cgroup v2 stats: memory usage, RSS and cache = memory.current, memory.stat anon and file", async () => {
  await withTasks(async (d, tasks) => {
    const t = await makeTask({
      memoryMb: 256,
      config: {
        image: BUSYBOX,
        command: "/bin/sh",
        args: ["-c", "x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo held; while true; do sleep 1; done"],
      },
    });
    tasks.push(t);
    const res = await d.start(t.config);
    const cid = JSON.parse(new TextDecoder().decode(res.handle!.driverState)).containerId;
    const cgroup = await cgroupOf(await taskPid(d, cid));
    await waitFor("memory held", () => t.stdout.lines().includes("held"), 60_000);
    const files: { current: number; anon: number; file: number }[] = [];
    const samples = await stream(d, t.config.id, 3, async () => {
      const st = await cgKeyed(cgroup, "memory.stat");
      files.push({ current: Number(await cgRead(cgroup, "memory.current")), anon: st.anon, file: st.file });
    });
    const m = samples.at(-1)!.aggResourceUsage!.memory!;
    const f = files.at(-1)!;
    console.log(
      `memory: TaskStats usage ${Number(m.usage)} rss ${Number(m.rss)} cache ${Number(m.cache)}; ` +
        `memory.current ${f.current}, anon ${f.anon}, file ${f.file}`,
    );
    const near = (a: bigint, b: number, what: string) =>
      assert(
        Math.abs(Number(a) - b) <= Math.max(2 * 1024 * 1024, 0.03 * b),
        `${what}: TaskStats ${a}, cgroup ${b}`,
      );
    assert(f.anon > 55e6, `anon ${f.anon}: the task does not hold its 60 MB`);
    near(m.usage, f.current, "usage vs memory.current");
    near(m.rss, f.anon, "rss vs memory.stat anon");
    near(m.cache, f.file, "cache vs memory.stat file");
    assertEquals(m.measuredFields.length, 4);
  });
});
