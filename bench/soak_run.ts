/**
 * The soak's phases over one {@linkcode SoakEnv}: start the writers, the chaos (a fault every 20–40 s,
 * exec loops, an RSS sample each minute), then the drain (stop, read every log, purge, count leaks).
 *
 * @module
 */
import type { NomadAgent } from "../tests/harness/nomad.ts";
import { waitFor } from "../tests/harness/services.ts";
import { procStatusMb, round, sleep } from "./lib.ts";
import { type FaultCtx, type FaultKind, runFault } from "./soak_faults.ts";
import {
  allocs,
  fingerprintHealthy,
  healthy,
  readAllocLog,
  runJob,
  stopJob,
  WRITERS,
  writersJob,
} from "./soak_jobs.ts";
import { analyzeLog, prng, type RssSample } from "./soak_check.ts";
import { sh } from "./soak_env.ts";
import { type Inventory, inventory, leaks, type LeakScope } from "./soak_leaks.ts";

/** How long a fault may take to heal before the soak calls it unrecovered. */
const RECOVERY_LIMIT_MS = 120_000;

/** State shared by the phases. */
export interface SoakState extends FaultCtx {
  writers: number;
  seed: number;
  t0: number;
  faults: { kind: FaultKind; at_s: number; recovery_s: number; ok: boolean; note: string }[];
  rss: (RssSample & { hwm: number })[];
  exec: { ok: number; failed: number; failedOutsideFaults: number };
  /** [start, end] of each fault with its recovery, performance.now() */
  windows: [number, number][];
  scope: LeakScope;
  before?: Inventory;
  /** The kinds of fault drawn from (default: all). */
  kinds: FaultKind[];
  /** true while a fault and its recovery run */
  faultRunning: boolean;
}

/** Starts the writers job and waits until every writer runs. */
export async function startWriters(s: SoakState): Promise<void> {
  s.before = await inventory(s.scope);
  await runJob(s.agent, s.jobsDir, WRITERS, writersJob(s.env.busybox, s.writers));
  const t = performance.now();
  await waitFor(`${s.writers} writers running`, () => healthy(s.agent, s.writers), 240_000, 500);
  s.log(`${s.writers} writers running after ${((performance.now() - t) / 1000).toFixed(1)} s`);
  for (const a of await allocs(s.agent, WRITERS)) s.scope.allocIds.add(a.ID);
}

/** The plugin's VmRSS and VmHWM now (skipped while no plugin runs). */
async function sampleRss(s: SoakState): Promise<void> {
  const pid = await s.agent.pluginPid().catch(() => undefined);
  if (!pid) return;
  try {
    const mb = round(procStatusMb(pid, "VmRSS"));
    const hwm = round(procStatusMb(pid, "VmHWM"));
    const age_s = Number((await sh("ps", "-o", "etimes=", "-p", String(pid))).trim());
    s.rss.push({ min: round((performance.now() - s.t0) / 60_000, 2), mb, pid, hwm, age_s });
  } catch { /* it died meanwhile */ }
}

