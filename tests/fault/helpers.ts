/**
 * Shared pieces of the fault tests: a plugin configured against any containerd (the run's, or a private
 * one), `ctr` in a namespace, the inventory of what a namespace holds, a small concurrency pool, the
 * secret check over captured plugin stderr, and the rows of the fault summary (printed by
 * scripts/test-report.ts after the run).
 *
 * @module
 */
import { call, type PluginProcess, startPlugin } from "../harness/plugin.ts";
import { CTD_DIR, CTD_SOCK, ctrIn, driverOn, type TestDriver } from "../harness/driver.ts";
export { ctrIn };
import { shortTempDir, TEST_TMP } from "../harness/services.ts";
import { nomadTaskConfig } from "../harness/task.ts";
import type { TaskConfig } from "../../src/gen/nomad/driver.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import { assert } from "../harness/assert.ts";
import type { SummaryRow } from "./summary.ts";

/** The basic-auth registry's password (scripts/lib/registry.sh): must never reach a log. */
export const REGISTRY_PASSWORD = "s3cret-pw";

/** Every secret a fault test hands to a plugin; each plugin's stderr is checked for all of them. */
export const SECRETS = [REGISTRY_PASSWORD, "wrong-pw-fault-4711", "plugin-pw-fault-0815"];

/** Encodes a plugin block for SetConfig. */
export function pluginConfigBytes(cfg: Record<string, CtyValue>): Uint8Array {
  return encodeCty(cfg, impliedType(pluginSpec));
}

/**
 * Starts the plugin (log level trace, so that anything that could leak does reach stderr) and sets its
 * config for `sock` and a fresh namespace.
 */
export async function faultDriver(opts: {
  sock?: string;
  /** colon-separated paths added to the sandbox (default: the run's containerd dir and /tmp) */
  extraPaths?: string;
  config?: Record<string, CtyValue>;
  namespace?: string;
  /** CONTAINERD_DRIVER_LOG_LEVEL (default trace); null leaves the plugin's default */
  logLevel?: string | null;
} = {}): Promise<TestDriver & { sock: string }> {
  const sock = opts.sock ?? CTD_SOCK;
  if (!sock) throw new Error("CDRV_TEST_CONTAINERD_SOCK is not set: run through ./scripts/test.sh");
  const namespace = opts.namespace ?? `cdrv-f-${crypto.randomUUID().slice(0, 8)}`;
  const p = await startPlugin({
    env: {
      CONTAINERD_DRIVER_EXTRA_PATHS: opts.extraPaths ?? `${CTD_DIR}:${TEST_TMP}`,
      ...(opts.logLevel === null ? {} : { CONTAINERD_DRIVER_LOG_LEVEL: opts.logLevel ?? "trace" }),
    },
  });
  const cfg = { containerd_address: sock, namespace, snapshotter: "overlayfs", ...opts.config };
  await call(p.base, "setConfig", { msgpackConfig: pluginConfigBytes(cfg), pluginApiVersion: "0.1.0" });
  p.status.then(() => exited.add(p));
  const d = driverOn(p, namespace);
  // driverOn's ctr talks to the run's containerd; point it at ours.
  return { ...d, sock, ctr: (...args: string[]) => ctrIn(sock, namespace, ...args) };
}

/** What a namespace holds, as `ctr` lists it (header lines dropped). */
export async function inventory(sock: string, ns: string): Promise<Record<string, string[]>> {
  const list = async (...args: string[]) =>
    (await ctrIn(sock, ns, ...args).catch(() => "")).split("\n").map((l) => l.trim()).filter(Boolean);
  const body = async (...args: string[]) => (await list(...args)).slice(1).map((l) => l.split(/\s+/)[0]);
  const snaps = (await list("snapshots", "ls")).slice(1).map((l) => l.split(/\s+/));
  return {
    containers: await list("containers", "ls", "-q"),
    tasks: await list("tasks", "ls", "-q"),
    snapshots: snaps.map((c) => c[0]),
    /** writable snapshots (containers'); committed ones are image layers */
    active: snaps.filter((c) => c.at(-1) === "Active").map((c) => c[0]),
    leases: await list("leases", "ls", "-q"),
    content: await body("content", "ls"),
    images: await list("images", "ls", "-q"),
  };
}

/**
 * Fails unless the namespace holds none of the given kinds (default: what a task makes — containers,
 * tasks, writable snapshots, leases; an image and its layers may stay for the image GC).
 */
