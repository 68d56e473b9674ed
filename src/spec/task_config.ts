/**
 * The task `config {}` block: its hclspec tree (with a doc line per option), declared once, the typed
 * {@linkcode TaskConfig} it decodes into, and {@linkcode readTaskConfig}, which validates every option
 * before anything is created. Pure and browser compatible: the playground uses it.
 *
 * @module
 */
import { attr, block, blockList, impliedType, object, withDefault } from "../schema/hclspec.ts";
import { type CtyValue, parseDuration, Reader, show } from "../schema/values.ts";
import { normalizeCapability } from "./capabilities.ts";
import { cleanPath, isIP } from "./checks.ts";
import { U64_MAX } from "./oci.ts";

const stringList = "list(string)";
const stringMaps = "list(map(string))";

/** The task `config {}` block's schema. Names follow the Roblox containerd driver where it has them. */
export const taskSpec = object({
  image: attr("string", "Image reference to run, e.g. `docker.io/library/redis:7`.", { required: true }),
  image_pull_timeout: withDefault(attr("string", "Time limit for pulling the image."), `"5m"`),
  force_pull: withDefault(attr("bool", "Pull the image even when it is present."), "false"),
  auth: block(
    object({
      username: attr("string", "Registry username."),
      password: attr("string", "Registry password."),
    }),
    "Registry credentials for this task (win over the plugin's).",
  ),
  command: attr(
    "string",
    "Command to run: replaces the image's CMD (the image's ENTRYPOINT still runs first).",
  ),
  args: attr(stringList, "Arguments after `command`; without `command` they replace the image's CMD."),
  entrypoint: attr(
    stringList,
    "Replaces the image's ENTRYPOINT (and drops the image's CMD, as Docker does).",
  ),
  cwd: attr("string", "Working directory inside the container, absolute (created if missing)."),
  hostname: attr(
    "string",
    "Container hostname; default: the group network's hostname, else `<task>-<alloc id>`.",
  ),
  privileged: withDefault(attr("bool", "All capabilities and devices, no seccomp."), "false"),
  cap_add: attr(stringList, "Capabilities to add (`ALL` for all)."),
  cap_drop: attr(stringList, "Capabilities to drop (`ALL` for all)."),
  seccomp: withDefault(
    attr(
      "bool",
      "Apply a seccomp profile: Docker's default, or `seccomp_profile`. Off for privileged tasks.",
    ),
    "true",
  ),
  seccomp_profile: attr(
    "string",
    "Docker-format seccomp profile JSON on the client node (absolute, or relative to the task dir).",
  ),
  readonly_rootfs: withDefault(attr("bool", "Mount the root filesystem read-only."), "false"),
  pids_limit: attr("number", "Maximum number of processes in the container (0 or -1: no limit)."),
  pid_mode: attr(
    "string",
    "`host` to share the host's PID namespace (refused when `allow_privileged` is false).",
  ),
  ipc_mode: attr("string", "`host` to share the host's IPC namespace; `private` (default) for its own."),
  shm_size: attr("string", "Size of /dev/shm, e.g. `128M` (default 64M)."),
  sysctl: attr(stringMaps, 'Namespaced sysctls, e.g. `{ "net.core.somaxconn" = "1024" }`.'),
  ulimit: attr(
    stringMaps,
    'Resource limits as `soft:hard` or one value, `unlimited` or -1 allowed, e.g. `{ nofile = "4096:8192" }`. Default nofile 1024:1024.',
  ),
  labels: attr(stringMaps, "Extra container labels (keys under `com.hashicorp.nomad.` are reserved)."),
  runtime: attr(
    "string",
    "containerd runtime for this task, e.g. `io.containerd.runsc.v1` or a shim's absolute path.",
  ),
  host_network: withDefault(attr("bool", "Run in the host's network namespace."), "false"),
  host_dns: withDefault(
    attr("bool", "Use the host's /etc/resolv.conf when Nomad gives no DNS config."),
    "true",
  ),
  extra_hosts: attr(stringList, "Extra /etc/hosts lines as `host:ip` (IPv4 or IPv6)."),
  devices: attr(
    stringList,
    "Host devices to expose as `host[:container[:perms]]`, e.g. `/dev/fuse` or `/dev/sda:/dev/xvda:r`.",
  ),
  init: withDefault(attr("bool", "Run an init (tini) as PID 1 that reaps zombies."), "false"),
  init_path: withDefault(attr("string", "Host path of the init binary."), `"/usr/bin/tini-static"`),
  memory_reservation: attr("string", "Memory soft limit, e.g. `256M` (at most the memory limit)."),
  memory_swap: attr(
    "string",
    "Memory + swap limit, e.g. `1G`, or `-1` for unlimited swap (default: no swap).",
  ),
  memory_swappiness: attr("number", "Swappiness, 0 to 100."),
  cpu_hard_limit: withDefault(attr("bool", "Enforce the CPU share as a CFS quota."), "false"),
  cpu_cfs_period: attr(
    "number",
    "CFS period in microseconds (1000 to 1000000) when `cpu_hard_limit` is set; default 100000.",
  ),
  volumes: attr(
    stringList,
    'Host paths bound in as `"/host/path:/container/path[:ro]"` (podman driver style; relative host paths are under the task dir; needs the plugin\'s `volumes.enabled` for paths outside the task and alloc dirs).',
  ),
  load: attr(
    "string",
    "Image archive (OCI layout tar or `docker save` tar) relative to the task dir, e.g. from an `artifact` block: imported instead of pulled; `image` must name the image it holds.",
  ),
  security_opt: attr(
    stringList,
    '`["no-new-privileges"]` (also for privileged tasks) or `["no-new-privileges:false"]`; default: no new privileges unless privileged.',
  ),
  oom_score_adj: attr(
    "number",
    "OOM killer preference, 0 to 1000 (higher: killed first); wins over Nomad's own value.",
  ),
  group_add: attr(
    stringList,
    "Supplementary groups, names (looked up in the image's /etc/group) or numeric gids.",
  ),
  cgroupns: attr(
    "string",
    "`private` for a cgroup namespace of its own, `host` for the host's; default: private on cgroup v2, host on v1 (as Docker).",
  ),
  mounts: blockList(
    object({
      type: withDefault(attr("string", "`bind`, `volume` or `tmpfs`."), `"volume"`),
      target: attr("string", "Absolute path inside the container.", { required: true }),
      source: attr(
        "string",
        "Host path for `bind` and `volume`, absolute or relative to the task dir; unused for `tmpfs`.",
      ),
      options: attr(stringList, 'fstab-style mount options, e.g. `["rbind", "ro"]` or `["size=64m"]`.'),
    }),
    "Extra mounts.",
  ),
});

