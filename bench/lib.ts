/**
 * Small helpers of the benchmark runner: order statistics, /proc readers for the plugin process, and
 * running a command with a wall-clock time.
 *
 * @module
 */

/** The q-quantile (0..1) by nearest rank; NaN for no samples. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** The median (mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Rounds for the report. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A file under /proc, through cat(1): Deno opens /proc only with its all-permissions flag, which the
 * bench does not take.
 */
export function procFile(path: string): string {
  const out = new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(`cat ${path}: ${new TextDecoder().decode(out.stderr).trim()}`);
  return new TextDecoder().decode(out.stdout);
}

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM). */
export function procStatusMb(pid: number, field = "VmRSS"): number {
  const st = procFile(`/proc/${pid}/status`);
  const m = st.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function procCpuTicks(pid: number): number {
  const st = procFile(`/proc/${pid}/stat`);
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** The process name (comm) of a pid. */
export function procComm(pid: number): string {
  return procFile(`/proc/${pid}/comm`).trim();
}

/** Clock ticks per second (getconf CLK_TCK; 100 on Linux). */
export async function clockTicks(): Promise<number> {
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 100;
}

/** Runs a command; returns its wall time in ms and stdout; throws with stderr on failure. */
export async function timed(cmd: string, args: string[], env?: Record<string, string>): Promise<
  { ms: number; stdout: string }
> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return { ms, stdout: dec.decode(out.stdout) };
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** CPU of a process over a window: % of one core, from utime + stime (which count dead threads too). */
export async function cpuOver(
  pid: number,
  windowS: number,
): Promise<{ pct: number; ticks: number; hz: number }> {
  const hz = await clockTicks();
  const c0 = procCpuTicks(pid);
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const ticks = procCpuTicks(pid) - c0;
  const secs = (performance.now() - t0) / 1000;
  return { pct: (ticks / hz) / secs * 100, ticks, hz };
}

/**
 * Bundles one bench script (a file of bench/, e.g. "handshake_floor.ts") into `out` with `deno bundle`, as
 * the plugin's own bundle is made; throws with deno's stderr on failure.
 */
export async function bundleBenchScript(name: string, out: string): Promise<void> {
  const src = new URL(`./${name}`, import.meta.url).pathname;
  const b = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", out, src],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!b.success) throw new Error(`deno bundle of bench/${name}: ${new TextDecoder().decode(b.stderr)}`);
}
