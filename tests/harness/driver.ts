/**
 * A plugin process configured against the test run's containerd, in a namespace of its own, plus
 * promisified Driver calls — what the lifecycle tests drive, playing Nomad's part.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { call, type PluginProcess, startPlugin } from "./plugin.ts";
import { TEST_TMP } from "./services.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import type {
  ExitResult,
  InspectTaskResponse,
  StartTaskResponse,
  TaskConfig,
  TaskHandle,
} from "../../src/gen/nomad/driver.ts";

/** The test run's containerd (started by scripts/test.sh). */
export const CTD_SOCK = Deno.env.get("CDRV_TEST_CONTAINERD_SOCK") ?? "";
/** The test run's containerd directory. */
export const CTD_DIR = Deno.env.get("CDRV_TEST_CONTAINERD_DIR") ?? "";
/** The plain local registry (host:port). */
export const REGISTRY = Deno.env.get("CDRV_TEST_REGISTRY_PLAIN") ?? "127.0.0.1:15000";
/** The busybox (+ tini) test image. */
export const BUSYBOX = `${REGISTRY}/cdrv/busybox:1`;

/** A configured plugin process. */
export interface TestDriver {
  p: PluginProcess;
  namespace: string;
  start(cfg: TaskConfig): Promise<StartTaskResponse>;
  wait(taskId: string, timeoutMs?: number): Promise<ExitResult>;
  stop(taskId: string, timeoutMs: number, signal?: string): Promise<void>;
  destroy(taskId: string, force?: boolean): Promise<void>;
  inspect(taskId: string): Promise<InspectTaskResponse>;
  recover(handle: TaskHandle): Promise<void>;
  signal(taskId: string, signal: string): Promise<void>;
  ctr(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** `ctr --address sock -n ns ...`; throws with stderr on failure. */
export async function ctrIn(sock: string, ns: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("ctr", {
    args: ["--address", sock, "-n", ns, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`ctr ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** Starts the plugin and sets its config for the test containerd and a fresh namespace. */
export async function startDriver(
  extraConfig: Record<string, CtyValue> = {},
  opts: { namespace?: string; socketDir?: string } = {},
): Promise<TestDriver> {
  if (!CTD_SOCK) throw new Error("CDRV_TEST_CONTAINERD_SOCK is not set: run through ./scripts/test.sh");
  const namespace = opts.namespace ?? `cdrv-t-${crypto.randomUUID().slice(0, 8)}`;
  const p = await startPlugin({
    env: { CONTAINERD_DRIVER_EXTRA_PATHS: `${CTD_DIR}:${TEST_TMP}` },
    socketDir: opts.socketDir,
  });
  const cfg = { containerd_address: CTD_SOCK, namespace, snapshotter: "overlayfs", ...extraConfig };
  await call(p.base, "setConfig", {
    msgpackConfig: encodeCty(cfg, impliedType(pluginSpec)),
    pluginApiVersion: "0.1.0",
  });
  return driverOn(p, namespace);
}

/** Wraps an already configured plugin process. */
export function driverOn(p: PluginProcess, namespace: string): TestDriver {
  const ctr = (...args: string[]) => ctrIn(CTD_SOCK, namespace, ...args);
  return {
    p,
    namespace,
    start: (cfg) => call(p.driver, "startTask", { task: cfg }, 120_000),
    wait: async (taskId, timeoutMs = 60_000) =>
      (await call<typeof p.driver, { result: ExitResult }>(p.driver, "waitTask", { taskId }, timeoutMs))
        .result,
    stop: async (taskId, timeoutMs, signal = "SIGTERM") => {
      await call(p.driver, "stopTask", {
        taskId,
        signal,
        timeout: { seconds: BigInt(Math.floor(timeoutMs / 1000)), nanos: (timeoutMs % 1000) * 1e6 },
      }, timeoutMs + 30_000);
    },
    destroy: async (taskId, force = true) => {
      await call(p.driver, "destroyTask", { taskId, force });
    },
    inspect: (taskId) => call(p.driver, "inspectTask", { taskId }),
    recover: async (handle) => {
      await call(p.driver, "recoverTask", { taskId: "", handle });
    },
    signal: async (taskId, signal) => {
      await call(p.driver, "signalTask", { taskId, signal });
    },
    ctr,
    async close() {
      await p.close();
    },
  };
}

/** Removes everything left in a namespace (after a test), then the namespace. */
export async function purgeNamespace(namespace: string): Promise<void> {
  const run = (...args: string[]) =>
    new Deno.Command("ctr", {
      args: ["--address", CTD_SOCK, "-n", namespace, ...args],
      stdout: "piped",
      stderr: "null",
    })
      .output();
  const dec = new TextDecoder();
  const tasks = dec.decode((await run("tasks", "ls", "-q")).stdout).split("\n").filter(Boolean);
  for (const t of tasks) {
    await run("tasks", "kill", "-a", "-s", "SIGKILL", t);
    await run("tasks", "delete", "-f", t);
  }
  const cs = dec.decode((await run("containers", "ls", "-q")).stdout).split("\n").filter(Boolean);
  if (cs.length) await run("containers", "rm", ...cs);
  const imgs = dec.decode((await run("images", "ls", "-q")).stdout).split("\n").filter(Boolean);
  if (imgs.length) await run("images", "rm", "--sync", ...imgs);
  const leases = dec.decode((await run("leases", "ls", "-q")).stdout).split("\n").filter(Boolean);
  if (leases.length) await run("leases", "rm", ...leases);
  const snaps = dec.decode((await run("snapshots", "ls")).stdout).split("\n").slice(1).map((l) =>
    l.split(/\s+/)[0]
  )
    .filter(Boolean);
  for (const s of snaps.reverse()) await run("snapshots", "rm", s);
  await run("content", "prune", "references");
  await new Deno.Command("ctr", {
    args: ["--address", CTD_SOCK, "namespaces", "rm", namespace],
    stderr: "null",
  }).output();
  // Tasks' cgroups are /<namespace>/<id>: runc removes each task's own, the namespace's (empty) stays.
  await new Deno.Command("sh", {
    args: ["-c", 'rmdir /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1" 2>/dev/null; true', "_", namespace],
  }).output();
}

/** True when err is a gRPC error with this code. */
export function isCode(err: unknown, code: grpc.status): boolean {
  return (err as grpc.ServiceError)?.code === code;
}

/** The gRPC status details (message) of an error thrown by a call. */
export function details(err: unknown): string {
  return (err as grpc.ServiceError)?.details ?? String(err);
}