/** The cty type Nomad encodes a task's `config {}` with. */
export const taskConfigType = impliedType(taskSpec);

/** One `mounts` block, validated. */
export interface TaskMount {
  type: "bind" | "volume" | "tmpfs";
  /** absolute path inside the container, cleaned */
  target: string;
  /** host path as written (absolute, or relative to the task dir); "" for tmpfs */
  source: string;
  options: string[];
}

/** One `ulimit` entry as an OCI rlimit: RLIMIT_NOFILE etc.; `bigint` is RLIM_INFINITY. */
export interface TaskUlimit {
  type: string;
  soft: number | bigint;
  hard: number | bigint;
}

/** One `devices` entry. */
export interface TaskDevice {
  hostPath: string;
  containerPath: string;
  /** cgroup permissions, a non-empty subset of "rwm" */
  permissions: string;
}

/** The task `config {}` block, typed and validated. Field names are the options' in camelCase. */
export interface TaskConfig {
  image: string;
  imagePullTimeoutMs: number;
  forcePull: boolean;
  auth?: { username: string; password: string };
  command?: string;
  args: string[];
  /** undefined: the image's ENTRYPOINT; [] or [""]: none */
  entrypoint?: string[];
  cwd?: string;
  hostname?: string;
  privileged: boolean;
  /** canonical `CAP_*` names or "ALL" */
  capAdd: string[];
  capDrop: string[];
  seccomp: boolean;
  seccompProfile?: string;
  readonlyRootfs: boolean;
  pidsLimit?: number;
  pidMode: "" | "host";
  ipcMode: "" | "private" | "host";
  /** bytes */
  shmSize?: number;
  sysctl: Record<string, string>;
  ulimit: TaskUlimit[];
  labels: Record<string, string>;
  runtime?: string;
  hostNetwork: boolean;
  hostDns: boolean;
  extraHosts: { host: string; ip: string }[];
  devices: TaskDevice[];
  init: boolean;
  initPath: string;
  /** bytes */
  memoryReservation?: number;
  /** bytes of memory + swap; -1 for unlimited swap */
  memorySwap?: number;
  memorySwappiness?: number;
  cpuHardLimit: boolean;
  /** microseconds */
  cpuCfsPeriod?: number;
  mounts: TaskMount[];
  /** `volumes`, validated (podman driver style binds) */
  volumes: TaskVolume[];
  /** archive path relative to the task dir, cleaned */
  load?: string;
  /** from `security_opt`: undefined keeps the default (on unless privileged) */
  noNewPrivileges?: boolean;
  /** -1000..1000, from `oom_score_adj` */
  oomScoreAdj?: number;
  /** `group_add` as written: names or numeric gids */
  groupAdd: string[];
  cgroupns: "" | "host" | "private";
}

