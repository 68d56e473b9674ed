/**
 * The plugin block and the task `config {}` block: each declared once as an hclspec tree (with its doc
 * lines), next to the TypeScript type it decodes into and the decoder. Add an option here and it is
 * validated by Nomad, decoded, and listed in the README table.
 *
 * @module
 */
import { attr, block, blockList, impliedType, object, withDefault } from "./hclspec.ts";
import { type CtyValue, decodeCty } from "../plugin/cty.ts";
import { ConfigError, Reader } from "./values.ts";

// ---------------------------------------------------------------------------------------------------
// Plugin block

/** The plugin block's schema (`plugin "containerd-driver" { config { ... } }`). */
export const pluginSpec = object({
  enabled: withDefault(attr("bool", "Whether the driver may run tasks on this node."), "true"),
  containerd_address: withDefault(
    attr("string", "containerd's gRPC socket."),
    `"/run/containerd/containerd.sock"`,
  ),
  namespace: withDefault(attr("string", "containerd namespace holding the driver's containers and images."), `"nomad"`),
  containerd_runtime: withDefault(
    attr("string", "containerd runtime (shim) for tasks that do not set `runtime`."),
    `"io.containerd.runc.v2"`,
  ),
  snapshotter: withDefault(attr("string", "containerd snapshotter to unpack images with."), `"overlayfs"`),
  stats_interval: withDefault(attr("string", "Least interval between two stats samples."), `"1s"`),
  allow_privileged: withDefault(
    attr("bool", "Whether tasks may set `privileged = true` or `pid_mode = \"host\"`."),
    "true",
  ),
  registry_hosts_dir: withDefault(
    attr("string", "Directory of containerd `hosts.toml` files (mirrors, CAs, plain HTTP) per registry."),
    `"/etc/containerd/certs.d"`,
  ),
  auth: block(
    object({
      username: attr("string", "Registry username used when a task has no `auth` block."),
      password: attr("string", "Registry password (never logged)."),
      helper: attr("string", "Docker credential helper: runs `docker-credential-<helper>`."),
    }),
    "Default registry credentials.",
  ),
  volumes: block(
    object({
      enabled: withDefault(attr("bool", "Allow bind mounts of host paths outside the task directory."), "true"),
      selinuxlabel: attr("string", "SELinux label applied to bind mounts (`z` or `Z`)."),
    }),
    "Host volume policy.",
  ),
  gc: block(
    object({
      image: withDefault(attr("bool", "Remove images no task uses any more."), "true"),
      image_delay: withDefault(attr("string", "How long an unused image is kept before removal."), `"3m"`),
    }),
    "Garbage collection.",
  ),
});

