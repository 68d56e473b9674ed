/**
 * The one definition of the plugin's Deno permissions. `scripts/sandbox.ts` generates from it the
 * launcher's flags (scripts/launcher.sh is a template), the `deno compile` flags and the README's
 * permission table; tests/plugin/sandbox_test.ts fails when any of them disagrees with it.
 *
 * Paths that depend on the node are added at launch time by the launcher: its private go-plugin socket
 * directory, and the paths in `CONTAINERD_DRIVER_EXTRA_PATHS`; programs: `docker-credential-<name>` per
 * name in `CONTAINERD_DRIVER_CREDENTIAL_HELPERS`.
 *
 * @module
 */

/** One granted item and why the plugin needs it (the README table shows the reason). */
export interface Grant {
  /** A path, an environment variable name, a program name or a `Deno.systemMemoryInfo`-style sys name. */
  name: string;
  /** Why it is granted. */
  why: string;
}

/** Every permission the plugin runs with, by kind. */
export interface SandboxDefinition {
  /** Paths the plugin may read and write (besides its socket dir and the extra paths). */
  readWrite: readonly Grant[];
  /** Paths the plugin may only read. */
  readOnly: readonly Grant[];
  /** Programs the plugin may run (besides the listed credential helpers). */
  run: readonly Grant[];
  /** `--allow-sys` names. */
  sys: readonly Grant[];
  /** Environment variables the plugin may read, by exact name. */
  env: readonly Grant[];
  /** Network: not narrowed (containerd's socket, and whatever registries the jobs name). */
  net: "all";
}

const grpcEnv = [
  "GRPC_TRACE",
  "GRPC_VERBOSITY",
  "GRPC_NODE_TRACE",
  "GRPC_NODE_VERBOSITY",
  "GRPC_NODE_USE_ALTERNATIVE_RESOLVER",
  "GRPC_NODE_DEBUG_SEND_ERROR_DETAILS",
  "GRPC_SSL_CIPHER_SUITES",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
  "GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION",
];
const proxyEnv = [
  "grpc_proxy",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "no_grpc_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
];

/** The launcher's variable naming the private socket directory it made (the plugin removes it at exit). */
export const SOCKET_DIR_ENV = "CONTAINERD_DRIVER_SOCKET_DIR";

/** The plugin's permissions. */
export const SANDBOX: SandboxDefinition = {
  readWrite: [
    { name: "/run/containerd", why: "containerd's socket and its FIFO dir" },
    { name: "/etc/containerd", why: "registry `hosts.toml` files and certificates" },
    { name: "/var/lib/containerd", why: "containerd's root (bind sources, image archives)" },
    { name: "/var/lib/nomad", why: "a packaged Nomad's data_dir (task dirs, log FIFOs)" },
    { name: "/opt/nomad", why: "Nomad's usual data_dir" },
  ],
  readOnly: [
    { name: "/etc/resolv.conf", why: "DNS for tasks and registry pulls" },
    { name: "/etc/hosts", why: "host names for registry pulls" },
    { name: "/etc/selinux", why: "whether SELinux is on, and its contexts" },
    { name: "/sys/fs/cgroup", why: "cgroup layout and task stats" },
  ],
  run: [
    { name: "mkfifo", why: "exec FIFOs (FFI, the alternative, would escape the sandbox)" },
    { name: "stat", why: "device nodes (Deno opens nothing under /dev with named permissions)" },
    { name: "ls", why: "device directories, for the same reason" },
    { name: "chcon", why: "SELinux relabelling of volumes (Deno cannot set security xattrs)" },
    {
      name: "mkdir",
      why: "Nomad's cgroup v2 scope of a task again after runc removed it (as Nomad's exec driver)",
    },
  ],
  sys: [
    { name: "osRelease", why: "kernel version in the fingerprint" },
    { name: "cpus", why: "CPU count for resources" },
  ],
  env: [
    { name: "NOMAD_PLUGIN_MAGIC_COOKIE", why: "go-plugin handshake" },
    { name: "PLUGIN_PROTOCOL_VERSIONS", why: "go-plugin handshake" },
    { name: "PLUGIN_UNIX_SOCKET_DIR", why: "go-plugin socket dir, when the host names one" },
    { name: "PLUGIN_CLIENT_CERT", why: "refused: AutoMTLS is not supported" },
    { name: "TMPDIR", why: "socket dir fallback" },
    { name: SOCKET_DIR_ENV, why: "the launcher's private socket dir" },
    { name: "CONTAINERD_DRIVER_CAPS", why: "capabilities root holds (the launcher reads /proc)" },
    { name: "CONTAINERD_DRIVER_LOG_LEVEL", why: "log level" },
    { name: "CONTAINERD_DRIVER_EXTRA_PATHS", why: "named in errors about paths outside the sandbox" },
    { name: "CONTAINERD_DRIVER_CREDENTIAL_HELPERS", why: "credential helpers it may run" },
    ...grpcEnv.map((name) => ({ name, why: "grpc-js settings" })),
    ...proxyEnv.map((name) => ({ name, why: "proxy settings grpc-js honours" })),
  ],
  net: "all",
};

/**
 * The V8 flags the plugin runs with (the launcher's `deno run` and `deno compile` alike), each with why.
 * The young generation is capped at 1 MB per semi-space: the plugin's garbage is small and short-lived
 * (RPC messages, stats samples), and V8's default lets the young generation grow to 16 MB per semi-space
 * once traffic starts, which stays resident (about 10 MB of RSS with 20 tasks streaming stats, measured).
 * V8's memory reducer is off (it woke the idle plugin for GCs); the plugin collects once after a pull.
 */
