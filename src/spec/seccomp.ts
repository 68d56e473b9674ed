/**
 * Seccomp: Docker-format profiles (the JSON `docker run --security-opt seccomp=` takes, and moby's
 * default profile kept as data in seccomp_default.json) → the OCI `linux.seccomp` section for one
 * architecture, kernel and capability set, as moby's profiles/seccomp does it; and an evaluator that says
 * what the kernel will do with a syscall under such a section.
 *
 * seccomp_default.json is moby's default profile, unchanged in content (Apache-2.0, © The Moby Authors):
 * github.com/moby/profiles/seccomp v0.2.3 `default.json`, as vendored in moby/moby at b985e2313a86.
 * syscalls_x86_64.json / syscalls_aarch64.json are the kernel's syscall numbers (Linux 6.1 uapi headers
 * plus the calls up to listns = 470). See src/spec/README.md.
 *
 * The conversion and the evaluator run in the WASM module assembly/seccomp; this module is their only
 * caller (tests/oracles/seccomp.ts is the plain-TS oracle the differential tests compare them with).
 * Pure: no I/O.
 *
 * - Conversion: the profile and the target go in as JSON.stringify's bytes, the OCI section comes back
 *   as JSON (bigint argument values travel as `"\u0000n:<digits>"` strings and come back as bigints).
 * - Evaluator: an OCI section is compiled once per architecture into numbers (syscall numbers, action
 *   codes, u64 argument conditions) and kept per section object (treat a section as immutable once it
 *   was evaluated); a verdict is one call with the syscall number and its arguments.
 *
 * @module
 */
import type { OciSeccomp, OciSeccompArg } from "./oci.ts";
import { wasmInstance } from "../wasm/load.ts";
import defaultProfileJson from "./seccomp_default.json" with { type: "json" };
import x86_64Table from "./syscalls_x86_64.json" with { type: "json" };
import aarch64Table from "./syscalls_aarch64.json" with { type: "json" };

/** A Docker-format seccomp profile (moby's `seccomp.Seccomp`). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscall[];
}

/** One rule of a Docker-format profile, with its conditions. */
export interface DockerSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** A rule's condition: capabilities (all present), native arches (any), least kernel "major.minor". */
export interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** What a profile is converted for. */
export interface SeccompTarget {
  /** Go/OCI architecture (amd64, arm64, ...) or uname -m (x86_64, aarch64) */
  arch: string;
  /** kernel release, e.g. "6.1.0-18-amd64" (only "major.minor" counts) */
  kernel: string;
  /** the container's bounding capabilities (`CAP_*`) */
  capabilities: readonly string[];
}

/** A profile that cannot be used: `path` is a JSON path inside it. */
export class SeccompProfileError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = "SeccompProfileError";
  }
}

/** moby's default profile (seccomp_default.json). */
export const DEFAULT_PROFILE: DockerSeccompProfile = defaultProfileJson as DockerSeccompProfile;

/** Actions libseccomp/runc accept. */
export const SECCOMP_ACTIONS: readonly string[] = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
];

/** Argument comparison operators. */
export const SECCOMP_OPS: readonly string[] = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
];

// Go / uname architecture → libseccomp's native name, as moby's goToNative (plus uname -m spellings).
const NATIVE_ARCH: Record<string, string> = {
  "386": "x86",
  i386: "x86",
  i686: "x86",
  amd64: "amd64",
  x86_64: "amd64",
  arm: "arm",
  armv7l: "arm",
  arm64: "arm64",
  aarch64: "arm64",
  loong64: "loongarch64",
  loongarch64: "loongarch64",
  mips64: "mips64",
  mips64p32: "mips64n32",
  mips64le: "mipsel64",
  mips64p32le: "mipsel64n32",
  mipsle: "mipsel",
  ppc: "ppc",
  ppc64: "ppc64",
  ppc64le: "ppc64le",
  riscv64: "riscv64",
  s390: "s390",
  s390x: "s390x",
};

/** libseccomp's native name → the OCI/SCMP architecture constant. */
export const SCMP_ARCH: Readonly<Record<string, string>> = {
  x86: "SCMP_ARCH_X86",
  amd64: "SCMP_ARCH_X86_64",
  x32: "SCMP_ARCH_X32",
  arm: "SCMP_ARCH_ARM",
  arm64: "SCMP_ARCH_AARCH64",
  loongarch64: "SCMP_ARCH_LOONGARCH64",
  mips64: "SCMP_ARCH_MIPS64",
  mips64n32: "SCMP_ARCH_MIPS64N32",
  mipsel64: "SCMP_ARCH_MIPSEL64",
  mipsel64n32: "SCMP_ARCH_MIPSEL64N32",
  mipsel: "SCMP_ARCH_MIPSEL",
  ppc: "SCMP_ARCH_PPC",
  ppc64: "SCMP_ARCH_PPC64",
  ppc64le: "SCMP_ARCH_PPC64LE",
  riscv64: "SCMP_ARCH_RISCV64",
  s390: "SCMP_ARCH_S390",
  s390x: "SCMP_ARCH_S390X",
};

