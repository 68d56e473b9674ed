/**
 * The bench's command line, and repeats: every figure of `deno task bench --repeat N` is the median of
 * the N runs, with each run's value and the spread in `details.repeats`. A target counts as met on the
 * median.
 *
 * @module
 */
import type { BenchResults } from "./types.ts";
import { median, round } from "./lib.ts";

/** The steps of the bench, in run order (names for `--only`). */
export const STEPS = [
  "handshake",
  "idle",
  "start",
  "20 tasks",
  "scaling",
  "200 tasks",
  "pull",
  "nomad",
  "wasm",
] as const;

/** What the command line asks for. */
export interface BenchArgs {
  repeat: number;
  only?: string[];
  quick: boolean;
  /** write bench/results.* even with --only */
  write: boolean;
  scaling?: number[];
}

function fail(msg: string): never {
  throw new Error(`deno task bench: ${msg}`);
}

/**
 * Parses `--repeat N`, `--only a,b`, `--quick`, `--write`, `--scaling 10,50`; `only` and `quick` may also
 * come from CDRV_BENCH_ONLY / CDRV_BENCH_QUICK.
 *
 * @example
 * ```ts
 * parseArgs(["--repeat", "3", "--only", "handshake,idle"]).repeat; // 3
 * ```
 */
export function parseArgs(argv: string[], envOnly?: string, envQuick = false): BenchArgs {
  const a: BenchArgs = { repeat: 1, quick: envQuick, write: false };
  const list = (v: string | undefined) => (v ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  if (envOnly) a.only = list(envOnly);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? fail(`${k} needs a value`);
    if (k === "--repeat") {
      const raw = v();
      a.repeat = Number(raw);
      if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 20) {
        fail(`--repeat ${raw}: must be a whole number from 1 to 20`);
      }
    } else if (k === "--only") a.only = list(v());
    else if (k === "--quick") a.quick = true;
    else if (k === "--write") a.write = true;
    else if (k === "--scaling") {
      const raw = v();
      a.scaling = list(raw).map(Number);
      if (
        !a.scaling.length ||
        a.scaling.some((n, j) => !Number.isInteger(n) || n < 1 || n <= (a.scaling![j - 1] ?? 0))
      ) {
        fail(`--scaling ${raw}: must be increasing whole numbers, e.g. 10,50,100`);
      }
    } else {fail(
        `unknown option ${k} (allowed: --repeat N, --only ${STEPS.join(",")}, --quick, --write, --scaling)`,
      );}
  }
  for (const s of a.only ?? []) {
    if (!(STEPS as readonly string[]).includes(s)) {
      fail(`--only: unknown step "${s}" (allowed: ${STEPS.join(", ")})`);
    }
  }
  return a;
}

function spread(xs: number[]): string {
  const m = median(xs);
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return `${xs.join(", ")} (median ${round(m, 3)}, spread ${round(lo, 3)}–${round(hi, 3)}, ${
    m ? round(((hi - lo) / m) * 100) : 0
  } % of the median)`;
}

/** One result from N runs: each figure the median of the runs that have it; details from the last run. */
export function aggregate(runs: BenchResults[]): BenchResults {
  if (runs.length === 1) return runs[0];
  const last = runs[runs.length - 1];
  const out: BenchResults = {
    figures: {},
    details: { ...last.details },
    errors: {},
    notes: [...new Set(runs.flatMap((r) => r.notes))],
  };
  const rep: Record<string, string> = {};
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.figures)))];
  for (const k of keys) {
    const xs = runs.map((r) => r.figures[k]).filter((x) => Number.isFinite(x));
    out.figures[k] = round(median(xs), 3);
    rep[k] = spread(xs);
  }
  const w = runs.map((r) => r.wasm_vs_ts).filter((x) => x !== undefined);
  if (w.length) {
    out.wasm_vs_ts = {
      imageref: round(median(w.map((x) => x.imageref)), 2),
      stats: round(median(w.map((x) => x.stats)), 2),
      seccomp: round(median(w.map((x) => x.seccomp)), 2),
    };
    for (const m of ["imageref", "stats", "seccomp"] as const) {
      rep[`wasm_vs_ts.${m}`] = spread(w.map((x) => x[m]));
    }
  }
  const curves = runs.map((r) => r.scaling).filter((c) => c?.length);
  if (curves.length) {
    out.scaling = curves[0]!.map((p, i) => {
      const at = curves.map((c) => c![i]).filter((q) => q?.tasks === p.tasks);
      const med = (f: keyof typeof p) => round(median(at.map((q) => q[f])), 2);
      return {
        tasks: p.tasks,
        started: med("started"),
        rss_mb: med("rss_mb"),
        hwm_mb: med("hwm_mb"),
        cpu_pct: med("cpu_pct"),
        rpc_p50_ms: med("rpc_p50_ms"),
        rpc_p99_ms: med("rpc_p99_ms"),
        containerd_rss_mb: med("containerd_rss_mb"),
      };
    });
  }
  runs.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.errors)) out.errors[`${k} (run ${i + 1})`] = v;
  });
  out.details.repeats = { runs: runs.length, ...rep, note: "each figure: the median of the runs" };
  return out;
}
