/**
 * The bounded chaos soak (`deno task soak [--minutes N] [--seed S] [--out FILE] [--kinds a,b]`): 50 sequenced log
 * writers and three `nomad alloc exec` loops under a real Nomad 1.6.3 agent (non-dev) running our plugin
 * against a containerd the soak starts itself (its root on a 512 MB loop-mounted ext4) and a registry on
 * 127.0.0.1, with one random fault every 20–40 s: plugin SIGKILL, containerd restart, agent restart,
 * registry down during a pull, disk full during a pull, a task's shim SIGKILLed, 20 concurrent exec
 * sessions, a job with a bad image. Then it stops everything, reads every log, counts leaks, writes
 * bench/soak.json and exits non-zero (printing why) on a lost, repeated or garbled line, an unexpected
 * restart, a leak or an unhealthy fingerprint.
 *
 * Bounded: the seed is printed first (the same seed replays the same schedule); only loopback is used;
 * it stops by itself after N minutes (default 30) plus setup and drain; it ends only processes it
 * started, by PID, and removes everything it made. Ports: CDRV_SOAK_PORT_BASE, else
 * CDRV_TEST_PORT_BASE + 500, else 17500 (registry at the base, the agent at base+10..12).
 *
 * @module
 */
import { round } from "./lib.ts";
import type { SoakEnv } from "./soak_env.ts";
import {
  failures,
  FAULT_KINDS,
  type FaultKind,
  prng,
  recoverySummary,
  rssSlopePerHour,
} from "./soak_check.ts";
import type { DrainResult, SoakState } from "./soak_run.ts";

const WRITERS = 50;
const log = (s: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Command-line options. */
interface Args {
  minutes: number;
  seed: number;
  out: string;
  kinds: FaultKind[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    minutes: 30,
    seed: Math.floor(Math.random() * 2 ** 31),
    out: new URL("./soak.json", import.meta.url).pathname,
    kinds: [...FAULT_KINDS],
  };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split("=", 2);
    const v = inline ?? argv[++i];
    if (k === "--minutes") a.minutes = Number(v);
    else if (k === "--seed") a.seed = Number(v);
    else if (k === "--out") a.out = v;
    else if (k === "--kinds") a.kinds = kinds(v);
    else throw new Error(`unknown argument ${argv[i]}; use --minutes N, --seed S, --out FILE, --kinds a,b`);
    if ((k === "--minutes" || k === "--seed") && !(Number(v) >= 0)) {
      throw new Error(`${k} ${v}: not a number ≥ 0`);
    }
  }
  return a;
}

function kinds(list: string): FaultKind[] {
  const ks = list.split(",").filter(Boolean);
  const bad = ks.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (bad.length || !ks.length) {
    throw new Error(`--kinds ${list}: unknown fault kind(s) ${bad}; known: ${FAULT_KINDS.join(", ")}`);
  }
  return ks as FaultKind[];
}

function portBase(): number {
  const soak = Deno.env.get("CDRV_SOAK_PORT_BASE");
  if (soak) return Number(soak);
  const test = Deno.env.get("CDRV_TEST_PORT_BASE");
  return test ? Number(test) + 500 : 17500;
}

