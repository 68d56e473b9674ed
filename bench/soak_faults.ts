/**
 * The soak's faults, one function each. A fault does its damage and returns when (the time from which)
 * recovery is measured; the runner then waits until everything is healthy again. Every process it ends
 * is one the soak started (the plugin our agent launched, a shim of our containerd), by PID.
 *
 * @module
 */
import type { NomadAgent } from "../tests/harness/nomad.ts";
import type { SoakEnv } from "./soak_env.ts";
import { sh } from "./soak_env.ts";
import { sleep } from "./lib.ts";
import { allocs, type AllocView, events, pullJob, runJob, WRITERS } from "./soak_jobs.ts";
import { waitFor } from "../tests/harness/services.ts";
import type { FaultKind } from "./soak_check.ts";

export { FAULT_KINDS, type FaultKind } from "./soak_check.ts";

/** What a fault needs. */
export interface FaultCtx {
  env: SoakEnv;
  agent: NomadAgent;
  rng: () => number;
  log: (s: string) => void;
  jobsDir: string;
  namespace: string;
  /** Restarts a fault caused on purpose, per writer allocation (shim kills). */
  expectedRestarts: Map<string, number>;
  /** Numbers the fault jobs. */
  seq: number;
}

/** What a fault reports back to the runner. */
export interface FaultOutcome {
  /** performance.now() from which recovery is timed */
  from: number;
  /** Whether the fault behaved as it must (clear event, exec answers...). */
  ok: boolean;
  note: string;
  /** A job that must be running before the soak counts as recovered (stopped and purged after). */
  job?: string;
}

/** Runs a fault of the given kind. */
export function runFault(kind: FaultKind, c: FaultCtx): Promise<FaultOutcome> {
  return FAULTS[kind](c);
}

const FAULTS: Record<FaultKind, (c: FaultCtx) => Promise<FaultOutcome>> = {
  plugin_kill: pluginKill,
  containerd_restart: containerdRestart,
  agent_restart: agentRestart,
  registry_outage: registryOutage,
  enospc_pull: enospcPull,
  shim_kill: shimKill,
  exec_storm: execStorm,
  bad_image: badImage,
};

async function pluginKill(c: FaultCtx): Promise<FaultOutcome> {
  const pid = await c.agent.pluginPid();
  if (!pid) return { from: performance.now(), ok: false, note: "no plugin process under the agent" };
  Deno.kill(pid, "SIGKILL");
  const from = performance.now();
  const next = await waitFor(
    "Nomad to relaunch the plugin",
    async () => {
      const p = await c.agent.pluginPid();
      return p !== undefined && p !== pid ? p : undefined;
    },
    60_000,
    100,
  ).catch(() => undefined);
  return { from, ok: next !== undefined, note: `plugin ${pid} SIGKILLed; relaunched as ${next ?? "none"}` };
}

async function containerdRestart(c: FaultCtx): Promise<FaultOutcome> {
  await c.env.ctd.stopDaemon();
  const downMs = 1000 + Math.floor(c.rng() * 2000);
  await sleep(downMs);
  await c.env.ctd.start();
  return { from: performance.now(), ok: true, note: `containerd down ${downMs} ms` };
}

async function agentRestart(c: FaultCtx): Promise<FaultOutcome> {
  const from = performance.now();
  await c.agent.restart();
  // The server's view survives the restart: wait for the new client's own plugin before trusting it.
  const pid = await waitFor("the restarted agent's plugin", () => c.agent.pluginPid(), 60_000, 100)
    .catch(() => undefined);
  return { from, ok: pid !== undefined, note: `agent SIGINT + start on the same data dir; plugin ${pid}` };
}

/** A running writer allocation chosen at random. */
async function randomWriter(c: FaultCtx): Promise<string | undefined> {
  const running = (await allocs(c.agent, WRITERS)).filter((a) =>
    a.DesiredStatus === "run" && a.TaskStates?.w?.State === "running"
  );
  return running.length ? running[Math.floor(c.rng() * running.length)].ID : undefined;
}

async function shimKill(c: FaultCtx): Promise<FaultOutcome> {
  const alloc = await randomWriter(c);
  const from = performance.now();
  if (!alloc) return { from, ok: false, note: "no running writer" };
  const pids = (await sh("pgrep", "-f", `containerd-shim-runc-v2 -namespace ${c.namespace} -id w-${alloc} `)
    .catch(() => "")).split("\n").filter(Boolean).map(Number);
  if (pids.length !== 1) return { from, ok: false, note: `shim of w-${alloc}: pids [${pids}]` };
  const restarts = async () =>
    (await c.agent.api<AllocView>(`/v1/allocation/${alloc}`).catch(() => undefined))?.TaskStates?.w?.Restarts;
  const before = await restarts() ?? 0;
  Deno.kill(pids[0], "SIGKILL");
  c.expectedRestarts.set(alloc, (c.expectedRestarts.get(alloc) ?? 0) + 1);
  // Until Nomad has seen the task die, the allocation still looks healthy.
  const seen = await waitFor(
    "Nomad to restart the task",
    async () => (await restarts() ?? 0) > before,
    60_000,
    100,
  )
    .catch(() => false);
  return {
    from,
    ok: seen,
    note: `shim ${pids[0]} of alloc ${alloc.slice(0, 8)} SIGKILLed; restart seen: ${seen}`,
  };
}

