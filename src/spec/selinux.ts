/**
 * SELinux labels of a task, purely: the process and mount labels (the policy's container contexts with
 * the MCS categories of the task's allocation, which its tasks share as a pod's containers do) and the
 * host paths to relabel for the plugin's `volumes.selinuxlabel` and for Nomad volume mounts'
 * `selinux_label`. The driver detects SELinux, reads the policy's lxc_contexts, picks the categories and
 * runs the relabel; runc applies the labels.
 *
 * `z` labels content shared (the file context at the bare sensitivity `s0`, usable by every container);
 * `Z` labels it private to the allocation (its categories). The alloc dir is always labelled shared.
 *
 * @module
 */
import type { SpecInput, TaskSelinux } from "./input.ts";
export type { TaskSelinux };
import { cleanPath } from "./checks.ts";
import { mountSource } from "./opts/mounts.ts";
import { ConfigError } from "../schema/values.ts";

/** The container contexts of a policy (lxc_contexts `process` and `file`). */
export interface SelinuxContexts {
  /** the domain containers run in, e.g. system_u:system_r:container_t:s0 */
  process: string;
  /** the type of container content, e.g. system_u:object_r:container_file_t:s0 */
  file: string;
}

/** The contexts of container-selinux and of refpolicy's container module, when the policy names none. */
export const DEFAULT_CONTEXTS: SelinuxContexts = {
  process: "system_u:system_r:container_t:s0",
  file: "system_u:object_r:container_file_t:s0",
};

/** One host path to relabel before the task starts. */
export interface Relabel {
  path: string;
  context: string;
  /** where the option is (`plugin config`, `task config`, `volume_mount`) and its name, for errors */
  scope: string;
  option: string;
}

/**
 * Reads the `process` and `file` contexts of an lxc_contexts file (`key = "context"` lines; `#` comments).
 *
 * @example
 * ```ts
 * parseLxcContexts('process = "system_u:system_r:container_t:s0"\n'); // { process: "system_u:system_r:container_t:s0" }
 * ```
 */
export function parseLxcContexts(text: string): Partial<SelinuxContexts> {
  const out: Partial<SelinuxContexts> = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^(process|file)\s*=\s*"?([^"\s]+)"?$/.exec(line);
    if (m && isContext(m[2])) out[m[1] as keyof SelinuxContexts] = m[2];
  }
  return out;
}

/** Whether a string looks like a context: user:role:type with an optional level. */
export function isContext(s: string): boolean {
  return /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+(:[A-Za-z0-9_.:,-]+)?$/.test(s);
}

/**
 * A context with its level (the part after the type) replaced; a context of a policy without MLS/MCS
 * (three fields) stays as it is.
 *
 * @example
 * ```ts
 * withLevel("system_u:object_r:container_file_t:s0", "s0:c1,c2"); // "system_u:object_r:container_file_t:s0:c1,c2"
 * ```
 */
export function withLevel(context: string, level: string): string {
  const parts = context.split(":");
  if (parts.length < 4) return context;
  return `${parts.slice(0, 3).join(":")}:${level}`;
}

/** The number of MCS categories the policies define (c0..c1023). */
export const MCS_CATEGORIES = 1024;

/**
 * The MCS level of two distinct categories, lower first, as runc and the kernel expect.
 *
 * @example
 * ```ts
 * mcsLevel(700, 12); // "s0:c12,c700"
 * ```
 */
export function mcsLevel(a: number, b: number): string {
  for (const c of [a, b]) {
    if (!Number.isInteger(c) || c < 0 || c >= MCS_CATEGORIES) {
      throw new RangeError(`MCS category ${c} is outside 0..${MCS_CATEGORIES - 1}`);
    }
  }
  if (a === b) throw new RangeError(`MCS categories must differ (both ${a})`);
  return `s0:c${Math.min(a, b)},c${Math.max(a, b)}`;
}

/**
 * A task's labels from the policy's contexts: confined with `level` (its MCS categories) when given,
 * otherwise only the shared label (relabelling for Nomad volume mounts still applies).
 *
 * @example
 * ```ts
 * taskSelinux(DEFAULT_CONTEXTS, "s0:c1,c2").processLabel; // "system_u:system_r:container_t:s0:c1,c2"
 * ```
 */
