/**
 * Writes bench/results.json, bench/results.md and bench/results.svg (a hand-written bar chart of each
 * figure against its target) from the benchmark results.
 *
 * @module
 */
import type { BenchResults } from "./suite.ts";

/** One headline figure and its target. */
interface Target {
  key: string;
  label: string;
  unit: string;
  target?: number;
  /** how the figure must compare to the target */
  cmp?: "<=" | "<" | ">=";
}

/** The headline figures, in report order, with the issue's targets. */
export const TARGETS: Target[] = [
  {
    key: "start_ratio_vs_ctr",
    label: "StartTask → running vs `ctr run -d` (median)",
    unit: "×",
    target: 1.2,
    cmp: "<=",
  },
  {
    key: "pull_ratio_vs_ctr",
    label: "cold pull vs `ctr image pull` (median)",
    unit: "×",
    target: 1.2,
    cmp: "<=",
  },
  {
    key: "stop_after_exit_ms",
    label: "StopTask after the task exits on SIGTERM",
    unit: "ms",
    target: 100,
    cmp: "<=",
  },
  { key: "rss_idle_mb", label: "plugin RSS, idle", unit: "MB", target: 70, cmp: "<=" },
  { key: "rss_100_tasks_mb", label: "plugin RSS, 100 tasks", unit: "MB", target: 120, cmp: "<=" },
  {
    key: "cpu_100_tasks_pct",
    label: "plugin CPU, 100 tasks streaming stats 1/s",
    unit: "% of a core",
    target: 3,
    cmp: "<=",
  },
  { key: "rpc_p99_ms_200_tasks", label: "RPC p99 with 200 tasks running", unit: "ms", target: 100, cmp: "<" },
  {
    key: "tasks_started_of_200",
    label: "tasks started of 200 issued at once",
    unit: "",
    target: 200,
    cmp: ">=",
  },
  { key: "handshake_ms", label: "exec → handshake line", unit: "ms", target: 150, cmp: "<=" },
  { key: "nomad_job_running_ms", label: "`nomad job run` → allocation running (median)", unit: "ms" },
];

function met(t: Target, v: number): boolean | undefined {
  if (t.target === undefined || !Number.isFinite(v)) return undefined;
  if (t.cmp === ">=") return v >= t.target;
  if (t.cmp === "<") return v < t.target;
  return v <= t.target;
}