export async function assertEmpty(
  sock: string,
  ns: string,
  kinds: string[] = ["containers", "tasks", "active", "leases"],
  what = "",
): Promise<void> {
  const inv = await inventory(sock, ns);
  const left = kinds.filter((k) => inv[k].length > 0).map((k) => `${k}: ${inv[k].join(", ")}`);
  assert(left.length === 0, `${what ? what + ": " : ""}left behind in namespace ${ns}: ${left.join("; ")}`);
}

/** Fails when any captured line holds one of the secrets; returns the number of lines checked. */
export function assertNoSecrets(
  lines: string[],
  secrets: string[] = SECRETS,
  what = "plugin stderr",
): number {
  for (const s of secrets) {
    const hit = lines.find((l) => l.includes(s));
    assert(!hit, `${what} holds a secret: ${hit}`);
  }
  return lines.length;
}

/** Runs `fn` over `items` with at most `n` at a time; results in input order. */
export async function pool<T, R>(items: T[], n: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const exited = new WeakSet<PluginProcess>();

/** Whether the plugin process still runs (the test runner may not read /proc without its all-permissions flag). */
export function alive(p: PluginProcess): boolean {
  return !exited.has(p);
}

/** Whether the plugin process is gone, waiting up to `ms` for its exit to be seen. */
export async function crashed(p: PluginProcess, ms = 1000): Promise<boolean> {
  await Promise.race([p.status, new Promise((r) => setTimeout(r, ms))]);
  return !alive(p);
}

const SUMMARY = `${TEST_TMP}/fault-summary.jsonl`;

/** Records a row of the fault summary table (scripts/test-report.ts prints it after the run). */
export async function record(row: SummaryRow): Promise<void> {
  await Deno.writeTextFile(SUMMARY, JSON.stringify(row) + "\n", { append: true });
}

/** A task prepared without in-process FIFO readers (see {@linkcode leanTask}). */
export interface LeanTask {
  config: TaskConfig;
  allocDir: string;
  /** The stdout lines written so far. */
  stdoutLines(): Promise<string[]>;
  /** Stops the reader (if any) and removes the alloc dir. */
  cleanup(): Promise<void>;
}

let leanSeq = 0;

/**
 * A task as Nomad's client prepares it, for tests with many tasks. The harness's FifoReader keeps one of
 * Deno's blocking threads per FIFO (a FIFO read cannot be polled), and a test process with more than
 * about 30 of them starves every other file operation. Here stdout is either a FIFO read by a `cat`
 * process of its own (as logmon reads it: the plugin passes the FIFO to containerd and is never in the
 * way) or a plain file the shim appends to; stderr is a plain file.
 */
export async function leanTask(o: {
  config: Record<string, CtyValue>;
  name?: string;
  stdout?: "fifo" | "file";
  memoryMb?: number;
}): Promise<LeanTask> {
  const allocId = crypto.randomUUID();
  const name = o.name ?? `l${++leanSeq}`;
  const allocDir = await shortTempDir("cdrv-fa-");
  for (
    const d of ["alloc/logs", "alloc/data", "alloc/tmp", `${name}/local`, `${name}/secrets`, `${name}/tmp`]
  ) {
    await Deno.mkdir(`${allocDir}/${d}`, { recursive: true });
  }
  const out = `${allocDir}/alloc/logs/${name}.stdout.0`;
  const err = `${allocDir}/alloc/logs/${name}.stderr.0`;
  // The shim opens plain files with O_APPEND but not O_CREAT.
  await Deno.writeTextFile(out, "");
  await Deno.writeTextFile(err, "");
  let stdoutPath = out;
  let reader: Deno.ChildProcess | undefined;
  if (o.stdout === "fifo") {
    stdoutPath = `${allocDir}/alloc/logs/.${name}.stdout.fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [stdoutPath] }).output();
    if (!mk.success) throw new Error("mkfifo failed");
    // One reader for the FIFO's life (logmon would reopen it after EOF; the shim keeps it open).
    reader = new Deno.Command("sh", {
      args: ["-c", 'exec cat "$0" >>"$1"', stdoutPath, out],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }
  const config = nomadTaskConfig(
    { config: o.config, memoryMb: o.memoryMb ?? 32 },
    { allocId, name, allocDir, stdoutPath, stderrPath: err },
  );
  return {
    config,
    allocDir,
    async stdoutLines() {
      const t = await Deno.readTextFile(out).catch(() => "");
      const parts = t.split("\n");
      parts.pop();
      return parts;
    },
    async cleanup() {
      if (reader) {
        try {
          reader.kill("SIGKILL");
        } catch { /* gone */ }
        await reader.status;
      }
      await Deno.remove(allocDir, { recursive: true }).catch(() => {});
    },
  };
}
