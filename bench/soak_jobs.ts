/**
 * The soak's Nomad jobs (as HCL) and the questions it asks Nomad about them: the writers' allocations,
 * whether everything is healthy, task events, log files.
 *
 * @module
 */
import type { NomadAgent } from "../tests/harness/nomad.ts";

/** The job of the sequenced writers. */
export const WRITERS = "soak-writers";

/**
 * `count` writers: each prints `w<alloc index> <n>` (n = 0, 1, 2...) every 100–190 ms on the host network,
 * and on SIGTERM (passed on by tini, PID 1) `w<alloc index> end <last n>`, so that lines lost at the very
 * end show too. n is bumped inside the echo's own expansion: the trap cannot fall between the two. A
 * restart starts n at 0 again.
 */
export function writersJob(image: string, count: number): string {
  const w = "w$NOMAD_ALLOC_INDEX";
  const script = `i=-1; trap 'echo ${w} end $i; exit 0' TERM; ` +
    `while :; do echo ${w} $((i+=1)); sleep 0.1$((RANDOM % 10)); done`;
  return `job "${WRITERS}" {
  datacenters = ["dc1"]
  group "w" {
    count = ${count}
    restart {
      attempts = 1000
      interval = "1h"
      delay    = "1s"
      mode     = "delay"
    }
    task "w" {
      driver = "containerd-driver"
      config {
        image        = "${image}"
        host_network = true
        entrypoint   = ["/sbin/tini", "--"]
        command      = "/bin/sh"
        args         = ["-c", "${script}"]
      }
      resources {
        cpu    = 20
        memory = 24
      }
    }
  }
}
`;
}

/**
 * A one-task job that must pull `image` (and then sleeps): restarted every 2 s while the pull fails, as
 * an operator's job would be, never rescheduled. `attempts = 0` makes it fail at the first error.
 */
export function pullJob(name: string, image: string, attempts = 40): string {
  return `job "${name}" {
  datacenters = ["dc1"]
  group "p" {
    restart {
      attempts = ${attempts}
      interval = "10m"
      delay    = "2s"
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }
    task "p" {
      driver = "containerd-driver"
      config {
        image        = "${image}"
        host_network = true
        entrypoint   = ["/sbin/tini", "--"]
        command      = "/bin/sleep"
        args         = ["3600"]
      }
      resources {
        cpu    = 20
        memory = 24
      }
    }
  }
}
`;
}

/** One task's state in an allocation. */
export interface TaskStateView {
  State: string;
  Failed: boolean;
  Restarts: number;
  Events: { Type: string; DisplayMessage: string; Time: number }[];
}

/** An allocation as `/v1/job/<id>/allocations` lists it. */
export interface AllocView {
  ID: string;
  Name: string;
  ClientStatus: string;
  DesiredStatus: string;
  TaskStates?: Record<string, TaskStateView>;
}

/** The allocations of a job (empty when Nomad does not answer). */
export function allocs(agent: NomadAgent, job: string): Promise<AllocView[]> {
  return agent.api<AllocView[]>(`/v1/job/${job}/allocations`).catch(() => []);
}

/** Whether the driver's fingerprint is healthy on the node. */
export async function fingerprintHealthy(agent: NomadAgent): Promise<boolean> {
  try {
    return (await agent.node()).Drivers["containerd-driver"]?.Healthy === true;
  } catch {
    return false;
  }
}

/** Everything healthy: fingerprint healthy and `count` writers running (and `extra` jobs running). */
export async function healthy(agent: NomadAgent, count: number, extra: string[] = []): Promise<boolean> {
  if (!(await fingerprintHealthy(agent))) return false;
  const running = (as: AllocView[], task: string) =>
    as.filter((a) =>
      a.DesiredStatus === "run" && a.ClientStatus === "running" &&
      a.TaskStates?.[task]?.State === "running"
    ).length;
  if (running(await allocs(agent, WRITERS), "w") !== count) return false;
  for (const job of extra) if (running(await allocs(agent, job), "p") < 1) return false;
  return true;
}

/** The task events of every allocation of a job, one line each. */
export async function events(agent: NomadAgent, job: string, task: string): Promise<string[]> {
  return (await allocs(agent, job)).flatMap((a) =>
    (a.TaskStates?.[task]?.Events ?? []).map((e) => `${e.Type}: ${e.DisplayMessage}`)
  );
}

/** Writes a job file under `dir` and runs it (`nomad job run -detach`). */
export async function runJob(agent: NomadAgent, dir: string, name: string, hcl: string): Promise<void> {
  const file = `${dir}/${name}.nomad`;
  await Deno.writeTextFile(file, hcl);
  await agent.run(file);
}

/** `nomad job stop [-purge]`; errors are returned, not thrown (the job may be gone). */
export async function stopJob(agent: NomadAgent, name: string, purge = false): Promise<string> {
  const r = await agent.cli("job", "stop", "-detach", ...(purge ? ["-purge"] : []), name);
  return r.code === 0 ? "" : r.stderr.trim();
}

/** The stdout log of one task of an allocation: Nomad's rotated files (`<task>.stdout.<n>`) in order. */
export async function readAllocLog(agentDir: string, allocId: string, task: string): Promise<string> {
  const dir = `${agentDir}/data/alloc/${allocId}/alloc/logs`;
  const files: { n: number; name: string }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = e.name.match(new RegExp(`^${task}\\.stdout\\.(\\d+)$`));
    if (m) files.push({ n: Number(m[1]), name: e.name });
  }
  files.sort((a, b) => a.n - b.n);
  let text = "";
  for (const f of files) text += await Deno.readTextFile(`${dir}/${f.name}`);
  return text;
}
