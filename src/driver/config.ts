/**
 * The plugin block: its hclspec tree (with a doc line per option), declared once, next to the typed
 * {@linkcode PluginConfig} it decodes into and its decoder. An option added to `pluginSpec` is validated by
 * Nomad, decoded here and listed in the README's plugin table. The task `config {}` block lives in
 * src/spec/task_config.ts (pure: the playground uses it); this module only decodes Nomad's bytes of it.
 *
 * @module
 */
import { attr, block, blockList, impliedType, object, withDefault } from "../schema/hclspec.ts";
import { type CtyValue, decodeCty } from "../plugin/cty.ts";
import { ConfigError, Reader } from "../schema/values.ts";
import { isRuntimeName, taskConfigType } from "../spec/task_config.ts";
import type { ShimOptions } from "../containerd/containers.ts";

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
  runtime_options: blockList(
    object({
      runtime: attr(
        "string",
        "The runtime these options are for, as `runtime` or `containerd_runtime` names it.",
        {
          required: true,
        },
      ),
      binary_name: attr(
        "string",
        "`io.containerd.runc.v2` only: the OCI runtime the runc shim runs instead of `runc` (e.g. `crun`; a name on containerd's PATH or an absolute path).",
      ),
      config_path: attr(
        "string",
        "Other shims (`io.containerd.runsc.v1`, Kata): absolute path of the shim's TOML config, sent as containerd's `runtimeoptions.v1.Options` ConfigPath (gVisor: runsc flags under `[runsc_config]`).",
      ),
      // list(map(string)): Nomad reads the agent's config with HCL1, where `{ ... }` is a list of maps.
      annotations: attr(
        "list(map(string))",
        'OCI annotations added to the spec of every container of this runtime, e.g. `{ "io.kubernetes.cri.container-type" = "sandbox" }`, which gVisor\'s shim needs outside Kubernetes (README: "Other OCI runtimes").',
      ),
    }),
    "Options containerd hands to a runtime's shim with each container, and annotations for it: one block per runtime.",
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
  /** shim options per runtime name (`runtime_options` blocks) */
  runtimeOptions: Record<string, RuntimeOptions>;
  snapshotter: string;
  statsIntervalMs: number;
  allowPrivileged: boolean;
  registryHostsDir: string;
  auth: { username?: string; password?: string; helper?: string };
  volumes: { enabled: boolean; selinuxLabel?: "z" | "Z" };
  gc: { image: boolean; imageDelayMs: number; container: boolean };
}

/**
 * What one `runtime_options` block sets for its runtime: the shim's options, `binaryName` for the runc shim
 * (containerd.runc.v1.Options) or `configPath` for any other (runtimeoptions.v1.Options, what containerd's
 * CRI sends to runsc and Kata), and annotations for every container's spec.
 */
export interface RuntimeOptions extends ShimOptions {
  annotations: Record<string, string>;
}

/** The runc shim: the only one that takes containerd.runc.v1.Options; every containerd since 1.2 has it. */
export const RUNC_SHIM = "io.containerd.runc.v2";

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
    runtime: r.string("containerd_runtime", RUNC_SHIM),
    runtimeOptions: readRuntimeOptions(r),
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

/** The `runtime_options` blocks, by runtime name; each names its runtime once and sets what it takes. */
function readRuntimeOptions(r: Reader): Record<string, RuntimeOptions> {
  const out: Record<string, RuntimeOptions> = {};
  r.blocks("runtime_options").forEach((b, i) => {
    const runtime = b.requiredString("runtime");
    if (!isRuntimeName(runtime)) {
      throw b.error(
        "runtime",
        `"${runtime}" is not a containerd runtime; use a name such as "io.containerd.runsc.v1" or a shim's absolute path`,
      );
    }
    if (runtime in out) {
      throw b.error("runtime", `"${runtime}" has options already (runtime_options[${i}] repeats it)`);
    }
    const annotations = b.stringMap("annotations");
    if ("" in annotations) {
      throw b.error("annotations", "has an empty key; annotation keys must not be empty");
    }
    out[runtime] = { ...readShimOptions(b, runtime), annotations };
  });
  return out;
}

/** binary_name (the runc shim only) or config_path (any other shim), each checked. */
function readShimOptions(b: Reader, runtime: string): ShimOptions {
  const binaryName = b.string("binary_name") || undefined;
  const configPath = b.string("config_path") || undefined;
  if (runtime === RUNC_SHIM) {
    if (configPath !== undefined) {
      throw b.error("config_path", `is not an option of ${RUNC_SHIM}; it takes binary_name (e.g. "crun")`);
    }
    if (binaryName !== undefined && !NAME_RE.test(binaryName) && !isAbsolutePath(binaryName)) {
      throw b.error(
        "binary_name",
        `"${binaryName}" is not a program name such as "crun" or an absolute path`,
      );
    }
    return { binaryName };
  }
  if (binaryName !== undefined) {
    throw b.error("binary_name", `is an option of ${RUNC_SHIM} only; "${runtime}" takes config_path`);
  }
  if (configPath !== undefined && !isAbsolutePath(configPath)) {
    throw b.error(
      "config_path",
      `"${configPath}" is not an absolute path such as "/etc/containerd/runsc.toml"`,
    );
  }
  return { configPath };
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith("/") && !p.split("/").includes("..");
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