/** The decoded plugin block. */
export interface PluginConfig {
  enabled: boolean;
  containerdAddress: string;
  namespace: string;
  runtime: string;
  snapshotter: string;
  statsIntervalMs: number;
  allowPrivileged: boolean;
  registryHostsDir: string;
  auth: { username?: string; password?: string; helper?: string };
  volumes: { enabled: boolean; selinuxLabel?: "z" | "Z" };
  gc: { image: boolean; imageDelayMs: number };
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Decodes and validates the plugin block from Nomad's cty msgpack (SetConfig.msgpack_config).
 * Empty input gives all defaults.
 *
 * @example
 * ```ts
 * const cfg = decodePluginConfig(new Uint8Array());
 * cfg.namespace; // "nomad"
 * ```
 */
export function decodePluginConfig(msgpack: Uint8Array): PluginConfig {
  const value = msgpack.length === 0 ? null : decodeWith("plugin config", msgpack, impliedType(pluginSpec));
  return readPluginConfig(value);
}

/** Reads the plugin block from an already decoded value (also used by the playground). */
export function readPluginConfig(value: CtyValue): PluginConfig {
  const r = new Reader("plugin config", value);
  const auth = r.block("auth");
  const volumes = r.block("volumes");
  const gc = r.block("gc");
  const address = r.string("containerd_address", "/run/containerd/containerd.sock");
  if (!address.startsWith("/")) {
    throw r.error("containerd_address", `"${address}" is not an absolute socket path such as "/run/containerd/containerd.sock"`);
  }
  const namespace = r.string("namespace", "nomad");
  if (!NAME_RE.test(namespace)) {
    throw r.error("namespace", `"${namespace}" is not a valid containerd namespace; use letters, digits, ".", "_" or "-"`);
  }
  const helper = auth.string("helper");
  if (helper !== undefined && !NAME_RE.test(helper)) {
    throw auth.error("helper", `"${helper}" is not a credential helper name such as "pass" or "ecr-login"`);
  }
  return {
    enabled: r.bool("enabled", true),
    containerdAddress: address,
    namespace,
    runtime: r.string("containerd_runtime", "io.containerd.runc.v2"),
    snapshotter: r.string("snapshotter", "overlayfs"),
    statsIntervalMs: r.duration("stats_interval", "1s", { minMs: 100 }),
    allowPrivileged: r.bool("allow_privileged", true),
    registryHostsDir: r.string("registry_hosts_dir", "/etc/containerd/certs.d"),
    auth: { username: auth.string("username"), password: auth.string("password"), helper },
    volumes: { enabled: volumes.bool("enabled", true), selinuxLabel: volumes.oneOf("selinuxlabel", ["z", "Z"]) },
    gc: { image: gc.bool("image", true), imageDelayMs: gc.duration("image_delay", "3m") },
  };
}

function decodeWith(scope: string, bytes: Uint8Array, type: ReturnType<typeof impliedType>): CtyValue {
  try {
    return decodeCty(bytes, type);
  } catch (e) {
    const err = e as Error & { path?: string[] };
    const option = err.path && err.path.length > 0 ? err.path.join(".") : "(block)";
    throw new ConfigError(scope, option, err.message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Task config block

const stringList = "list(string)";
const stringMaps = "list(map(string))";

/** The task `config {}` block's schema. Names follow the Roblox containerd driver where it has them. */
export const taskSpec = object({
  image: attr("string", "Image reference to run, e.g. `docker.io/library/redis:7`.", { required: true }),
  image_pull_timeout: withDefault(attr("string", "Time limit for pulling the image."), `"5m"`),
  force_pull: withDefault(attr("bool", "Pull the image even when it is present."), "false"),
  auth: block(
    object({ username: attr("string", "Registry username."), password: attr("string", "Registry password.") }),
    "Registry credentials for this task (win over the plugin's).",
  ),
  command: attr("string", "Command to run, replacing the image's CMD."),
  args: attr(stringList, "Arguments to `command` (or to the image's CMD)."),
  entrypoint: attr(stringList, "Replaces the image's ENTRYPOINT."),
  cwd: attr("string", "Working directory inside the container (created if missing)."),
  hostname: attr("string", "Container hostname."),
  privileged: withDefault(attr("bool", "All capabilities and devices, no seccomp."), "false"),
  cap_add: attr(stringList, "Capabilities to add (`ALL` for all)."),
  cap_drop: attr(stringList, "Capabilities to drop (`ALL` for all)."),
  seccomp: withDefault(attr("bool", "Apply the default seccomp profile."), "true"),
  seccomp_profile: attr("string", "Path of a Docker-format seccomp profile JSON file."),
  readonly_rootfs: withDefault(attr("bool", "Mount the root filesystem read-only."), "false"),
  pids_limit: attr("number", "Maximum number of processes in the container."),
  pid_mode: attr("string", "`host` to share the host's PID namespace."),
  ipc_mode: attr("string", "`host` to share the host's IPC namespace."),
  shm_size: attr("string", "Size of /dev/shm, e.g. `128M`."),
  sysctl: attr(stringMaps, "Namespaced sysctls, e.g. `{ \"net.core.somaxconn\" = \"1024\" }`."),
  ulimit: attr(stringMaps, "Resource limits, e.g. `{ nofile = \"4096:8192\" }`."),
  labels: attr(stringMaps, "Extra container labels."),
  runtime: attr("string", "containerd runtime for this task, e.g. `io.containerd.runc.v2`."),
  host_network: withDefault(attr("bool", "Run in the host's network namespace."), "false"),
  host_dns: withDefault(attr("bool", "Use the host's /etc/resolv.conf when Nomad gives no DNS config."), "true"),
  extra_hosts: attr(stringList, "Extra /etc/hosts lines as `host:ip`."),
  devices: attr(stringList, "Host device paths to expose, e.g. `/dev/fuse`."),
  init: withDefault(attr("bool", "Run an init (tini) as PID 1 that reaps zombies."), "false"),
  init_path: withDefault(attr("string", "Host path of the init binary."), `"/usr/bin/tini-static"`),
  memory_reservation: attr("string", "Memory soft limit, e.g. `256M`."),
  memory_swap: attr("string", "Memory + swap limit, e.g. `1G`."),
  memory_swappiness: attr("number", "Swappiness, 0 to 100."),
  cpu_hard_limit: withDefault(attr("bool", "Enforce the CPU share as a CFS quota."), "false"),
  cpu_cfs_period: attr("number", "CFS period in microseconds when `cpu_hard_limit` is set."),
  mounts: blockList(
    object({
      type: withDefault(attr("string", "`bind`, `volume` or `tmpfs`."), `"volume"`),
      target: attr("string", "Absolute path inside the container.", { required: true }),
      source: attr("string", "Host path (bind), volume name (volume) or ignored (tmpfs)."),
      options: attr(stringList, "Mount options, e.g. `[\"rbind\", \"ro\"]`."),
    }),
    "Extra mounts.",
  ),
});

/** The cty type Nomad encodes a task's `config {}` with. */
export const taskConfigType = impliedType(taskSpec);

/** Decodes a task's `config {}` from Nomad's cty msgpack (TaskConfig.msgpack_driver_config). */
export function decodeTaskConfigValue(msgpack: Uint8Array): CtyValue {
  return decodeWith("task config", msgpack, taskConfigType);
}