async function execStorm(c: FaultCtx): Promise<FaultOutcome> {
  const from = performance.now();
  const targets = await Promise.all(Array.from({ length: 20 }, () => randomWriter(c)));
  const results = await Promise.all(targets.map(async (alloc, i) => {
    if (!alloc) return false;
    const r = await c.agent.cli("alloc", "exec", "-task", "w", alloc, "/bin/sh", "-c", `echo storm-${i}`);
    return r.code === 0 && r.stdout.trim() === `storm-${i}`;
  }));
  const okN = results.filter(Boolean).length;
  const s = ((performance.now() - from) / 1000).toFixed(1);
  return { from, ok: okN === 20, note: `${okN} of 20 concurrent alloc exec answered right in ${s} s` };
}

async function badImage(c: FaultCtx): Promise<FaultOutcome> {
  const name = `soak-bad-${++c.seq}`;
  const from = performance.now();
  await runJob(c.agent, c.jobsDir, name, pullJob(name, `${c.env.registry}/soak/no-such-image:1`, 0));
  const failed = await waitFor(
    "the bad-image job to fail",
    async () => {
      const as = await allocs(c.agent, name);
      return as.some((a) => a.ClientStatus === "failed");
    },
    60_000,
    250,
  ).catch(() => false);
  const ev = (await events(c.agent, name, "p")).find((e) => /not found|manifest unknown|no such/i.test(e));
  await c.agent.cli("job", "stop", "-purge", "-detach", name);
  return { from, ok: failed && ev !== undefined, note: `failed: ${failed}; event: ${ev ?? "none"}` };
}

/** Waits (up to `ms`) for a task event of `job` matching `re`. */
function waitEvent(c: FaultCtx, job: string, re: RegExp, ms: number): Promise<string | undefined> {
  return waitFor(
    `an event of ${job} matching ${re}`,
    async () => {
      return (await events(c.agent, job, "p")).find((e) => re.test(e));
    },
    ms,
    250,
  ).catch(() => undefined);
}

async function registryOutage(c: FaultCtx): Promise<FaultOutcome> {
  const ref = await c.env.freshImage(2);
  const name = `soak-reg-${++c.seq}`;
  await c.env.stopRegistry();
  try {
    await runJob(c.agent, c.jobsDir, name, pullJob(name, ref));
    const ev = await waitEvent(c, name, /refused|unreachable|connect/i, 20_000);
    await sleep(2000 + Math.floor(c.rng() * 4000));
    return { from: performance.now(), ok: ev !== undefined, note: `event: ${ev ?? "none"}`, job: name };
  } finally {
    await c.env.startRegistry();
  }
}

async function enospcPull(c: FaultCtx): Promise<FaultOutcome> {
  const ref = await c.env.freshImage(48);
  const name = `soak-full-${++c.seq}`;
  const fill = `${c.env.diskMount}/soak-fill`;
  const free = await c.env.diskFree();
  await sh("fallocate", "-l", String(Math.max(0, free - 16 * 1024 * 1024)), fill);
  let ev: string | undefined;
  let partial = -1;
  try {
    await runJob(c.agent, c.jobsDir, name, pullJob(name, ref));
    ev = await waitEvent(c, name, /no space|ENOSPC/i, 30_000);
    partial = await leftoverWhileFull(c);
  } finally {
    await Deno.remove(fill).catch(() => {});
  }
  const note = `event: ${ev ?? "none"}; ingests + leases + stray snapshots between retries: ${partial}`;
  return { from: performance.now(), ok: ev !== undefined && partial === 0, note, job: name };
}

/**
 * Partial pull state while the disk is full: content ingests, leases, and writable snapshots that no
 * container owns, sampled for 4 s (retries run every 2 s); the least seen. 0 means a failed pull cleaned
 * up after itself.
 */
async function leftoverWhileFull(c: FaultCtx): Promise<number> {
  const list = async (...args: string[]) =>
    (await sh("ctr", "--address", c.env.ctd.socket, "-n", c.namespace, ...args).catch(() => ""))
      .split("\n").filter((l) => l.trim());
  let least = Infinity;
  for (let i = 0; i < 20 && least > 0; i++) {
    const ingests = Math.max(0, (await list("content", "active")).length - 1);
    const leases = (await list("leases", "ls", "-q")).length;
    const active = (await list("snapshots", "ls")).filter((l) => /\sActive\s*$/.test(l)).length;
    const containers = (await list("containers", "ls", "-q")).length;
    least = Math.min(least, ingests + leases + Math.max(0, active - containers));
    await sleep(200);
  }
  return least;
}
