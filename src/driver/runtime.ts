/**
 * The containerd runtime (shim) a task runs under — the task's `runtime`, else the plugin's
 * `containerd_runtime` — and errors that name the option that chose it. containerd 2.0 removed the
 * `io.containerd.runc.v1` shim and the `io.containerd.runtime.v1.linux` runtime: on a 2.x daemon they are
 * refused before anything is created (a stray 1.x `containerd-shim-runc-v1` on the PATH would otherwise
 * still start, unsupported). A shim the daemon cannot start is reported the same way, naming the option.
 *
 * @module
 */
import type { Containerd } from "../containerd/connection.ts";
import { ContainerdError } from "../containerd/connection.ts";
import { getVersion } from "../containerd/version.ts";
import { ConfigError, show } from "../schema/values.ts";
import { RUNC_SHIM } from "./config.ts";

/** Runtimes containerd 2.0 removed. */
const REMOVED_IN_2 = new Set(["io.containerd.runc.v1", "io.containerd.runtime.v1.linux"]);

/** The runtime a task runs under, and which option chose it. */
export interface RuntimeChoice {
  name: string;
  /** `task config` or `plugin config` */
  scope: string;
  /** `runtime` (task) or `containerd_runtime` (plugin) */
  option: string;
}

/**
 * The task's `runtime` when set, else the plugin's `containerd_runtime`.
 *
 * @example
 * ```ts
 * chooseRuntime(undefined, "io.containerd.runc.v2").option; // "containerd_runtime"
 * ```
 */
export function chooseRuntime(taskRuntime: string | undefined, pluginRuntime: string): RuntimeChoice {
  return taskRuntime
    ? { name: taskRuntime, scope: "task config", option: "runtime" }
    : { name: pluginRuntime, scope: "plugin config", option: "containerd_runtime" };
}

/** The major version of a containerd version string ("v2.4.2", "2.4.2+unknown", "1.6.20~ds1"); 0 if none. */
export function majorVersion(version: string): number {
  const m = /^v?(\d+)\./.exec(version);
  return m ? Number(m[1]) : 0;
}

/**
 * Refuses a runtime the daemon's version no longer has. Asks containerd its version only for a runtime
 * 2.0 removed, so a start under any other runtime costs no call.
 *
 * @example
 * ```ts ignore
 * await checkRuntime(conn, chooseRuntime(task.runtime, config.runtime));
 * ```
 */
export async function checkRuntime(conn: Containerd, rt: RuntimeChoice): Promise<void> {
  if (!REMOVED_IN_2.has(rt.name)) return;
  const { version } = await getVersion(conn, { timeoutMs: 5000 });
  const removed = removedRuntime(rt, version);
  if (removed) throw removed;
}

/**
 * The error for a runtime the daemon's version removed, or undefined when the runtime is not one of them.
 *
 * @example
 * ```ts
 * removedRuntime({ name: "io.containerd.runc.v1", scope: "task config", option: "runtime" }, "2.4.2")?.message;
 * // 'task config "runtime": "io.containerd.runc.v1" was removed in containerd 2.0 ...'
 * ```
 */
export function removedRuntime(rt: RuntimeChoice, version: string): ConfigError | undefined {
  if (majorVersion(version) < 2 || !REMOVED_IN_2.has(rt.name)) return undefined;
  return new ConfigError(
    rt.scope,
    rt.option,
    `${show(rt.name)} was removed in containerd 2.0 and this node runs containerd ${version}; use ${
      show(RUNC_SHIM)
    }, or another runtime whose shim is installed`,
  );
}

/**
 * What Tasks.Create's failure `e` becomes: {@linkcode shimError} with the daemon's version (asked only
 * when the shim could not start; "unknown" if containerd does not answer), else `e` as it is.
 *
 * @example
 * ```ts ignore
 * try { await createTask(conn, id, rootfs, io); } catch (e) { throw await taskCreateError(conn, e, rt); }
 * ```
 */
export async function taskCreateError(conn: Containerd, e: unknown, rt: RuntimeChoice): Promise<unknown> {
  if (!(e instanceof ContainerdError) || !SHIM_FAILED.test(e.details)) return e;
  const version = await getVersion(conn, { timeoutMs: 5000 }).then(
    (v) => v.version,
    () => "(version unknown)",
  );
  return shimError(e, rt, version);
}

/** containerd's words when it cannot find or start a task's shim. */
const SHIM_FAILED =
  /failed to start shim|binary not installed|failed to resolve runtime path|runtime .* not found/i;

/**
 * Turns Tasks.Create's "cannot start the shim" error into one naming the option, the value and what
 * works; any other error is returned as it is.
 *
 * @example
 * ```ts ignore
 * throw shimError(e, chooseRuntime(task.runtime, config.runtime), "2.4.2");
 * ```
 */
export function shimError(e: unknown, rt: RuntimeChoice, version: string): unknown {
  if (!(e instanceof ContainerdError) || !SHIM_FAILED.test(e.details)) return e;
  return new ConfigError(
    rt.scope,
    rt.option,
    `containerd ${version} cannot start the shim of runtime ${show(rt.name)} (${e.details.trim()}); use ${
      show(RUNC_SHIM)
    }, or a runtime whose shim (containerd-shim-<name>-<version> for io.containerd.<name>.<version>) is on containerd's PATH`,
  );
}