/** value / target, inverted for "at least" targets: at most 1 is good. */
function score(t: Target, v: number): number {
  if (t.target === undefined) return NaN;
  return t.cmp === ">=" ? t.target / Math.max(v, 1e-9) : v / t.target;
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/`/g, "");

/** The SVG: one bar per figure with a target, length = figure / target, a line at the target. */
export function svg(r: BenchResults): string {
  const rows = TARGETS.filter((t) => t.target !== undefined && Number.isFinite(r.figures[t.key]));
  const w = 860, left = 330, barMax = 420, rowH = 30, top = 50;
  const cap = 2.5;
  const x = (s: number) => left + (Math.min(s, cap) / cap) * barMax;
  const h = top + rows.length * rowH + 40;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="13">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${
      w / 2
    }" y="22" text-anchor="middle" font-size="16" font-weight="bold">containerd-driver: figure / target (bar left of the line = target met)</text>`,
  ];
  rows.forEach((t, i) => {
    const v = r.figures[t.key];
    const s = score(t, v);
    const y = top + i * rowH;
    const ok = met(t, v);
    out.push(
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(t.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(s) - left).toFixed(1)}" height="18" fill="${
        ok ? "#3a9d5d" : "#d1495b"
      }"/>`,
      `<text x="${x(s) + 6}" y="${y + 17}">${
        esc(
          `${v}${t.unit && t.unit !== "×" ? " " + t.unit : t.unit} (target ${t.cmp} ${t.target}${
            t.unit === "×" ? "×" : ""
          })${s > cap ? " ▸" : ""}`,
        )
      }</text>`,
    );
  });
  const x1 = x(1);
  out.push(
    `<line x1="${x1}" y1="${top - 6}" x2="${x1}" y2="${
      top + rows.length * rowH + 4
    }" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${x1}" y="${top + rows.length * rowH + 20}" text-anchor="middle">target</text>`,
    `<text x="${left}" y="${top + rows.length * rowH + 20}" text-anchor="middle">0</text>`,
    `<text x="${left + barMax}" y="${
      top + rows.length * rowH + 20
    }" text-anchor="middle">${cap}× target</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

/** The Markdown report. */
export function markdown(r: BenchResults, meta: Record<string, string>): string {
  const lines = [
    "# containerd-driver benchmarks",
    "",
    `Run ${meta.date} on ${meta.machine}; ${meta.services}. Total ${meta.total_s} s.`,
    "Written by `deno task bench` (bench/run.ts). Timings are of one run on a shared 2-core machine: treat",
    "them as indications; run alone for figures to quote.",
    "",
    "![figures against targets](results.svg)",
    "",
    "| figure | value | target | met |",
    "| --- | ---: | ---: | :---: |",
  ];
  for (const t of TARGETS) {
    const v = r.figures[t.key];
    const ok = met(t, v);
    const value = v === undefined ? "—" : `${v}${t.unit === "×" ? "×" : t.unit ? " " + t.unit : ""}`;
    const target = t.target === undefined ? "—" : `${t.cmp} ${t.target}${t.unit === "×" ? "×" : ""}`;
    lines.push(
      `| ${t.label} (\`${t.key}\`) | ${value} | ${target} | ${
        ok === undefined ? "—" : ok ? "yes" : "**no**"
      } |`,
    );
  }
  if (r.wasm_vs_ts) {
    lines.push(
      "",
      "WASM vs TS (`wasm_vs_ts`, TS time / WASM time; above 1 = WASM faster), from bench/wasm.ts:",
      "",
      `imageref ${r.wasm_vs_ts.imageref}×, stats ${r.wasm_vs_ts.stats}×, seccomp ${r.wasm_vs_ts.seccomp}×`,
    );
  }
  lines.push("", "## Details", "");
  for (const [name, d] of Object.entries(r.details)) {
    lines.push(`- **${name}**: ${Object.entries(d).map(([k, v]) => `${k} ${v}`).join("; ")}`);
  }
  if (Object.keys(r.errors).length) {
    lines.push("", "## Failed benchmarks", "");
    for (const [k, v] of Object.entries(r.errors)) lines.push(`- ${k}: ${v.split("\n")[0]}`);
  }
  if (r.notes.length) lines.push("", "## Notes", "", ...r.notes.map((n) => `- ${n}`));
  lines.push(
    "",
    "## How each figure is measured",
    "",
    "- start: StartTask RPC time (returns once containerd started the task) with the image cached, vs the wall",
    "  time of `ctr run -d` of the same image and command in the same namespace; alternating, 30 each, after a",
    "  warm-up of both. The ratio is of the medians; p95 in the details.",
    "- pull: bench/pull.ts (cold pull of the 2-layer redis test image into a fresh namespace vs `ctr image pull`).",
    "- stop: StopTask(SIGTERM, 10 s) of a tini-wrapped `sleep`, which exits at once: the whole RPC.",
    "- RSS: VmRSS of the plugin's deno process (the launcher execs deno: same PID) from /proc/<pid>/status.",
    "- CPU: utime+stime of that process over 30 s while 100 tasks each have a TaskStats stream at 1 s.",
    "- 200 tasks: 200 StartTask calls issued at once; with all running and streaming stats, 5 rounds of",
    "  InspectTask + SignalTask per task (10 in flight), Capabilities/PluginInfo, and each TaskStats stream's",
    "  first sample; the headline p99 is of the calls that do not fork runc (the details list every method).",
    "- handshake: exec of bin/containerd-driver with go-plugin's environment until the handshake line (median of 10).",
    "- nomad: a real `nomad agent -dev` with the plugin; `nomad job run -detach` of a one-task service job until",
    "  the allocation is running (median of 10, after one warm-up job that pulls the image).",
  );
  return lines.join("\n") + "\n";
}

/** results.json: the headline numbers at the top level, then details. */
export function json(r: BenchResults, meta: Record<string, string>): string {
  const targets = Object.fromEntries(
    TARGETS.filter((t) => t.target !== undefined).map((t) => [t.key, `${t.cmp} ${t.target}`]),
  );
  const met_ = Object.fromEntries(
    TARGETS.filter((t) => r.figures[t.key] !== undefined && t.target !== undefined)
      .map((t) => [t.key, met(t, r.figures[t.key])]),
  );
  return JSON.stringify(
    {
      ...r.figures,
      ...(r.wasm_vs_ts ? { wasm_vs_ts: r.wasm_vs_ts } : {}),
      targets,
      met: met_,
      details: r.details,
      errors: r.errors,
      notes: r.notes,
      meta,
    },
    null,
    2,
  ) + "\n";
}