/**
 * libseccomp's native name of an architecture (`amd64`, `arm64`, `x86`...), as profiles' `arches` use it.
 *
 * @example
 * ```ts
 * nativeArch("x86_64"); // "amd64"
 * ```
 */
export function nativeArch(arch: string): string | undefined {
  return NATIVE_ARCH[arch] ?? (SCMP_ARCH[arch] ? arch : undefined);
}

/**
 * The syscall name → number table of an architecture (x86_64 and aarch64 are kept), or undefined.
 *
 * @example
 * ```ts
 * syscallTable("amd64")?.["getpid"]; // 39
 * ```
 */
export function syscallTable(arch: string): Readonly<Record<string, number>> | undefined {
  const n = nativeArch(arch);
  if (n === "amd64") return x86_64Table as Record<string, number>;
  if (n === "arm64") return aarch64Table as Record<string, number>;
  return undefined;
}

/** What the kernel does with one syscall. */
export interface SeccompVerdict {
  /** the SCMP_ACT_* action */
  action: string;
  /** the errno returned, for SCMP_ACT_ERRNO */
  errno?: number;
  /** index of the deciding rule in `syscalls`; undefined when the default action decided */
  rule?: number;
  /** whether some rule for this syscall depends on arguments (the verdict may change with them) */
  conditional: boolean;
  /** whether the syscall exists on the architecture (runc ignores rules for unknown names) */
  known: boolean;
  /** the syscall's name (first name when looked up by number) */
  name?: string;
}

interface SeccompExports {
  memory: WebAssembly.Memory;
  convertInput(len: number): number;
  convert(len: number): void;
  convertOutput(): number;
  convertOutputLen(): number;
  programInput(n: number): number;
  programLoad(n: number, ids: number): number;
  argsInput(count: number): number;
  evaluate(id: number, count: number): number;
}

let bound: WebAssembly.Instance | undefined;
let ex: SeccompExports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bind(): SeccompExports {
  const inst = wasmInstance("seccomp");
  if (inst !== bound) {
    ex = inst.exports as unknown as SeccompExports;
    bound = inst;
    loaded = undefined;
  }
  return ex;
}

// --- conversion -------------------------------------------------------------------------------------

const BIGINT_MARK = "\u0000n:";

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? BIGINT_MARK + v.toString() : v;
}

let sawBigint = false;

/** JSON.stringify, with bigints as marked strings (only when there are any: the fast path has none). */
function stringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "null";
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    sawBigint = true;
    return JSON.stringify(v, bigintReplacer) ?? "null";
  }
}

const ACTION_LIST = SECCOMP_ACTIONS.join(", ");
const OP_LIST = SECCOMP_OPS.join(", ");

// Problems by error kind (assembly/seccomp E_*); `v` is the offending value's JSON text.
const PROBLEMS: ((v: string, t: SeccompTarget) => string)[] = [
  () => "",
  () => "is not a JSON object",
  () => "is not a list",
  () => "is not a list of strings",
  () => "has both 'architectures' and 'archMap'; use one of them",
  (v) => `${v} is not one of ${ACTION_LIST}`,
  (v) => `${v} is not an errno (a whole number from 0 to 4095)`,
  () => "is not {architecture, subArchitectures}",
  () => "is not an object",
  () => "has both 'name' and 'names'; use one of them",
  (v) => `${v} is not an argument index from 0 to 5`,
  (v) => `${v} is not a non-negative whole number`,
  (v) => `${v} is not one of ${OP_LIST}`,
  (v) => `${v} is not "<kernel>.<major>", e.g. "4.8"`,
  (_v, t) => `cannot be checked: the host kernel "${t.kernel}" has no version`,
];

function reviveBigints(s: OciSeccomp): void {
  for (const r of s.syscalls ?? []) {
    for (const a of r.args ?? []) {
      if (typeof a.value === "string") a.value = BigInt((a.value as string).slice(BIGINT_MARK.length));
      if (typeof a.valueTwo === "string") {
        a.valueTwo = BigInt((a.valueTwo as string).slice(BIGINT_MARK.length));
      }
    }
  }
}

/**
 * {@linkcode toOciSeccomp} by the WASM module: a Docker-format profile → the OCI seccomp section for one
 * target (arch, kernel, bounding capabilities); undefined when the profile turns seccomp off.
 *
 * @throws {SeccompProfileError} when the profile is malformed (the same path and problem).
 *
 * @example
 * ```ts
 * import { DEFAULT_PROFILE } from "./seccomp.ts";
 * toOciSeccomp(DEFAULT_PROFILE, { arch: "amd64", kernel: "6.1.0", capabilities: [] })?.architectures;
 * // ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
 * ```
 */
