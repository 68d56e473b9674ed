/**
 * Under a real Nomad agent: the plugin's memory 60 s after pulling the redis test image and starting one
 * task (`rss_after_pull_mb`, `hwm_after_pull_mb`), then `nomad job run` → allocation running for our
 * driver and for Nomad's own `exec` driver, interleaved (same command, host network), as the floor of
 * Nomad's own scheduling path.
 *
 * @module
 */
import { BUSYBOX, purgeNamespace, REGISTRY } from "../tests/harness/driver.ts";
import { type NomadAgent, startTestAgent } from "../tests/harness/nomad.ts";
import { pool } from "../tests/fault/helpers.ts";
import { median, procStatusMb, quantile, round, sleep } from "./lib.ts";
import type { BenchResults } from "./types.ts";

const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** A one-task service job; `driver` block body in `task`. */
function jobHcl(name: string, driver: string, config: string): string {
  return `job "${name}" {
  type = "service"
  group "g" {
    restart {
      attempts = 0
    }
    task "t" {
      driver = "${driver}"
      config {
${config}
      }
      resources {
        cpu    = 20
        memory = 32
      }
    }
  }
}
`;
}

const OURS = (image: string, command: string, args: string[]) =>
  `        image      = "${image}"
        entrypoint = ["/sbin/tini", "--"]
        command    = "${command}"
        args       = ${JSON.stringify(args)}`;
const EXEC = `        command = "/bin/sleep"
        args    = ["600"]`;

/** Runs a job file and waits until its allocation runs; ms from `nomad job run` to running. */
async function runUntilRunning(agent: NomadAgent, dir: string, name: string, hcl: string): Promise<number> {
  const file = `${dir}/${name}.nomad`;
  await Deno.writeTextFile(file, hcl);
  const t0 = performance.now();
  await agent.run(file);
  while (performance.now() - t0 < 120_000) {
    const allocs = await agent.allocs(name).catch(() => []);
    if (allocs.some((a) => a.ClientStatus === "running")) return performance.now() - t0;
    if (allocs.some((a) => a.ClientStatus === "failed")) {
      throw new Error(`job ${name} failed: ${JSON.stringify(allocs[0]?.TaskStates ?? {}).slice(0, 600)}`);
    }
    await sleep(25);
  }
  throw new Error(`job ${name} not running after 120 s`);
}

/**
 * One agent: the after-pull memory first (its plugin has done nothing else), then `jobs` jobs of each
 * driver, alternating which goes first, each after a warm-up job not counted.
 */
export async function nomadJobs(r: BenchResults, jobs = 10, afterPullS = 60): Promise<void> {
  const namespace = `cdrv-bench-nomad-${crypto.randomUUID().slice(0, 6)}`;
  const agent = await startTestAgent({ namespace });
  const dir = await Deno.makeTempDir({ prefix: "cdrv-bench-jobs-" });
  const names: string[] = [];
  const run = (name: string, hcl: string) => {
    names.push(name);
    return runUntilRunning(agent, dir, name, hcl);
  };
  try {
    const pid = await agent.pluginPid();
    if (!pid) throw new Error("no containerd-driver plugin process under the agent");
    // The redis test image (2 layers, about 9 MB) pulled by the first task (a `sleep` from its busybox layer).
    const redis = `${REGISTRY}/cdrv/redis:1`;
    const pullMs = await run(
      "bench-redis",
      jobHcl(
        "bench-redis",
        "containerd-driver",
        OURS(redis, "/bin/sleep", ["600"]),
      ),
    );
    const timeline: string[] = [];
    for (let s = 0; s <= afterPullS; s += 10) {
      timeline.push(`${s}s:${round(procStatusMb(pid))}`);
      if (s < afterPullS) await sleep(10_000);
    }
    r.figures.rss_after_pull_mb = round(procStatusMb(pid));
    r.figures.hwm_after_pull_mb = round(procStatusMb(pid, "VmHWM"));
    r.details.after_pull = {
      image: redis,
      pull_and_start_ms: round(pullMs),
      rss_mb_timeline: timeline.join(" "),
      note: `plugin under nomad agent -dev, ${afterPullS} s after the job pulling the image is running`,
    };
    log(
      `after pull: RSS ${r.figures.rss_after_pull_mb} MB, HWM ${r.figures.hwm_after_pull_mb} MB (${
        timeline.join(" ")
      })`,
    );

    await run(
      "bench-w-ours",
      jobHcl("bench-w-ours", "containerd-driver", OURS(BUSYBOX, "/bin/sleep", ["600"])),
    );
    await run("bench-w-exec", jobHcl("bench-w-exec", "exec", EXEC));
    const ours: number[] = [];
    const exec: number[] = [];
    for (let i = 0; i < jobs; i++) {
      const a = async () =>
        ours.push(
          await run(
            `bench-o${i}`,
            jobHcl(`bench-o${i}`, "containerd-driver", OURS(BUSYBOX, "/bin/sleep", ["600"])),
          ),
        );
      const b = async () => exec.push(await run(`bench-e${i}`, jobHcl(`bench-e${i}`, "exec", EXEC)));
      if (i % 2) await b().then(a);
      else await a().then(b);
    }
    r.figures.nomad_job_running_ms = round(median(ours));
    r.figures.nomad_exec_driver_running_ms = round(median(exec));
    r.details.nomad_job_run = {
      jobs,
      ours_median_ms: round(median(ours)),
      ours_p95_ms: round(quantile(ours, 0.95)),
      exec_median_ms: round(median(exec)),
      exec_p95_ms: round(quantile(exec, 0.95)),
      note:
        "nomad job run -detach → allocation running (HTTP API polled every 25 ms); containerd-driver and " +
        "Nomad's exec driver alternating, same command (sleep 600), host network, image cached",
    };
    log(
      `nomad job run → running: ours ${median(ours).toFixed(0)} ms, exec ${
        median(exec).toFixed(0)
      } ms (median of ${jobs})`,
    );
  } finally {
    await pool(names, 4, (n) => agent.cli("job", "stop", "-purge", n));
    await agent.stop();
    await purgeNamespace(namespace);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