export function taskSelinux(contexts: SelinuxContexts, level?: string): TaskSelinux {
  const sharedLabel = withLevel(contexts.file, "s0");
  if (level === undefined) return { sharedLabel };
  return {
    sharedLabel,
    processLabel: withLevel(contexts.process, level),
    mountLabel: withLevel(contexts.file, level),
  };
}

/**
 * Whether a task runs confined: SELinux is on, the plugin's `volumes.selinuxlabel` is set and the task is
 * not privileged (as with Docker, a privileged task keeps the runtime's own domain).
 */
export function confined(input: Pick<SpecInput, "task" | "plugin">): boolean {
  return input.plugin.selinuxLabel !== undefined && !input.task.privileged;
}

/** Host directories whose relabelling would break the host: refused exactly, and everything under them. */
const REFUSED_EXACT = new Set([
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/var/lib",
  "/var/log",
  "/var/run",
  "/var/tmp",
]);
const REFUSED_UNDER = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/proc",
  "/sbin",
  "/sys",
  "/usr",
];

/**
 * Throws a ConfigError when `path` is a system directory (or under one of /usr, /etc, /proc...): relabelling
 * it for containers would take it from the host's own services.
 */
export function checkRelabelPath(scope: string, option: string, path: string): void {
  const p = cleanPath(path);
  if (REFUSED_EXACT.has(p) || REFUSED_UNDER.some((d) => p.startsWith(`${d}/`))) {
    throw new ConfigError(
      scope,
      option,
      `"${p}" is a system path and cannot be relabelled for SELinux (the host's own services use it); ` +
        `mount a directory of its own (such as /srv/<app>) or drop the label`,
    );
  }
}

/**
 * The host paths to relabel before start, with their contexts; [] when SELinux is off (no
 * `input.selinux`). With the plugin's `volumes.selinuxlabel`: the alloc dir (shared), the local and secrets
 * dirs and the driver's generated files (`<task dir>/.cdrv`), and the sources of the task's bind mounts
 * and volumes. Nomad volume mounts are relabelled by their own `selinux_label`. Throws ConfigError for a
 * system path.
 *
 * @example
 * ```ts
 * relabelPlan(input); // [{ path: ".../alloc", context: "system_u:object_r:container_file_t:s0", scope: "plugin config", option: "volumes.selinuxlabel" }, ...]
 * ```
 */
export function relabelPlan(input: SpecInput): Relabel[] {
  const se = input.selinux;
  if (!se) return [];
  const context = (label: "z" | "Z") => label === "Z" && se.mountLabel ? se.mountLabel : se.sharedLabel;
  const out: Relabel[] = [];
  const add = (scope: string, option: string, path: string, ctx: string) => {
    checkRelabelPath(scope, option, path);
    out.push({ path: cleanPath(path), context: ctx, scope, option });
  };
  const label = input.plugin.selinuxLabel;
  const { dirs } = input.nomad;
  if (label) {
    const option = "volumes.selinuxlabel";
    add("plugin config", option, dirs.alloc, se.sharedLabel);
    add("plugin config", option, dirs.local, context(label));
    add("plugin config", option, dirs.secrets, context(label));
    add("plugin config", option, `${dirs.task}/.cdrv`, context(label));
    input.task.mounts.forEach((m, i) => {
      if (m.type !== "tmpfs") {
        add("task config", `mounts[${i}].source`, mountSource(m.source, dirs.task), context(label));
      }
    });
    input.task.volumes.forEach((v, i) => {
      add("task config", `volumes[${i}]`, mountSource(v.source, dirs.task), context(label));
    });
  }
  for (const m of input.nomad.mounts) {
    if (m.selinuxLabel === "z" || m.selinuxLabel === "Z") {
      add("volume_mount", `${m.taskPath} selinux_label`, m.hostPath, context(m.selinuxLabel));
    }
  }
  // A path named twice keeps its first (most shared) context: the alloc dir before a mount inside it.
  const seen = new Set<string>();
  return out.filter((r) => !seen.has(r.path) && seen.add(r.path));
}

/**
 * The rootfs mounts of a confined task with the mount label as their `context=` option: the snapshot's
 * files are labelled for the runtime, not for the container, and an overlay or bind mount shows them
 * all with the context given.
 */
export function labelRootfsMounts<M extends { options: string[] }>(mounts: M[], mountLabel: string): M[] {
  return mounts.map((m) => ({
    ...m,
    options: [...m.options.filter((o) => !o.startsWith("context=")), `context="${mountLabel}"`],
  }));
}