/** A `nomad alloc exec` loop against random writers, counting answers. */
async function execLoop(s: SoakState, stop: { done: boolean }, id: number): Promise<void> {
  const rng = prng(s.seed * 31 + id);
  while (!stop.done) {
    const running = (await allocs(s.agent, WRITERS)).filter((a) => a.TaskStates?.w?.State === "running");
    if (running.length) {
      const a = running[Math.floor(rng() * running.length)];
      const t = performance.now();
      const r = await s.agent.cli("alloc", "exec", "-task", "w", a.ID, "/bin/echo", `exec-${id}`);
      if (r.code === 0 && r.stdout.trim() === `exec-${id}`) s.exec.ok++;
      else {
        s.exec.failed++;
        const during = s.windows.some(([a, b]) => t >= a - 2000 && t <= b + 5000);
        if (!during && !s.faultRunning) {
          s.exec.failedOutsideFaults++;
          s.log(`exec ${id} failed outside a fault: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
        }
      }
    }
    await sleep(500);
  }
}

/** One fault: inject, wait for recovery, clean its job up, record. */
async function oneFault(s: SoakState, kind: FaultKind): Promise<void> {
  const start = performance.now();
  s.faultRunning = true;
  s.log(`fault ${kind}`);
  let o;
  try {
    o = await runFault(kind, s);
  } catch (e) {
    o = { from: performance.now(), ok: false, note: `threw: ${e instanceof Error ? e.message : e}` };
  }
  const extra = "job" in o && o.job ? [o.job] : [];
  const healed = await waitFor("recovery", () => healthy(s.agent, s.writers, extra), RECOVERY_LIMIT_MS, 200)
    .then(() => true, () => false);
  const recovery = (performance.now() - o.from) / 1000;
  for (const j of extra) await stopJob(s.agent, j, true);
  for (const a of await allocs(s.agent, WRITERS)) s.scope.allocIds.add(a.ID);
  s.windows.push([start, performance.now()]);
  s.faultRunning = false;
  const rec = {
    kind,
    at_s: round((start - s.t0) / 1000, 0),
    recovery_s: round(recovery, 1),
    ok: o.ok && healed,
    note: healed ? o.note : `${o.note}; NOT recovered within ${RECOVERY_LIMIT_MS / 1000} s`,
  };
  s.faults.push(rec);
  s.log(`  ${rec.ok ? "ok" : "NOT OK"}: recovered in ${rec.recovery_s} s; ${rec.note}`);
}

/** The chaos phase: faults every 20–40 s (a shuffled bag of every kind), exec loops, RSS samples. */
export async function chaos(s: SoakState, minutes: number): Promise<void> {
  const end = s.t0 + minutes * 60_000;
  const stop = { done: false };
  const loops = [1, 2, 3].map((i) => execLoop(s, stop, i));
  await sampleRss(s);
  let nextRss = s.t0 + 60_000;
  const rssTimer = setInterval(() => {
    if (performance.now() >= nextRss) {
      nextRss += 60_000;
      sampleRss(s);
    }
  }, 1000);
  let bag: FaultKind[] = [];
  let next = s.t0 + 20_000 + s.rng() * 20_000;
  try {
    while (true) {
      const wait = Math.min(next, end) - performance.now();
      if (wait > 0) await sleep(wait);
      if (performance.now() >= end) break;
      if (!bag.length) bag = shuffle([...s.kinds], s.rng);
      const started = performance.now();
      await oneFault(s, bag.pop()!);
      next = Math.max(started + 20_000 + s.rng() * 20_000, performance.now() + 5_000);
    }
  } finally {
    clearInterval(rssTimer);
    stop.done = true;
    await Promise.all(loops);
  }
  await sampleRss(s);
}

function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** What the drain finds. */
export interface DrainResult {
  fingerprintHealthy: boolean;
  lines: number;
  lost: number;
  repeated: number;
  garbled: number;
  /** Writers whose log ends with their `end` line (the tail of the log checked too). */
  ends: number;
  restarts: number;
  faultRestarts: number;
  unexpected: number;
  leaks: Record<string, number>;
  leftover: Inventory;
}

/** Stops the writers, reads every log, purges, collects garbage and counts leaks. */
export async function drain(s: SoakState): Promise<DrainResult> {
  const fp = await waitFor("healthy at the end", () => healthy(s.agent, s.writers), 60_000, 500)
    .then(() => true, () => false) && await fingerprintHealthy(s.agent);
  await stopJob(s.agent, WRITERS);
  await waitFor(
    "every writer stopped",
    async () =>
      (await allocs(s.agent, WRITERS)).every((a) =>
        a.ClientStatus !== "running" && a.ClientStatus !== "pending"
      ),
    90_000,
    500,
  ).catch((e) => s.log(`${e}`));
  const r = await readLogs(s, s.agent);
  for (const job of await jobNames(s.agent)) await stopJob(s.agent, job, true);
  await s.agent.cli("system", "gc");
  const res = { fingerprintHealthy: fp, ...r, leaks: {}, leftover: {} as Inventory };
  const until = performance.now() + 90_000;
  while (true) {
    res.leftover = await inventory(s.scope);
    res.leaks = leaks(s.before!, res.leftover);
    if (Object.values(res.leaks).every((n) => n === 0) || performance.now() > until) break;
    await sleep(3000);
    await s.agent.cli("system", "gc");
  }
  return res;
}

async function jobNames(agent: NomadAgent): Promise<string[]> {
  return (await agent.api<{ ID: string }[]>("/v1/jobs").catch(() => [])).map((j) => j.ID);
}

/** Every writer allocation's log and restarts, against the restarts faults caused on purpose. */
async function readLogs(s: SoakState, agent: NomadAgent) {
  const as = await allocs(agent, WRITERS);
  const r = {
    lines: 0,
    lost: 0,
    repeated: 0,
    garbled: 0,
    ends: 0,
    restarts: 0,
    faultRestarts: 0,
    unexpected: 0,
  };
  for (const a of as) {
    s.scope.allocIds.add(a.ID);
    const name = `w${a.Name.match(/\[(\d+)\]$/)?.[1]}`;
    const v = analyzeLog(await readAllocLog(agent.dir, a.ID, "w").catch(() => ""), name);
    const restarts = Math.max(a.TaskStates?.w?.Restarts ?? 0, v.instances - 1);
    const expected = s.expectedRestarts.get(a.ID) ?? 0;
    r.lines += v.lines;
    r.lost += v.lost;
    r.repeated += v.repeated;
    r.garbled += v.garbled;
    r.ends += v.ends ?? 0;
    r.restarts += restarts;
    r.faultRestarts += Math.min(restarts, expected);
    r.unexpected += Math.max(0, restarts - expected);
    if (v.lost || v.repeated || v.garbled || restarts > expected) {
      s.log(
        `alloc ${a.ID.slice(0, 8)} ${name}: ${
          JSON.stringify(v)
        }, restarts ${restarts}, by faults ${expected}`,
      );
    }
  }
  // A replaced allocation is an unexpected restart too.
  r.unexpected += Math.max(0, as.length - s.writers);
  return r;
}