export const V8_FLAGS: readonly Grant[] = [
  {
    name: "--max-semi-space-size=1",
    why: "young generation of 1 MB per semi-space: a smaller resident heap",
  },
  {
    name: "--no-memory-reducer",
    why: "no heap-shrinking GCs polled on timers while idle (they were most of the idle CPU: 0.09–0.10 % " +
      "of a core with them, 0.012–0.016 % without)",
  },
  { name: "--expose-gc", why: "one full GC after a pull instead (src/image/heap.ts)" },
];

/** One environment variable the launcher sets for the Deno runtime itself (not readable by the plugin). */
export interface RuntimeEnv {
  name: string;
  value: string;
  why: string;
}

/**
 * glibc malloc settings the launcher exports before it execs Deno. Measured under a Nomad agent, 60 s
 * after a pull of the 9 MB redis test image and one task: 113 MB RSS without them, 83 MB with them (the
 * Rust side's buffers of the pull — HTTP bodies, gzip, gRPC writes of 1 MB chunks — stayed in malloc's
 * heap: glibc raises its mmap threshold after the first large free, and then keeps what it got).
 * A `deno compile` binary cannot set its own malloc environment: set these in the agent's environment.
 */
export const RUNTIME_ENV: readonly RuntimeEnv[] = [
  { name: "MALLOC_ARENA_MAX", value: "2", why: "two malloc arenas instead of one per thread" },
  {
    name: "MALLOC_MMAP_THRESHOLD_",
    value: "65536",
    why: "buffers of 64 KiB and more are mapped and unmapped on free (a fixed threshold)",
  },
  { name: "MALLOC_TRIM_THRESHOLD_", value: "65536", why: "free memory at the heap's top goes back early" },
];

/** The launcher's `export NAME=value` lines of {@linkcode RUNTIME_ENV}. */
export function runtimeEnvLines(env: readonly RuntimeEnv[] = RUNTIME_ENV): string {
  return env.map((e) => `export ${e.name}=${e.value}`).join("\n");
}

/** The one `--v8-flags=...` argument of {@linkcode V8_FLAGS}. */
export function v8FlagsArg(flags: readonly Grant[] = V8_FLAGS): string {
  return `--v8-flags=${joinNames(flags)}`;
}

/** Names of a grant list, comma-joined as Deno's flags take them. */
export function joinNames(grants: readonly Grant[]): string {
  return grants.map((g) => g.name).join(",");
}

/** The node-dependent parts of the flags. */
export interface LaunchPaths {
  /** The go-plugin socket directory (read and write). */
  socketDir: string;
  /** `CONTAINERD_DRIVER_EXTRA_PATHS`, split. */
  extraPaths?: readonly string[];
  /** Names in `CONTAINERD_DRIVER_CREDENTIAL_HELPERS`. */
  credentialHelpers?: readonly string[];
}

/**
 * The `deno run` / `deno compile` permission flags for one launch, in the order the launcher writes them.
 *
 * @example
 * ```ts
 * const flags = permissionFlags({ socketDir: "/run/containerd-driver.1.x" });
 * flags[0]; // "--allow-env=NOMAD_PLUGIN_MAGIC_COOKIE,..."
 * ```
 */
export function permissionFlags(p: LaunchPaths, def: SandboxDefinition = SANDBOX): string[] {
  const rw = [p.socketDir, ...def.readWrite.map((g) => g.name), ...(p.extraPaths ?? [])].filter(Boolean);
  const run = [
    ...def.run.map((g) => g.name),
    ...(p.credentialHelpers ?? []).map((h) => `docker-credential-${h}`),
  ];
  return [
    `--allow-env=${joinNames(def.env)}`,
    `--allow-read=${[...rw, ...def.readOnly.map((g) => g.name)].join(",")}`,
    `--allow-write=${rw.join(",")}`,
    "--allow-net",
    `--allow-sys=${joinNames(def.sys)}`,
    `--allow-run=${run.join(",")}`,
  ];
}

/** Grants with the same reason, in first-seen order. */
function groupByWhy(grants: readonly Grant[]): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const g of grants) m.set(g.why, [...(m.get(g.why) ?? []), g.name]);
  return [...m.entries()];
}

/**
 * The README's permission table (Markdown), generated from {@linkcode SANDBOX}.
 *
 * @example
 * ```ts
 * permissionTable().split("\n")[0]; // "| permission | granted | why |"
 * ```
 */
export function permissionTable(def: SandboxDefinition = SANDBOX): string {
  const rows: string[][] = [
    [
      "read, write",
      "the plugin's private socket directory (made by the launcher, 0700)",
      "go-plugin socket, exec FIFOs",
    ],
    ...def.readWrite.map((g) => ["read, write", `\`${g.name}\``, g.why]),
    ["read, write", "each path in `CONTAINERD_DRIVER_EXTRA_PATHS`", "a containerd or Nomad dir elsewhere"],
    ...def.readOnly.map((g) => ["read", `\`${g.name}\``, g.why]),
    ...def.run.map((g) => ["run", `\`${g.name}\``, g.why]),
    ["run", "`docker-credential-<name>` per name in `CONTAINERD_DRIVER_CREDENTIAL_HELPERS`", "registry auth"],
    ...def.sys.map((g) => ["sys", `\`${g.name}\``, g.why]),
    ...groupByWhy(def.env).map(([why, names]) => ["env", names.map((n) => `\`${n}\``).join(", "), why]),
    ["net", "not narrowed", "containerd's socket, and whatever registries the jobs name"],
  ];
  return [
    "| permission | granted | why |",
    "| - | - | - |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}
