/**
 * The subset of the OCI runtime spec (1.0.2, plus `defaultErrnoRet` from 1.1 which runc 1.1 honours) that
 * src/spec produces. Field names and shapes are the JSON ones, so a spec serializes with
 * {@linkcode specJson} and goes to containerd as is.
 *
 * @module
 */

/** Largest value of an unsigned 64-bit field: RLIM_INFINITY for rlimits. */
export const U64_MAX = 18446744073709551615n;

/** The root of an OCI runtime spec. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: OciLinux;
}

/** The container's first process. */
export interface OciProcess {
  terminal?: boolean;
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

/** The five capability sets, each a list of `CAP_*` names. */
export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** One resource limit (setrlimit). `bigint` carries RLIM_INFINITY, which a JS number cannot hold. */
export interface OciRlimit {
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}

/** One mount, in order: a mount's parent must come before it. */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** The `linux` section. */
export interface OciLinux {
  namespaces: OciNamespace[];
  devices?: OciDevice[];
  resources?: OciResources;
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  mountLabel?: string;
}

/** A namespace to create (no path) or join (path). */
export interface OciNamespace {
  type: "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";
  path?: string;
}

/** A device node to create in the container's /dev. */
export interface OciDevice {
  path: string;
  type: "c" | "b" | "u" | "p";
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A device cgroup rule. */
export interface OciDeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access?: string;
}

/** cgroup limits. */
export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: number };
}

/** The OCI seccomp section (what runc loads into the kernel through libseccomp). */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

/** One seccomp rule: the names it applies to, the action and optional argument conditions. */
export interface OciSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

/** One argument condition: `args[index] <op> value` (`MASKED_EQ`: `(arg & value) == valueTwo`). */
export interface OciSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

/**
 * Serializes a spec to JSON, writing `bigint` fields (RLIM_INFINITY, 64-bit seccomp values) as plain
 * integers, which Go's encoding/json reads into uint64.
 *
 * @example
 * ```ts
 * specJson({ rlimits: [{ type: "RLIMIT_MEMLOCK", hard: U64_MAX, soft: U64_MAX }] } as unknown as OciSpec);
 * // '{"rlimits":[{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615}]}'
 * ```
 */
export function specJson(spec: OciSpec, indent = 0): string {
  return encode(spec, indent, "") ?? "null";
}

function encode(v: unknown, indent: number, pad: string): string | undefined {
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const inner = indent > 0 ? pad + " ".repeat(indent) : "";
  const nl = indent > 0 ? "\n" : "";
  const colon = indent > 0 ? ": " : ":";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const items = v.map((x) => inner + (encode(x, indent, inner) ?? "null"));
    return `[${nl}${items.join("," + nl)}${nl}${indent > 0 ? pad : ""}]`;
  }
  const items: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    const e = encode(x, indent, inner);
    if (e !== undefined) items.push(`${inner}${JSON.stringify(k)}${colon}${e}`);
  }
  if (items.length === 0) return "{}";
  return `{${nl}${items.join("," + nl)}${nl}${indent > 0 ? pad : ""}}`;
}