export function toOciSeccomp(profile: unknown, target: SeccompTarget): OciSeccomp | undefined {
  const e = bind();
  sawBigint = false;
  const json = `[${stringify(profile)},${JSON.stringify(target.arch)},${JSON.stringify(target.kernel)},${
    stringify(target.capabilities)
  }]`;
  const max = json.length * 3;
  const ptr = e.convertInput(max);
  const { written } = encoder.encodeInto(json, new Uint8Array(e.memory.buffer, ptr, max));
  e.convert(written);
  const out = new Uint8Array(e.memory.buffer, e.convertOutput(), e.convertOutputLen());
  const tag = out[0];
  if (tag === 0x4f) { // "O"
    const s = JSON.parse(decoder.decode(out.subarray(1))) as OciSeccomp | null;
    if (s === null) return undefined;
    if (sawBigint) reviveBigints(s);
    return s;
  }
  if (tag === 0x45) { // "E": kind, path, NUL, value
    const text = decoder.decode(out.subarray(2));
    const nul = text.indexOf("\0");
    const path = text.slice(0, nul);
    const value = text.slice(nul + 1);
    // The reference embeds JSON.stringify(value) in the message, which throws for a bigint.
    if (value.includes("\\u0000n:")) throw new TypeError("Do not know how to serialize a BigInt");
    const problem = PROBLEMS[out[1]];
    throw new SeccompProfileError(path, problem ? problem(value === "" ? "undefined" : value, target) : "?");
  }
  throw new Error(`seccomp.wasm could not read its input (${String.fromCharCode(tag)})`);
}

// --- evaluator --------------------------------------------------------------------------------------

// Action codes of the module (its PREC order); others are 255 (precedence 0).
const ACTION_CODES: Record<string, number> = {
  SCMP_ACT_KILL_PROCESS: 0,
  SCMP_ACT_KILL_THREAD: 1,
  SCMP_ACT_KILL: 2,
  SCMP_ACT_TRAP: 3,
  SCMP_ACT_ERRNO: 4,
  SCMP_ACT_NOTIFY: 5,
  SCMP_ACT_TRACE: 6,
  SCMP_ACT_LOG: 7,
  SCMP_ACT_ALLOW: 8,
};
const OP_CODES: Record<string, number> = {
  SCMP_CMP_NE: 0,
  SCMP_CMP_LT: 1,
  SCMP_CMP_LE: 2,
  SCMP_CMP_EQ: 3,
  SCMP_CMP_GE: 4,
  SCMP_CMP_GT: 5,
  SCMP_CMP_MASKED_EQ: 6,
};

/** An OCI section compiled for one architecture. */
interface Program {
  code: Int32Array;
  ids: number;
  /** name → id: the syscall number when the arch has a table, else an interned id */
  idOf: (name: string) => number;
  /** number → first name (arches with a table) */
  nameOf?: (nr: number) => string | undefined;
  tabled: boolean;
  actions: string[];
  errnos: (number | undefined)[];
}

interface ArchTable {
  table: Readonly<Record<string, number>>;
  byNumber: Map<number, string>;
  max: number;
}
const archTables = new Map<string, ArchTable | null>();

function archTable(arch: string): ArchTable | undefined {
  let t = archTables.get(arch);
  if (t === undefined) {
    const table = syscallTable(arch);
    if (table) {
      const byNumber = new Map<number, string>();
      let max = 0;
      for (const [n, nr] of Object.entries(table)) {
        if (!byNumber.has(nr)) byNumber.set(nr, n);
        if (nr > max) max = nr;
      }
      t = { table, byNumber, max };
    } else t = null;
    archTables.set(arch, t);
  }
  return t ?? undefined;
}

/** u64 halves of a number (truncated) or bigint, as the reference's BigInt.asUintN(64, ...). */
function u64(v: number | bigint, out: Int32Array, at: number): void {
  if (typeof v === "number" && Number.isSafeInteger(Math.trunc(v))) {
    const t = Math.trunc(v);
    if (t >= 0) {
      out[at] = t % 0x100000000;
      out[at + 1] = Math.floor(t / 0x100000000);
      return;
    }
  }
  const b = BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(v)));
  out[at] = Number(b & 0xffffffffn);
  out[at + 1] = Number(b >> 32n);
}

