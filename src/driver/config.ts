/**
 * The plugin block: its hclspec tree (with a doc line per option), declared once, next to the typed
 * {@linkcode PluginConfig} it decodes into and its decoder. An option added to `pluginSpec` is validated by
 * Nomad, decoded here and listed in the README's plugin table. The task `config {}` block lives in
 * src/spec/task_config.ts (pure: the playground uses it); this module only decodes Nomad's bytes of it.
 *
 * @module
 */
import { attr, block, impliedType, object, withDefault } from "../schema/hclspec.ts";
import { type CtyValue, decodeCty } from "../plugin/cty.ts";
import { ConfigError, Reader } from "../schema/values.ts";
import { taskConfigType } from "../spec/task_config.ts";

export { taskSpec } from "../spec/task_config.ts";

// ---------------------------------------------------------------------------------------------------
// Plugin block

/** The plugin block's schema (`plugin "containerd-driver" { config { ... } }`). */
export const pluginSpec = object({
  enabled: withDefault(attr("bool", "Whether the driver may run tasks on this node."), "true"),
  containerd_address: withDefault(
    attr("string", "containerd's gRPC socket."),
    `"/run/containerd/containerd.sock"`,
  ),
  namespace: withDefault(
    attr("string", "containerd namespace holding the driver's containers and images."),
    `"nomad"`,
  ),
  containerd_runtime: withDefault(
    attr("string", "containerd runtime (shim) for tasks that do not set `runtime`."),
    `"io.containerd.runc.v2"`,
  ),
  snapshotter: withDefault(attr("string", "containerd snapshotter to unpack images with."), `"overlayfs"`),
  stats_interval: withDefault(attr("string", "Least interval between two stats samples."), `"1s"`),
  allow_privileged: withDefault(
    attr("bool", 'Whether tasks may set `privileged = true` or `pid_mode = "host"`.'),
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
      helper: attr(
        "string",
        "Docker credential helper: runs `docker-credential-<helper>` (list it in the agent's `CONTAINERD_DRIVER_CREDENTIAL_HELPERS`).",
      ),
    }),
    "Default registry credentials.",
  ),
  volumes: block(
    object({
      enabled: withDefault(
        attr("bool", "Allow bind mounts of host paths outside the task and alloc directories."),
        "true",
      ),
      selinuxlabel: attr(
        "string",
        "`z` or `Z`: on an SELinux host, relabel the task dirs and bind sources (`z` shared, `Z` private to the allocation; the alloc dir is always shared) and run unprivileged tasks confined, each allocation with MCS categories of its own. Ignored where SELinux is off.",
      ),
    }),
    "Host volume policy.",
  ),
  gc: block(
    object({
      image: withDefault(attr("bool", "Remove images no task uses any more."), "true"),
      image_delay: withDefault(attr("string", "How long an unused image is kept before removal."), `"3m"`),
      container: withDefault(
        attr(
          "bool",
          "Remove a task's container and snapshot on DestroyTask; `false` keeps them for inspection (`ctr containers info`) until the task restarts in its alloc.",
        ),
        "true",
      ),
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
  gc: { image: boolean; imageDelayMs: number; container: boolean };
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
    throw r.error(
      "containerd_address",
      `"${address}" is not an absolute socket path such as "/run/containerd/containerd.sock"`,
    );
  }
  const namespace = r.string("namespace", "nomad");
  if (!NAME_RE.test(namespace)) {
    throw r.error(
      "namespace",
      `"${namespace}" is not a valid containerd namespace; use letters, digits, ".", "_" or "-"`,
    );
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
    volumes: {
      enabled: volumes.bool("enabled", true),
      selinuxLabel: volumes.oneOf("selinuxlabel", ["z", "Z"]),
    },
    gc: {
      image: gc.bool("image", true),
      imageDelayMs: gc.duration("image_delay", "3m"),
      container: gc.bool("container", true),
    },
  };
}

function decodeWith(scope: string, bytes: Uint8Array, type: ReturnType<typeof impliedType>): CtyValue {
  try {
    return decodeCty(bytes, type);
  } catch (e) {
    const err = e as Error & { path?: string[] };
    // The codec's message starts with the quoted path (`"mounts[0].target": ...`); ConfigError quotes
    // the option itself, so take it from there.
    const m = /^"([^"]*)": ([\s\S]*)$/.exec(err.message);
    const option = m?.[1] ?? (err.path && err.path.length > 0 ? err.path.join(".") : "(block)");
    throw new ConfigError(scope, option, m?.[2] ?? err.message);
  }
}

/** Decodes a task's `config {}` from Nomad's cty msgpack (TaskConfig.msgpack_driver_config). */
export function decodeTaskConfigValue(msgpack: Uint8Array): CtyValue {
  return decodeWith("task config", msgpack, taskConfigType);
}
