/**
 * Cost against task count: 20 tasks streaming stats (the figure to compare with the Go driver), and the
 * scaling curve (10, 50, 100, 200, 500 `sleep` tasks started through the driver, each with a TaskStats
 * stream at 1 s): tasks started, plugin VmRSS and VmHWM, plugin CPU, RPC p50/p99, containerd's RSS.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { call } from "../tests/harness/plugin.ts";
import { CTD_DIR, purgeNamespace } from "../tests/harness/driver.ts";
import { faultDriver, type LeanTask, leanTask, pool } from "../tests/fault/helpers.ts";
import type { TaskStatsResponse } from "../src/gen/nomad/driver.ts";
import { bundleBenchScript, cpuOver, median, procFile, procStatusMb, quantile, round, sleep } from "./lib.ts";
import type { BenchResults, ScalingPoint } from "./types.ts";
import { BUSYBOX } from "../tests/harness/driver.ts";
import { startPlugin } from "../tests/harness/plugin.ts";
import { runtimeEnvLines, v8FlagsArg } from "../src/driver/sandbox.ts";

/** The task of the bench: a tini-wrapped `sleep 600` from the busybox test image. */
export const SLEEPER = {
  image: BUSYBOX,
  entrypoint: ["/sbin/tini", "--"],
  command: "/bin/sleep",
  args: ["600"],
};

const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** A plugin with tasks that each stream stats every second. */
class Fleet {
  readonly tasks: LeanTask[] = [];
  readonly started: string[] = [];
  readonly streams: grpc.ClientReadableStream<TaskStatsResponse>[] = [];
  samples = 0;
  failures: string[] = [];
  private constructor(readonly d: Awaited<ReturnType<typeof faultDriver>>) {}

  static async open(): Promise<Fleet> {
    return new Fleet(await faultDriver({ extraPaths: `${CTD_DIR}:/tmp`, logLevel: null }));
  }

  /** Starts `n` more tasks (8 StartTask calls in flight) and opens a stats stream on each. */
  async grow(n: number): Promise<void> {
    const fresh: LeanTask[] = [];
    for (let i = 0; i < n; i++) {
      fresh.push(await leanTask({ config: SLEEPER, name: `s${this.tasks.length + i}` }));
    }
    this.tasks.push(...fresh);
    await pool(fresh, 8, async (t) => {
      try {
        await this.d.start(t.config);
        this.started.push(t.config.id);
        const s = this.d.p.driver.taskStats({
          taskId: t.config.id,
          collectionInterval: { seconds: 1n, nanos: 0 },
        });
        s.on("data", () => this.samples++);
        s.on("error", () => {});
        this.streams.push(s);
      } catch (e) {
        this.failures.push(String((e as grpc.ServiceError).details ?? e));
      }
    });
  }

  /** The RPCs Nomad's client makes meanwhile: InspectTask of every task (10 in flight), Capabilities. */
  async rpcLatencies(): Promise<number[]> {
    const lat: number[] = [];
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      lat.push(performance.now() - t0);
    };
    await pool(this.started, 10, (id) => timed(() => this.d.inspect(id)));
    for (let j = 0; j < 20; j++) await timed(() => call(this.d.p.driver, "capabilities", {}));
    return lat;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.cancel();
    await pool(this.started, 16, (id) => this.d.destroy(id, true).catch(() => {}));
    await this.d.close();
    await purgeNamespace(this.d.namespace);
    for (const t of this.tasks) await t.cleanup();
  }
}

/** containerd's VmRSS in MB (its pid file in the bench containerd's dir); NaN when not found. */
function containerdRssMb(): number {
  try {
    return procStatusMb(Number(procFile(`${CTD_DIR}/containerd.pid`).trim()));
  } catch {
    return NaN;
  }
}

/** 20 tasks streaming stats at 1 s on a fresh plugin: CPU over `windowS`, then VmRSS and VmHWM. */
export async function twentyTasks(r: BenchResults, n = 20, windowS = 60): Promise<void> {
  const f = await Fleet.open();
  try {
    await f.grow(n);
    await sleep(10_000); // streams settle, start-up garbage collected
    const s0 = f.samples;
    const cpu = await cpuOver(f.d.p.pid, windowS);
    r.figures.cpu_20_tasks_pct = round(cpu.pct, 2);
    r.figures.rss_20_tasks_mb = round(procStatusMb(f.d.p.pid));
    r.figures.hwm_20_tasks_mb = round(procStatusMb(f.d.p.pid, "VmHWM"));
    r.details.twenty_tasks = {
      tasks: f.started.length,
      window_s: windowS,
      cpu_ticks: cpu.ticks,
      stats_samples_per_s: round((f.samples - s0) / windowS),
      vm_hwm_mb: round(procStatusMb(f.d.p.pid, "VmHWM")),
    };
    log(
      `${n} tasks: CPU ${r.figures.cpu_20_tasks_pct} %, RSS ${r.figures.rss_20_tasks_mb} MB (HWM ${r.details.twenty_tasks.vm_hwm_mb}), ${r.details.twenty_tasks.stats_samples_per_s} samples/s`,
    );
  } finally {
    await f.close();
  }
}