/** One `volumes` entry. */
export interface TaskVolume {
  /** host path as written (absolute, or relative to the task dir) */
  source: string;
  /** absolute path inside the container, cleaned */
  target: string;
  readonly: boolean;
}

const SCOPE = "task config";

/** Linux rlimit names as Docker's `--ulimit` spells them. */
export const ULIMIT_NAMES: readonly string[] = [
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
];

/** Sysctls that belong to a container's own IPC namespace (beside the `fs.mqueue.` prefix). */
export const IPC_SYSCTLS: readonly string[] = [
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
];

const RESERVED_LABEL_PREFIX = "com.hashicorp.nomad.";
const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const RUNTIME_RE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;
const SYSCTL_RE = /^[a-z0-9_]+(?:\.[A-Za-z0-9_@:+-]+)+$/;

/**
 * Reads and validates a task's `config {}` (a decoded cty value or the equivalent JSON). Every problem
 * is a {@linkcode ConfigError} naming the option, the value and what is allowed, raised before
 * anything is created.
 *
 * @example
 * ```ts
 * const cfg = readTaskConfig({ image: "redis:7", cap_add: ["net_admin"], shm_size: "128M" });
 * cfg.capAdd; // ["CAP_NET_ADMIN"]
 * cfg.shmSize; // 134217728
 * ```
 */
export function readTaskConfig(value: CtyValue): TaskConfig {
  const r = new Reader(SCOPE, value);
  const image = readImage(r);
  const process = readProcess(r);
  const security = readSecurity(r);
  const namespaces = readNamespaces(r);
  const hostNetwork = r.bool("host_network", false);
  return {
    ...image,
    ...process,
    ...security,
    ...namespaces,
    sysctl: readSysctl(r, hostNetwork, namespaces.ipcMode),
    ulimit: readUlimits(r),
    labels: readLabels(r),
    runtime: readRuntime(r),
    hostNetwork,
    hostDns: r.bool("host_dns", true),
    extraHosts: readExtraHosts(r),
    devices: readDevices(r),
    init: r.bool("init", false),
    initPath: readInitPath(r),
    memoryReservation: r.size("memory_reservation"),
    memorySwap: readSwap(r),
    memorySwappiness: r.integer("memory_swappiness", 0, 100),
    cpuHardLimit: r.bool("cpu_hard_limit", false),
    cpuCfsPeriod: r.integer("cpu_cfs_period", 1000, 1_000_000),
    mounts: readMounts(r),
    volumes: readVolumes(r),
    load: readLoad(r, image.forcePull),
    noNewPrivileges: readSecurityOpt(r),
    oomScoreAdj: readOomScoreAdj(r),
    groupAdd: readGroupAdd(r),
    cgroupns: namespaceMode(r, "cgroupns", ["", "host", "private"]) as TaskConfig["cgroupns"],
  };
}

