/**
 * The soak's pure parts: the kinds of fault and the seeded PRNG that schedules them, and the verdicts —
 * a writer's log read line by line (lost, repeated, garbled lines, task instances), the RSS slope,
 * recovery quantiles, and the pass/fail reasons. (No test harness imports: the entry point loads this
 * before it sets up the harness's environment.)
 *
 * @module
 */
import { median, round } from "./lib.ts";

/** Every kind of fault. */
export const FAULT_KINDS = [
  "plugin_kill",
  "containerd_restart",
  "agent_restart",
  "registry_outage",
  "enospc_pull",
  "shim_kill",
  "exec_storm",
  "bad_image",
] as const;
/** One kind of fault. */
export type FaultKind = typeof FAULT_KINDS[number];

/** What one writer's log says. */
export interface LogVerdict {
  lines: number;
  /** Runs of the task: a restart starts the count at 0 again. */
  instances: number;
  /** Numbers skipped inside one instance. */
  lost: number;
  /** Numbers seen again (or going back) inside one instance. */
  repeated: number;
  /** Lines that are not `<name> <n>`. */
  garbled: number;
  /** `end` lines (one per instance stopped by SIGTERM). */
  ends?: number;
}

/**
 * Reads a writer's log: every complete line must be `<name> <n>` with n = 0, 1, 2... inside one instance
 * of the task; a 0 starts a new instance (a restart); `<name> end <n>` (written on SIGTERM) names the
 * last n written, so lines lost at the end count too. A last line without its newline is still being
 * written and is left out.
 *
 * @example
 * ```ts
 * analyzeLog("w1 0\nw1 1\nw1 3\nw1 0\n", "w1"); // { lines: 4, instances: 2, lost: 1, repeated: 0, garbled: 0 }
 * ```
 */
export function analyzeLog(text: string, name: string): LogVerdict {
  const v: LogVerdict = { lines: 0, instances: 0, lost: 0, repeated: 0, garbled: 0 };
  const lines = text.split("\n").slice(0, -1);
  let prev: number | undefined;
  for (const line of lines) {
    v.lines++;
    const m = line.match(/^(\S+) (end )?(-1|\d+)$/);
    if (!m || m[1] !== name || (!m[2] && m[3] === "-1")) {
      v.garbled++;
      continue;
    }
    const n = Number(m[3]);
    if (m[2]) {
      // `<name> end <last n written>`: what was written after the last line read is lost.
      if (n > (prev ?? -1)) v.lost += n - (prev ?? -1);
      v.ends = (v.ends ?? 0) + 1;
      prev = undefined;
      continue;
    }
    if (prev === undefined || n === 0) {
      v.instances++;
      v.lost += n; // an instance's first line must be 0
    } else if (n > prev + 1) v.lost += n - prev - 1;
    else if (n <= prev) v.repeated++;
    prev = n;
  }
  return v;
}

/** One RSS sample of the plugin. */
export interface RssSample {
  /** minutes since the soak began */
  min: number;
  mb: number;
  pid: number;
  /** seconds the plugin process had run when sampled */
  age_s?: number;
}

/** A plugin younger than this is still recovering its tasks (its RSS climbs for a minute or so). */
export const WARM_AGE_S = 120;

/**
 * Least-squares slope of RSS over time in MB per hour, pooled within each plugin process (a killed
 * plugin's successor starts small again: each process gets its own intercept, they share the slope).
 * 0 with fewer than two samples of one process. With `warm`, only samples of processes at least
 * {@linkcode WARM_AGE_S} old count: the climb while a new plugin recovers 50 tasks is not a leak.
 *
 * @example
 * ```ts
 * rssSlopePerHour([{ min: 0, mb: 60, pid: 1 }, { min: 1, mb: 61, pid: 1 }]); // 60
 * ```
 */
export function rssSlopePerHour(samples: RssSample[], warm = false): number {
  const used = warm ? samples.filter((s) => (s.age_s ?? 0) >= WARM_AGE_S) : samples;
  const byPid = Map.groupBy(used, (s) => s.pid);
  let sxy = 0, sxx = 0;
  for (const group of byPid.values()) {
    const mx = group.reduce((a, s) => a + s.min, 0) / group.length;
    const my = group.reduce((a, s) => a + s.mb, 0) / group.length;
    for (const s of group) {
      sxy += (s.min - mx) * (s.mb - my);
      sxx += (s.min - mx) ** 2;
    }
  }
  return sxx === 0 ? 0 : round((sxy / sxx) * 60, 2);
}

/** p50 and max of each kind's recovery times, in seconds. */
export function recoverySummary(
  times: Record<string, number[]>,
): Record<string, { p50: number; max: number; n: number }> {
  const out: Record<string, { p50: number; max: number; n: number }> = {};
  for (const [kind, xs] of Object.entries(times)) {
    if (xs.length) out[kind] = { p50: round(median(xs), 1), max: round(Math.max(...xs), 1), n: xs.length };
  }
  return out;
}

/** The figures pass/fail is decided on. */
export interface Verdict {
  lost_lines: number;
  repeated_lines: number;
  garbled_lines: number;
  unexpected_restarts: number;
  leaks: Record<string, number>;
  fingerprint_healthy_at_end: boolean;
}

/** Why the soak failed (empty: it passed). */
export function failures(v: Verdict): string[] {
  const why: string[] = [];
  if (v.lost_lines) why.push(`${v.lost_lines} log line(s) lost`);
  if (v.repeated_lines) why.push(`${v.repeated_lines} log line(s) repeated`);
  if (v.garbled_lines) why.push(`${v.garbled_lines} log line(s) garbled`);
  if (v.unexpected_restarts) why.push(`${v.unexpected_restarts} task restart(s) no fault explains`);
  for (const [kind, n] of Object.entries(v.leaks)) if (n) why.push(`leak: ${n} ${kind}`);
  if (!v.fingerprint_healthy_at_end) why.push("the driver's fingerprint is not healthy at the end");
  return why;
}

/** A seeded PRNG (mulberry32): the same seed gives the same fault schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