/** The JSON report (bench/soak.json). */
function report(args: Args, s: SoakState, d: DrainResult, wallS: number) {
  const faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  const times: Record<string, number[]> = {};
  for (const f of s.faults) {
    faults[f.kind]++;
    (times[f.kind] ??= []).push(f.recovery_s);
  }
  return {
    minutes: args.minutes,
    seed: args.seed,
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    wall_s: round(wallS, 0),
    writers: s.writers,
    faults,
    faults_not_ok: s.faults.filter((f) => !f.ok).length,
    log_lines: d.lines,
    lost_lines: d.lost,
    repeated_lines: d.repeated,
    garbled_lines: d.garbled,
    end_lines: d.ends,
    fault_restarts: d.faultRestarts,
    unexpected_restarts: d.unexpected,
    leaks: d.leaks,
    rss_mb_per_minute: s.rss.map((r) => r.mb),
    rss_pid_per_minute: s.rss.map((r) => r.pid),
    vmhwm_mb: Math.max(0, ...s.rss.map((r) => r.hwm)),
    rss_age_s_per_minute: s.rss.map((r) => r.age_s),
    rss_slope_mb_per_hour: rssSlopePerHour(s.rss),
    rss_slope_warm_mb_per_hour: rssSlopePerHour(s.rss, true),
    recovery_s: recoverySummary(times),
    exec: s.exec,
    fingerprint_healthy_at_end: d.fingerprintHealthy,
    fault_log: s.faults,
  };
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const t0 = performance.now();
  log(
    `seed ${args.seed}, ${args.minutes} minute(s) of faults, ${WRITERS} writers (replay: --seed ${args.seed})`,
  );
  const namespace = `cdrv-soak-${crypto.randomUUID().slice(0, 6)}`;
  // Every temp dir (the harness's too: it reads CDRV_TEST_DIR when loaded) lands in one dir of the soak.
  const dir = await Deno.makeTempDir({ dir: Deno.env.get("TMPDIR") ?? "/tmp", prefix: "cdrv-soak-" });
  Deno.env.set("CDRV_TEST_DIR", dir);
  // The plugins' private socket dirs (where exec FIFOs live too) inside the soak's dir, so that the leak
  // count sees what a killed plugin leaves there (the launcher puts them under $XDG_RUNTIME_DIR).
  await Deno.mkdir(`${dir}/run`, { mode: 0o700 });
  Deno.env.set("XDG_RUNTIME_DIR", `${dir}/run`);
  const { SoakEnv } = await import("./soak_env.ts");
  const { chaos, drain, startWriters } = await import("./soak_run.ts");
  const env = await SoakEnv.start(dir, { portBase: portBase(), namespace, log });
  const stopOnSignal = async () => {
    log("interrupted: removing everything it made");
    await env.teardown();
    Deno.exit(130);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, stopOnSignal);
  try {
    const s = newState(env, args, namespace);
    await startWriters(s);
    s.t0 = performance.now();
    await chaos(s, args.minutes);
    log("chaos over: stopping the jobs, reading every log, counting leaks");
    const d = await drain(s);
    const r = report(args, s, d, (performance.now() - t0) / 1000);
    await Deno.writeTextFile(args.out, JSON.stringify(r, null, 2) + "\n");
    const { fault_log: _, ...summary } = r;
    console.log(JSON.stringify(summary, null, 2));
    log(`leftover in containerd and on the host: ${JSON.stringify(d.leftover)}`);
    const why = failures({ ...r, fingerprint_healthy_at_end: d.fingerprintHealthy });
    log(`wrote ${args.out}`);
    if (why.length) {
      const saved = args.out.replace(/\.json$/, "") + "-nomad.log";
      await Deno.copyFile(s.agent.logPath, saved).catch(() => {});
      log(`the agent's log (with the plugin's) is kept in ${saved}`);
      log(`FAILED: ${why.join("; ")}`);
    } else log(`passed: ${s.faults.length} faults, ${d.lines} log lines, nothing lost or leaked`);
    return why.length ? 1 : 0;
  } finally {
    await env.teardown();
    log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s (seed ${args.seed})`);
  }
}

function newState(env: SoakEnv, args: Args, namespace: string): SoakState {
  return {
    env,
    agent: env.agent!,
    rng: prng(args.seed),
    log,
    jobsDir: env.dir,
    namespace,
    expectedRestarts: new Map(),
    seq: 0,
    writers: WRITERS,
    seed: args.seed,
    t0: performance.now(),
    faults: [],
    rss: [],
    exec: { ok: 0, failed: 0, failedOutsideFaults: 0 },
    windows: [],
    scope: { sock: env.ctd.socket, ctdRoot: env.diskMount, namespace, dir: env.dir, allocIds: new Set() },
    faultRunning: false,
    kinds: args.kinds,
  };
}

if (import.meta.main) Deno.exit(await main());