/** `image`, `image_pull_timeout`, `auth`, `force_pull`. */
function readImage(r: Reader): Pick<TaskConfig, "image" | "imagePullTimeoutMs" | "auth" | "forcePull"> {
  const image = r.requiredString("image");
  const pullTimeout = r.string("image_pull_timeout") || "5m";
  const imagePullTimeoutMs = parseDuration(pullTimeout);
  if (imagePullTimeoutMs === undefined || imagePullTimeoutMs <= 0) {
    throw r.error(
      "image_pull_timeout",
      `${show(pullTimeout)} is not a positive duration; use a number with a unit such as "30s", "5m" or "1h"`,
    );
  }
  const authR = r.block("auth");
  const username = authR.string("username");
  const password = authR.string("password");
  if ((username === undefined) !== (password === undefined)) {
    throw r.error("auth", "needs both username and password");
  }
  const auth = username !== undefined && password !== undefined ? { username, password } : undefined;
  return { image, imagePullTimeoutMs, auth, forcePull: r.bool("force_pull", false) };
}

/** `command`, `args`, `entrypoint`, `cwd`, `hostname`. */
function readProcess(r: Reader): Pick<TaskConfig, "command" | "args" | "entrypoint" | "cwd" | "hostname"> {
  const command = r.string("command") || undefined;
  const entrypoint = r.raw("entrypoint") === null ? undefined : r.strings("entrypoint");
  const cwd = r.string("cwd") || undefined;
  if (cwd !== undefined && !cwd.startsWith("/")) {
    throw r.error("cwd", `${show(cwd)} is not an absolute path; use a path such as "/app"`);
  }
  const hostname = r.string("hostname") || undefined;
  if (hostname !== undefined && !HOSTNAME_RE.test(hostname)) {
    throw r.error(
      "hostname",
      `${
        show(hostname)
      } is not a hostname; use 1 to 63 letters, digits, ".", "-" or "_", starting and ending with a letter or digit`,
    );
  }
  return {
    command,
    args: r.strings("args"),
    entrypoint,
    cwd: cwd === undefined ? undefined : cleanPath(cwd),
    hostname,
  };
}

/** `privileged`, `cap_add`, `cap_drop`, `seccomp`, `seccomp_profile`, `readonly_rootfs`. */
function readSecurity(
  r: Reader,
): Pick<TaskConfig, "privileged" | "capAdd" | "capDrop" | "seccomp" | "seccompProfile" | "readonlyRootfs"> {
  const caps = (name: string) =>
    r.strings(name).map((c, i) => {
      const n = normalizeCapability(c);
      if (n === undefined) {
        throw r.error(
          `${name}[${i}]`,
          `${show(c)} is not a Linux capability; use a name such as "NET_ADMIN" or "CAP_SYS_TIME", or "ALL"`,
        );
      }
      return n;
    });
  const privileged = r.bool("privileged", false);
  const capAdd = caps("cap_add");
  const capDrop = caps("cap_drop");
  const seccomp = r.bool("seccomp", true);
  const seccompProfile = r.string("seccomp_profile") || undefined;
  if (seccompProfile !== undefined && !seccomp) {
    throw r.error(
      "seccomp_profile",
      `${show(seccompProfile)} is set while "seccomp" is false; remove one of them`,
    );
  }
  return {
    privileged,
    capAdd,
    capDrop,
    seccomp,
    seccompProfile,
    readonlyRootfs: r.bool("readonly_rootfs", false),
  };
}