function compile(s: OciSeccomp, arch: string): Program {
  const t = archTable(arch);
  const interned = new Map<string, number>();
  const idOf = t
    ? (n: string) => (Object.hasOwn(t.table, n) ? t.table[n] : -1)
    : (n: string) => interned.get(n) ?? -1;
  const rules = s.syscalls ?? [];
  const words: number[] = [rules.length];
  const actions: string[] = [];
  const errnos: (number | undefined)[] = [];
  const half = new Int32Array(2);
  for (const r of rules) {
    actions.push(r.action);
    errnos.push(r.action === "SCMP_ACT_ERRNO" ? r.errnoRet ?? 1 : undefined);
    words.push(ACTION_CODES[r.action] ?? 255);
    const ids: number[] = [];
    for (const n of r.names) {
      let id: number;
      if (t) id = idOf(n);
      else {
        id = interned.get(n) ?? interned.size;
        interned.set(n, id);
      }
      if (id >= 0) ids.push(id);
    }
    words.push(ids.length, ...ids);
    const conds = r.args ?? [];
    const indexes = conds.map((c) => c.index);
    words.push(conds.length, new Set(indexes).size !== indexes.length ? 1 : 0);
    for (const c of conds) {
      const i = c.index;
      words.push(Number.isInteger(i) && i >= 0 && i < 0x40000000 ? i : -1, OP_CODES[c.op] ?? -1);
      u64(c.value, half, 0);
      words.push(half[0], half[1]);
      u64(c.valueTwo ?? 0, half, 0);
      words.push(half[0], half[1]);
    }
  }
  const p: Program = {
    code: Int32Array.from(words),
    ids: t ? t.max + 1 : interned.size,
    idOf,
    tabled: t !== undefined,
    actions,
    errnos,
  };
  if (t) p.nameOf = (nr) => t.byNumber.get(nr);
  return p;
}

const programs = new WeakMap<OciSeccomp, Map<string, Program>>();
let loaded: Program | undefined;

function program(s: OciSeccomp, arch: string): Program {
  let byArch = programs.get(s);
  if (!byArch) programs.set(s, byArch = new Map());
  let p = byArch.get(arch);
  if (!p) byArch.set(arch, p = compile(s, arch));
  return p;
}

function load(p: Program): void {
  const e = bind();
  if (loaded === p) return;
  const ptr = e.programInput(p.code.length);
  new Int32Array(e.memory.buffer, ptr, p.code.length).set(p.code);
  if (e.programLoad(p.code.length, p.ids) < 0) throw new Error("seccomp.wasm refused a compiled program");
  loaded = p;
}

/**
 * {@linkcode seccompVerdict} by the WASM module: the action the kernel takes for a syscall (name, or
 * number on `arch`) with these arguments under an OCI seccomp section (`undefined`: no filter).
 *
 * @example
 * ```ts
 * import { DEFAULT_PROFILE } from "./seccomp.ts";
 * const s = toOciSeccomp(DEFAULT_PROFILE, { arch: "amd64", kernel: "6.1", capabilities: [] });
 * seccompVerdict(s, "getpid").action; // "SCMP_ACT_ALLOW"
 * seccompVerdict(s, 246).action; // kexec_load: "SCMP_ACT_ERRNO"
 * ```
 */
export function seccompVerdict(
  seccomp: OciSeccomp | undefined,
  syscall: string | number,
  args: readonly (number | bigint)[] = [],
  arch = "amd64",
): SeccompVerdict {
  const t = archTable(arch);
  let name: string | undefined;
  let known: boolean;
  if (typeof syscall === "number") {
    name = t?.byNumber.get(syscall);
    known = t === undefined ? true : name !== undefined;
  } else {
    name = syscall;
    known = t === undefined ? true : Object.hasOwn(t.table, syscall);
  }
  if (seccomp === undefined) return { action: "SCMP_ACT_ALLOW", conditional: false, known, name };
  let r = 0;
  if (known) {
    const p = program(seccomp, arch);
    load(p);
    const id = typeof syscall === "number" ? (p.tabled ? syscall : -1) : p.idOf(syscall);
    const e = ex;
    const n = args.length;
    if (n > 0) {
      const a = new Int32Array(e.memory.buffer, e.argsInput(n), 2 * n);
      for (let i = 0; i < n; i++) u64(args[i] ?? 0, a, 2 * i);
    }
    r = e.evaluate(id, n);
    const rule = (r >> 1) - 1;
    if (rule >= 0) {
      const v: SeccompVerdict = {
        action: p.actions[rule],
        rule,
        conditional: (r & 1) === 1,
        known,
        name,
      };
      const errno = p.errnos[rule];
      if (errno !== undefined) v.errno = errno;
      return v;
    }
  }
  const v: SeccompVerdict = { action: seccomp.defaultAction, conditional: (r & 1) === 1, known, name };
  if (seccomp.defaultAction === "SCMP_ACT_ERRNO") v.errno = seccomp.defaultErrnoRet ?? 1;
  return v;
}