/**
 * The scaling curve on one plugin: tasks added up to each point, then (streams settled) CPU over
 * `windowS`, VmRSS/VmHWM, containerd's RSS, and the latencies of a round of InspectTask + Capabilities.
 * The 100-task point also gives `rss_100_tasks_mb` and `cpu_100_tasks_pct`.
 */
export async function scaling(
  r: BenchResults,
  points = [10, 50, 100, 200, 500],
  windowS = 20,
): Promise<void> {
  const f = await Fleet.open();
  const curve: ScalingPoint[] = [];
  try {
    for (const n of points) {
      const t0 = performance.now();
      await f.grow(n - f.tasks.length);
      const startS = (performance.now() - t0) / 1000;
      await sleep(5000);
      const s0 = f.samples;
      const cpu = await cpuOver(f.d.p.pid, windowS);
      const perS = (f.samples - s0) / windowS;
      const lat = await f.rpcLatencies();
      const p: ScalingPoint = {
        tasks: n,
        started: f.started.length,
        rss_mb: round(procStatusMb(f.d.p.pid)),
        hwm_mb: round(procStatusMb(f.d.p.pid, "VmHWM")),
        cpu_pct: round(cpu.pct, 2),
        rpc_p50_ms: round(median(lat)),
        rpc_p99_ms: round(quantile(lat, 0.99)),
        containerd_rss_mb: round(containerdRssMb()),
      };
      curve.push(p);
      log(`scaling ${n}: ${JSON.stringify(p)}; ${round(perS)} samples/s; added in ${startS.toFixed(1)} s`);
      if (n === 100) {
        r.figures.rss_100_tasks_mb = p.rss_mb;
        r.figures.cpu_100_tasks_pct = p.cpu_pct;
        r.figures.hwm_100_tasks_mb = p.hwm_mb;
      }
      if (n === 500) {
        r.figures.scaling_500_started = p.started;
        r.figures.scaling_500_rss_mb = p.rss_mb;
        r.figures.scaling_500_hwm_mb = p.hwm_mb;
        r.figures.scaling_500_cpu_pct = p.cpu_pct;
        const floor = await streamFloorCpu(f.started.length, windowS);
        r.figures.scaling_500_stream_floor_cpu_pct = round(floor, 2);
        log(
          `scaling 500: the stream floor (bench/stream_floor.ts, ${f.started.length} streams): ${
            round(floor, 2)
          } %`,
        );
      }
    }
  } finally {
    r.scaling = curve;
    r.details.scaling = {
      window_s: windowS,
      rpc: "InspectTask of every task (10 in flight) + 20 Capabilities, after the CPU window",
      ...(f.failures.length ? { failures: f.failures.length, first_failure: f.failures[0] } : {}),
    };
    const t0 = performance.now();
    await f.close();
    log(`scaling: cleaned up in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}

/**
 * CPU % of a core of bench/stream_floor.ts (bundled, run under the plugin's V8 flags and malloc settings)
 * while `n` TaskStats streams at 1 s are open on it, over `windowS` after 5 s to settle.
 */
async function streamFloorCpu(n: number, windowS: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "cdrv-bench-sf-" });
  try {
    const js = `${dir}/stream-floor.js`;
    await bundleBenchScript("stream_floor.ts", js);
    const bin = `${dir}/stream-floor`;
    await Deno.writeTextFile(
      bin,
      `#!/bin/sh\n${runtimeEnvLines()}\nexport DENO_DIR=${dir}/cache DENO_NO_UPDATE_CHECK=1\n` +
        `exec "${Deno.execPath()}" run --cached-only --no-prompt --no-config --quiet ${v8FlagsArg()} -A "${js}"\n`,
      { mode: 0o755 },
    );
    const p = await startPlugin({ bin, socketDir: dir });
    const streams: grpc.ClientReadableStream<TaskStatsResponse>[] = [];
    try {
      let got = 0;
      for (let i = 0; i < n; i++) {
        const s = p.driver.taskStats({ taskId: `floor-${i}`, collectionInterval: { seconds: 1n, nanos: 0 } });
        s.on("data", () => got++);
        s.on("error", () => {});
        streams.push(s);
      }
      await sleep(5000);
      const g0 = got;
      const cpu = await cpuOver(p.pid, windowS);
      const perS = (got - g0) / windowS;
      if (perS < n * 0.9) {
        throw new Error(`stream floor: ${perS.toFixed(0)} messages/s of ${n} streams at 1 s`);
      }
      return cpu.pct;
    } finally {
      for (const s of streams) s.cancel();
      await p.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