/** `pids_limit`, `pid_mode`, `ipc_mode`, `shm_size`. */
function readNamespaces(r: Reader): Pick<TaskConfig, "pidsLimit" | "pidMode" | "ipcMode" | "shmSize"> {
  const pidsRaw = r.integer("pids_limit", -1, 2 ** 31 - 1);
  const pidsLimit = pidsRaw === undefined || pidsRaw <= 0 ? undefined : pidsRaw;
  const pidMode = namespaceMode(r, "pid_mode", ["", "host"]) as TaskConfig["pidMode"];
  const ipcMode = namespaceMode(r, "ipc_mode", ["", "private", "host"]) as TaskConfig["ipcMode"];
  const shmSize = r.size("shm_size");
  if (shmSize !== undefined && shmSize <= 0) {
    throw r.error("shm_size", `${show(r.raw("shm_size"))} is not a positive size; use a size such as "64M"`);
  }
  if (shmSize !== undefined && ipcMode === "host") {
    throw r.error("shm_size", `cannot be set with ipc_mode "host": the host's /dev/shm is shared`);
  }
  return { pidsLimit, pidMode, ipcMode, shmSize };
}

/** `labels`: none empty or under the reserved prefix. */
function readLabels(r: Reader): Record<string, string> {
  const labels = r.stringMap("labels");
  for (const k of Object.keys(labels)) {
    if (k === "" || k.startsWith(RESERVED_LABEL_PREFIX)) {
      throw r.error(
        `labels.${k}`,
        `${show(k)} is not allowed; use a key that is not empty and not under "${RESERVED_LABEL_PREFIX}"`,
      );
    }
  }
  return labels;
}

/** Whether `s` is a containerd runtime name (io.containerd.runc.v2) or a shim's absolute path. */
export function isRuntimeName(s: string): boolean {
  return RUNTIME_RE.test(s) || (s.startsWith("/") && !s.includes(".."));
}

/** `runtime`: a runtime name (io.containerd.runc.v2) or a shim's absolute path. */
function readRuntime(r: Reader): string | undefined {
  const runtime = r.string("runtime") || undefined;
  if (runtime !== undefined && !isRuntimeName(runtime)) {
    throw r.error(
      "runtime",
      `${
        show(runtime)
      } is not a containerd runtime; use a name such as "io.containerd.runc.v2" or a shim's absolute path`,
    );
  }
  return runtime;
}

/** `init_path`: absolute; tini-static by default. */
function readInitPath(r: Reader): string {
  const initPath = r.string("init_path") || "/usr/bin/tini-static";
  if (!initPath.startsWith("/")) {
    throw r.error(
      "init_path",
      `${show(initPath)} is not an absolute path; use a path such as "/usr/bin/tini-static"`,
    );
  }
  return initPath;
}

function readVolumes(r: Reader): TaskVolume[] {
  return r.strings("volumes").map((v, i) => {
    const parts = v.split(":");
    const [source, target] = parts;
    const mode = parts[2] ?? "rw";
    const bad = parts.length < 2 || parts.length > 3 || source === "" || !target?.startsWith("/") ||
      cleanPath(target) === "/" || !["ro", "rw"].includes(mode);
    if (bad) {
      throw r.error(
        `volumes[${i}]`,
        `${
          show(v)
        } is not a volume; use "/host/path:/container/path" or "/host/path:/container/path:ro", the container path absolute`,
      );
    }
    return { source, target: cleanPath(target), readonly: mode === "ro" };
  });
}

