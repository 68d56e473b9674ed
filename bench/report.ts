/**
 * Writes bench/results.json, bench/results.md and bench/results.svg (a hand-written bar chart of each
 * figure against its target) from the benchmark results.
 *
 * @module
 */
import type { BenchResults } from "./types.ts";

/** One headline figure and its target. */
interface Target {
  key: string;
  label: string;
  unit: string;
  target?: number;
  /** how the figure must compare to the target */
  cmp?: "<=" | "<" | ">=";
  /** the figure holding the VmHWM to quote beside this RSS figure */
  hwm?: string;
}

/** The headline figures, in report order, with the issue's targets (issues 1 and 18). */
export const TARGETS: Target[] = [
  {
    key: "start_ratio_vs_ctr",
    label: "StartTask → running vs `ctr run -d` (median)",
    unit: "×",
    target: 1.05,
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
    key: "pull_ratio_vs_ctr_containerd2",
    label: "cold pull vs `ctr image pull`, containerd 2.x (median)",
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
  { key: "handshake_ms", label: "exec → handshake line (median)", unit: "ms", target: 80, cmp: "<=" },
  { key: "rss_idle_mb", label: "plugin RSS, idle", unit: "MB", target: 60, cmp: "<=", hwm: "hwm_idle_mb" },
  { key: "cpu_idle_pct", label: "plugin CPU, idle", unit: "% of a core", target: 0.05, cmp: "<=" },
  {
    key: "rss_after_pull_mb",
    label: "plugin RSS under Nomad, 60 s after a pull + 1 task",
    unit: "MB",
    target: 80,
    cmp: "<=",
    hwm: "hwm_after_pull_mb",
  },
  {
    key: "rss_20_tasks_mb",
    label: "plugin RSS, 20 tasks streaming stats",
    unit: "MB",
    target: 70,
    cmp: "<=",
    hwm: "hwm_20_tasks_mb",
  },
  {
    key: "cpu_20_tasks_pct",
    label: "plugin CPU, 20 tasks streaming stats 1/s",
    unit: "% of a core",
    target: 1.07,
    cmp: "<=",
  },
  {
    key: "rss_100_tasks_mb",
    label: "plugin RSS, 100 tasks",
    unit: "MB",
    target: 120,
    cmp: "<=",
    hwm: "hwm_100_tasks_mb",
  },
  {
    key: "cpu_100_tasks_pct",
    label: "plugin CPU, 100 tasks streaming stats 1/s",
    unit: "% of a core",
    target: 3,
    cmp: "<=",
  },
  { key: "rpc_p99_ms_200_tasks", label: "RPC p99 with 200 tasks running", unit: "ms", target: 100, cmp: "<" },
  {
    key: "taskstats_next_p99_ms_200_tasks",
    label: "TaskStats after the first sample, p99 lateness (200 tasks)",
    unit: "ms",
  },
  {
    key: "tasks_started_of_200",
    label: "tasks started of 200 issued at once",
    unit: "",
    target: 200,
    cmp: ">=",
  },
  { key: "scaling_500_started", label: "scaling: tasks started of 500", unit: "", target: 500, cmp: ">=" },
  {
    key: "scaling_500_rss_mb",
    label: "scaling: plugin RSS at 500 tasks",
    unit: "MB",
    target: 200,
    cmp: "<=",
    hwm: "scaling_500_hwm_mb",
  },
  {
    key: "scaling_500_cpu_pct",
    label: "scaling: plugin CPU at 500 tasks",
    unit: "% of a core",
    target: 5,
    cmp: "<=",
  },
  {
    key: "scaling_500_stream_floor_cpu_pct",
    label:
      "floor of that: a bare grpc-js server in Deno sending 500 TaskStats streams 1/s (bench/stream_floor.ts)",
    unit: "% of a core",
  },
  {
    key: "wasm_vs_ts.stats",
    label: "WASM vs TS, stats (TS time / WASM time)",
    unit: "×",
    target: 1,
    cmp: ">=",
  },
  { key: "nomad_job_running_ms", label: "`nomad job run` → allocation running (median)", unit: "ms" },
  {
    key: "nomad_exec_driver_running_ms",
    label: "the same with Nomad's `exec` driver (it builds a chroot per allocation)",
    unit: "ms",
  },
];

/** A figure by key; `wasm_vs_ts.<module>` reads the WASM ratios. */
export function figure(r: BenchResults, key: string): number | undefined {
  if (key.startsWith("wasm_vs_ts.")) {
    return r.wasm_vs_ts?.[key.slice(11) as keyof NonNullable<BenchResults["wasm_vs_ts"]>];
  }
  return r.figures[key];
}

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
  const rows = TARGETS.filter((t) => t.target !== undefined && Number.isFinite(figure(r, t.key)));
  const w = 860, left = 330, barMax = 420, rowH = 30, top = 50;
  const cap = 2.5;
  const x = (s: number) => left + (Math.min(s, cap) / cap) * barMax;
  const barsH = top + rows.length * rowH + 40;
  const chart = r.scaling?.length ? scalingChart(r.scaling, barsH, w) : { h: 0, parts: [] };
  const h = barsH + chart.h;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="13">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${
      w / 2
    }" y="22" text-anchor="middle" font-size="16" font-weight="bold">containerd-driver: figure / target (bar left of the line = target met)</text>`,
  ];
  rows.forEach((t, i) => {
    const v = figure(r, t.key)!;
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
    ...chart.parts,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

/**
 * The scaling curve below the bars: plugin VmRSS and VmHWM (MB, left axis) and plugin CPU (% of a core,
 * right axis) against the task count (points evenly spaced), with the targets at 500 as dashed lines.
 */
function scalingChart(
  pts: NonNullable<BenchResults["scaling"]>,
  y0: number,
  w: number,
): { h: number; parts: string[] } {
  const h = 300, left = 80, right = w - 80, top = y0 + 50, bottom = y0 + h - 50;
  const mbMax = Math.max(200, ...pts.map((p) => p.hwm_mb)) * 1.1;
  const pctMax = Math.max(5, ...pts.map((p) => p.cpu_pct)) * 1.1;
  const x = (i: number) => left + (pts.length === 1 ? 0 : (i / (pts.length - 1)) * (right - left));
  const yMb = (v: number) => bottom - (v / mbMax) * (bottom - top);
  const yPct = (v: number) => bottom - (v / pctMax) * (bottom - top);
  const line = (ys: number[], color: string, dash = "") =>
    `<polyline fill="none" stroke="${color}" stroke-width="2"${
      dash ? ` stroke-dasharray="${dash}"` : ""
    } points="${ys.map((y, i) => `${x(i).toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>` + ys.map((y, i) =>
      `<circle cx="${x(i).toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`
    ).join("");
  const parts = [
    `<text x="${w / 2}" y="${
      y0 + 22
    }" text-anchor="middle" font-size="16" font-weight="bold">scaling: plugin memory and CPU against running tasks (stats every 1 s)</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${right}" y1="${top}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${yMb(200)}" x2="${right}" y2="${
      yMb(200)
    }" stroke="#1f6fb2" stroke-dasharray="4 3" opacity="0.6"/>`,
    `<line x1="${left}" y1="${yPct(5)}" x2="${right}" y2="${
      yPct(5)
    }" stroke="#d1495b" stroke-dasharray="4 3" opacity="0.6"/>`,
    `<text x="${left - 6}" y="${yMb(200) + 4}" text-anchor="end" fill="#1f6fb2">200 MB</text>`,
    `<text x="${right + 6}" y="${yPct(5) + 4}" fill="#d1495b">5 %</text>`,
    `<text x="${left - 6}" y="${bottom + 4}" text-anchor="end">0</text>`,
    `<text x="${right + 6}" y="${bottom + 4}">0</text>`,
    `<text x="${left - 50}" y="${top - 10}" fill="#1f6fb2">MB</text>`,
    `<text x="${right + 6}" y="${top - 10}" fill="#d1495b">% of a core</text>`,
    line(pts.map((p) => yMb(p.rss_mb)), "#1f6fb2"),
    line(pts.map((p) => yMb(p.hwm_mb)), "#1f6fb2", "2 2"),
    line(pts.map((p) => yPct(p.cpu_pct)), "#d1495b"),
    ...pts.map((p, i) =>
      `<text x="${x(i).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${p.tasks}${
        p.started < p.tasks ? ` (${p.started} ran)` : ""
      }</text>`
    ),
    `<text x="${w / 2}" y="${
      bottom + 38
    }" text-anchor="middle">tasks (solid blue: VmRSS, dotted blue: VmHWM, red: CPU)</text>`,
  ];
  return { h, parts };
}

/** The Markdown report. */
export function markdown(r: BenchResults, meta: Record<string, string>): string {
  const lines = [
    "# containerd-driver benchmarks",
    "",
    `Run ${meta.date} on ${meta.machine}; ${meta.services}. Total ${meta.total_s} s; ${meta.repeats} run(s), each`,
    `figure the median of the runs; load average at the end ${meta.load_at_end}.`,
    "Written by `deno task bench` (bench/run.ts). Timings are of one run on a shared 2-core machine: treat",
    "them as indications; run alone for figures to quote.",
    "",
    "![figures against targets](results.svg)",
    "",
    "| figure | value | target | met |",
    "| --- | ---: | ---: | :---: |",
  ];
  for (const t of TARGETS) {
    const v = figure(r, t.key);
    const ok = v === undefined ? undefined : met(t, v);
    const hwm = t.hwm ? r.figures[t.hwm] : undefined;
    const value = v === undefined
      ? "—"
      : `${v}${t.unit === "×" ? "×" : t.unit ? " " + t.unit : ""}${
        hwm !== undefined ? ` (VmHWM ${hwm})` : ""
      }`;
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
  if (r.scaling?.length) {
    lines.push(
      "",
      "Scaling (`scaling`): `sleep` tasks started through the driver, each streaming stats every 1 s:",
      "",
      "| tasks | started | plugin VmRSS MB | VmHWM MB | plugin CPU % | RPC p50 ms | RPC p99 ms | containerd RSS MB |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...r.scaling.map((p) =>
        `| ${p.tasks} | ${p.started} | ${p.rss_mb} | ${p.hwm_mb} | ${p.cpu_pct} | ${p.rpc_p50_ms} | ${p.rpc_p99_ms} | ${p.containerd_rss_mb} |`
      ),
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
    "Every sampled figure is a median with its p95 in the details; A/B pairs run interleaved (the side that",
    "goes first alternates) so that load hits both alike. `--repeat N`: each figure is the median of N runs,",
    "each run's value and the spread in `details.repeats`; a target counts as met on that median.",
    "",
    "- handshake: exec of bin/containerd-driver with go-plugin's environment until the handshake line (20),",
    "  interleaved with a bare grpc-js server in Deno run the same way (the floor); also the CPU time of both",
    "  until the line (SIGSTOP on the line, schedstat of all threads), which does not depend on machine load.",
    "- idle: a configured plugin holding a Fingerprint and a TaskEvents stream (as Nomad's client does), no",
    "  task: utime+stime over 90 s after 15 s of settling (1 tick = 0.011 % of a core), then VmRSS and VmHWM.",
    "- start: StartTask RPC time (returns once containerd started the task) with the image cached, vs the wall",
    "  time of `ctr run -d` of the same image and command in the same namespace; alternating, 30 each, after a",
    "  warm-up of both. The ratio is of the medians; p95 in the details.",
    "- stop: StopTask(SIGTERM, 10 s) of a tini-wrapped `sleep`, which exits at once: the whole RPC.",
    "- 20 tasks: a fresh plugin, 20 `sleep` tasks each with a TaskStats stream at 1 s; CPU over 60 s after 10 s",
    "  of settling, then VmRSS and VmHWM.",
    "- scaling: one plugin, tasks added up to 10, 50, 100, 200, 500 (8 StartTask in flight), each with a stats",
    "  stream at 1 s; per point after 5 s: CPU over 20 s, VmRSS/VmHWM, containerd's VmRSS, and a round of",
    "  InspectTask of every task (10 in flight) + 20 Capabilities for the RPC p50/p99. The 100 point gives",
    "  `rss_100_tasks_mb` / `cpu_100_tasks_pct`.",
    "- 200 tasks: 200 StartTask calls issued at once; with all running and streaming stats, 5 rounds of",
    "  InspectTask + SignalTask per task (10 in flight), Capabilities/PluginInfo, and each TaskStats stream's",
    "  first sample; the headline p99 is of the calls that do not fork runc (the details list every method).",
    "  `taskstats_next_p99_ms_200_tasks`: how late the later samples come past the 1 s interval. The floor of",
    "  a burst of first samples: containerd's own Tasks.Metrics of all 200 tasks from the bench.",
    "- pull: bench/pull.ts (cold pull of the 2-layer redis test image into a fresh namespace vs `ctr image pull`).",
    "- nomad: a real `nomad agent -dev` with the plugin. First the plugin's VmRSS/VmHWM 60 s after a job that",
    "  pulls the redis test image (9 MB) and runs one task (`rss_after_pull_mb`); then `nomad job run -detach` of",
    "  a one-task service job until the allocation runs, our driver and Nomad's `exec` driver alternating (same",
    "  `sleep 600`, host network, 10 each after a warm-up job of each).",
    "- wasm: bench/wasm.ts, 31 interleaved rounds per pair, median of the per-round ratios; `wasm_vs_ts.seccomp`",
    "  is the profile conversion; the verdict rows (an index lookup against the oracle's linear scan) are listed",
    "  apart in the details.",
  );
  return lines.join("\n") + "\n";
}

/** results.json: the headline numbers at the top level, then details. */
export function json(r: BenchResults, meta: Record<string, string>): string {
  const targets = Object.fromEntries(
    TARGETS.filter((t) => t.target !== undefined).map((t) => [t.key, `${t.cmp} ${t.target}`]),
  );
  const met_ = Object.fromEntries(
    TARGETS.filter((t) => figure(r, t.key) !== undefined && t.target !== undefined)
      .map((t) => [t.key, met(t, figure(r, t.key)!)]),
  );
  return JSON.stringify(
    {
      ...r.figures,
      ...(r.wasm_vs_ts ? { wasm_vs_ts: r.wasm_vs_ts } : {}),
      ...(r.scaling ? { scaling: r.scaling } : {}),
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

/** Reads results.json back into results and meta (numeric top-level keys are the figures). */
export function fromJson(text: string): { r: BenchResults; meta: Record<string, string> } {
  const j = JSON.parse(text);
  const figures: Record<string, number> = {};
  for (const [k, v] of Object.entries(j)) if (typeof v === "number") figures[k] = v;
  return {
    r: {
      figures,
      wasm_vs_ts: j.wasm_vs_ts,
      scaling: j.scaling,
      details: j.details ?? {},
      errors: j.errors ?? {},
      notes: j.notes ?? [],
    },
    meta: j.meta ?? {},
  };
}

// `deno run --allow-read=bench --allow-write=bench bench/report.ts`: rewrites results.md and results.svg
// from results.json (after a change to the report's text, without running the benchmarks again).
if (import.meta.main) {
  const dir = new URL(".", import.meta.url).pathname;
  const { r, meta } = fromJson(Deno.readTextFileSync(`${dir}results.json`));
  Deno.writeTextFileSync(`${dir}results.md`, markdown(r, meta));
  Deno.writeTextFileSync(`${dir}results.svg`, svg(r));
}