function readLoad(r: Reader, forcePull: boolean): string | undefined {
  const load = r.string("load") || undefined;
  if (load === undefined) return undefined;
  const clean = cleanPath(load);
  if (load.startsWith("/") || clean === "" || clean.split("/").includes("..")) {
    throw r.error(
      "load",
      `${show(load)} is not a path inside the task dir; use a relative path such as "local/image.tar"`,
    );
  }
  if (forcePull) {
    throw r.error("load", `${show(load)} is set while "force_pull" is true; remove one of them`);
  }
  return clean;
}

function readSecurityOpt(r: Reader): boolean | undefined {
  let nnp: boolean | undefined;
  r.strings("security_opt").forEach((o, i) => {
    const m = /^no-new-privileges(?:[:=](true|false))?$/.exec(o.trim());
    if (!m) {
      throw r.error(
        `security_opt[${i}]`,
        `${show(o)} is not a supported security option; use "no-new-privileges" or "no-new-privileges:false"`,
      );
    }
    nnp = m[1] !== "false";
  });
  return nnp;
}

function readOomScoreAdj(r: Reader): number | undefined {
  const raw = r.raw("oom_score_adj");
  if (raw === null) return undefined;
  const n = typeof raw === "bigint" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 1000) {
    throw r.error(
      "oom_score_adj",
      `${
        show(raw)
      } is not allowed; use a whole number from 0 to 1000 (a negative one would shield the task from the OOM killer at the host's expense)`,
    );
  }
  return n;
}

function readGroupAdd(r: Reader): string[] {
  return r.strings("group_add").map((g, i) => {
    const t = g.trim();
    if (!/^(?:\d{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?)$/.test(t)) {
      throw r.error(
        `group_add[${i}]`,
        `${show(g)} is not a group; use a group name such as "audio" or a numeric gid such as "1001"`,
      );
    }
    return t;
  });
}

function namespaceMode(r: Reader, name: string, allowed: string[]): string {
  const v = (r.string(name) ?? "").trim().toLowerCase();
  if (!allowed.includes(v)) {
    const shown = allowed.filter((a) => a !== "").map((a) => `"${a}"`).join(" or ");
    throw r.error(name, `${show(r.raw(name))} is not allowed; use ${shown}, or leave it unset`);
  }
  return v;
}

function readSysctl(r: Reader, hostNetwork: boolean, ipcMode: string): Record<string, string> {
  const out = r.stringMap("sysctl");
  for (const k of Object.keys(out)) {
    const opt = `sysctl.${k}`;
    if (!SYSCTL_RE.test(k)) {
      throw r.error(opt, `${show(k)} is not a sysctl name; use a dotted name such as "net.core.somaxconn"`);
    }
    const ipc = IPC_SYSCTLS.includes(k) || k.startsWith("fs.mqueue.");
    const net = k.startsWith("net.");
    if (!ipc && !net && k !== "kernel.domainname") {
      throw r.error(
        opt,
        `${
          show(k)
        } is not a namespaced sysctl; use one under "net.", "fs.mqueue.", kernel.domainname or an IPC one (${
          IPC_SYSCTLS.join(", ")
        })`,
      );
    }
    if (net && hostNetwork) {
      throw r.error(opt, `${show(k)} cannot be set with host_network: it would change the host`);
    }
    if (ipc && ipcMode === "host") {
      throw r.error(opt, `${show(k)} cannot be set with ipc_mode "host": it would change the host`);
    }
  }
  return out;
}

function parseLimit(s: string): number | bigint | undefined {
  const t = s.trim().toLowerCase();
  if (t === "unlimited" || t === "infinity" || t === "-1") return U64_MAX;
  if (!/^\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

function readUlimits(r: Reader): TaskUlimit[] {
  const m = r.stringMap("ulimit");
  return Object.entries(m).map(([name, v]) => {
    const opt = `ulimit.${name}`;
    const key = name.trim().toLowerCase();
    if (!ULIMIT_NAMES.includes(key)) {
      throw r.error(opt, `${show(name)} is not a resource limit; use one of ${ULIMIT_NAMES.join(", ")}`);
    }
    const parts = v.split(":");
    const soft = parts.length <= 2 ? parseLimit(parts[0]) : undefined;
    const hard = parts.length === 2 ? parseLimit(parts[1]) : soft;
    if (soft === undefined || hard === undefined) {
      throw r.error(
        opt,
        `${
          show(v)
        } is not a limit; use "soft:hard" or one value, each a whole number, "unlimited" or -1, e.g. "4096:8192"`,
      );
    }
    if (BigInt(soft) > BigInt(hard)) {
      throw r.error(
        opt,
        `${show(v)} has a soft limit above the hard limit; the soft one must not exceed the hard one`,
      );
    }
    return { type: `RLIMIT_${key.toUpperCase()}`, soft, hard };
  });
}

function readExtraHosts(r: Reader): { host: string; ip: string }[] {
  return r.strings("extra_hosts").map((e, i) => {
    const sep = e.includes("=") ? e.indexOf("=") : e.indexOf(":");
    const host = sep < 0 ? "" : e.slice(0, sep).trim();
    let ip = sep < 0 ? "" : e.slice(sep + 1).trim();
    if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (host === "" || /[\s:=#]/.test(host) || !isIP(ip)) {
      throw r.error(
        `extra_hosts[${i}]`,
        `${
          show(e)
        } is not a host entry; use "host:ip" with an IPv4 or IPv6 address, e.g. "db.local:10.0.0.5"`,
      );
    }
    return { host, ip };
  });
}

function isPerms(s: string): boolean {
  return /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;
}

function readDevices(r: Reader): TaskDevice[] {
  return r.strings("devices").map((d, i) => {
    const parts = d.split(":");
    let hostPath = parts[0];
    let containerPath = parts[0];
    let permissions = "rwm";
    if (parts.length === 2) {
      if (isPerms(parts[1])) permissions = parts[1];
      else containerPath = parts[1];
    } else if (parts.length === 3) {
      [hostPath, containerPath, permissions] = parts;
    }
    const bad = parts.length > 3 || !hostPath.startsWith("/") || !containerPath.startsWith("/") ||
      !isPerms(permissions);
    if (bad) {
      throw r.error(
        `devices[${i}]`,
        `${
          show(d)
        } is not a device; use "host[:container[:perms]]" with absolute paths and perms from "rwm", e.g. "/dev/fuse" or "/dev/sda:/dev/xvda:r"`,
      );
    }
    return { hostPath: cleanPath(hostPath), containerPath: cleanPath(containerPath), permissions };
  });
}

function readSwap(r: Reader): number | undefined {
  const v = r.raw("memory_swap");
  if (v === "-1" || v === -1 || v === -1n) return -1;
  return r.size("memory_swap");
}

function readMounts(r: Reader): TaskMount[] {
  return r.blocks("mounts").map((m) => {
    const type = m.oneOf("type", ["bind", "volume", "tmpfs"] as const, "volume");
    const target = m.requiredString("target");
    if (!target.startsWith("/") || cleanPath(target) === "/") {
      throw m.error(
        "target",
        `${show(target)} is not an absolute path below "/"; use a path such as "/data"`,
      );
    }
    const source = m.string("source") ?? "";
    if (type !== "tmpfs" && source === "") {
      throw m.error(
        "source",
        `is required for a ${type} mount; give a host path, absolute or relative to the task dir`,
      );
    }
    const options = m.strings("options");
    options.forEach((o, i) => {
      if (o.trim() === "" || o.includes(",")) {
        throw m.error(
          `options[${i}]`,
          `${show(o)} is not a mount option; give one option per list item, e.g. ["rbind", "ro"]`,
        );
      }
    });
    return { type, target: cleanPath(target), source, options };
  });
}
