/**
 * Test oracle for src/spec/seccomp.ts: the Docker-profile → OCI conversion and the verdict evaluator in
 * plain TypeScript, as moby's profiles/seccomp and the kernel do them, that the WASM module
 * (assembly/seccomp) must agree with. The differential tests compare the two. Not used by the plugin.
 *
 * @module
 */
import type { OciSeccomp, OciSeccompArg, OciSyscall } from "../../src/spec/oci.ts";
import {
  nativeArch,
  SCMP_ARCH,
  SECCOMP_ACTIONS,
  SECCOMP_OPS,
  type SeccompFilter,
  SeccompProfileError,
  type SeccompTarget,
  type SeccompVerdict,
  syscallTable,
} from "../../src/spec/seccomp.ts";

function parseKernel(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new SeccompProfileError(path, "is not a list of strings");
  }
  return v as string[];
}

/** A whole number as the profile's JSON means it: -0 (which JSON cannot hold, but a caller's object can) is 0. */
function whole<T extends number | bigint>(x: T): T {
  return (typeof x === "number" ? x + 0 : x) as T;
}

function errnoValue(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 4095) {
    throw new SeccompProfileError(
      path,
      `${JSON.stringify(v)} is not an errno (a whole number from 0 to 4095)`,
    );
  }
  return whole(v);
}

function checkFilter(v: unknown, path: string): SeccompFilter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new SeccompProfileError(path, "is not an object");
  const minKernel = v.minKernel;
  if (minKernel !== undefined && minKernel !== null && minKernel !== "") {
    const ok = typeof minKernel === "string" && /^\d{1,3}\.\d{1,3}$/.test(minKernel) && minKernel !== "0.0";
    if (!ok) {
      throw new SeccompProfileError(
        `${path}.minKernel`,
        `${JSON.stringify(minKernel)} is not "<kernel>.<major>", e.g. "4.8"`,
      );
    }
  }
  return {
    caps: stringList(v.caps, `${path}.caps`),
    arches: stringList(v.arches, `${path}.arches`),
    minKernel: typeof minKernel === "string" && minKernel !== "" ? minKernel : undefined,
  };
}

function checkArgs(v: unknown, path: string): OciSeccompArg[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SeccompProfileError(path, "is not a list");
  return v.map((a, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(a)) throw new SeccompProfileError(p, "is not an object");
    const index = a.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 5) {
      throw new SeccompProfileError(
        `${p}.index`,
        `${JSON.stringify(index)} is not an argument index from 0 to 5`,
      );
    }
    const value = a.value ?? 0;
    const valueTwo = a.valueTwo ?? 0;
    for (const [k, x] of [["value", value], ["valueTwo", valueTwo]] as const) {
      const ok = (typeof x === "number" && Number.isInteger(x) && x >= 0) ||
        (typeof x === "bigint" && x >= 0n);
      if (!ok) {
        throw new SeccompProfileError(`${p}.${k}`, `${JSON.stringify(x)} is not a non-negative whole number`);
      }
    }
    if (typeof a.op !== "string" || !SECCOMP_OPS.includes(a.op)) {
      throw new SeccompProfileError(
        `${p}.op`,
        `${JSON.stringify(a.op)} is not one of ${SECCOMP_OPS.join(", ")}`,
      );
    }
    const out: OciSeccompArg = { index: whole(index), value: whole(value as number | bigint), op: a.op };
    if (a.valueTwo !== undefined) out.valueTwo = whole(valueTwo as number | bigint);
    return out;
  });
}

function checkAction(v: unknown, path: string): string {
  if (typeof v !== "string" || !SECCOMP_ACTIONS.includes(v)) {
    throw new SeccompProfileError(path, `${JSON.stringify(v)} is not one of ${SECCOMP_ACTIONS.join(", ")}`);
  }
  return v;
}

/**
 * Converts a Docker-format profile into the OCI seccomp section for one target, as moby does: picks the
 * target's entry of `archMap` (the arch and its sub-arches), drops rules whose `excludes` match or whose
 * `includes` do not (caps: all listed must be in the bounding set; arches: the native arch must be listed;
 * minKernel: the host kernel's major.minor must be at least it). A name that an earlier unconditional rule
 * already gives the same action is left out. Undefined when the profile has neither a default action nor
 * rules (seccomp off, as Docker reads it).
 *
 * @throws {SeccompProfileError} when the profile is malformed (the message has a JSON path).
 *
 * @example
 * ```ts
 * const s = toOciSeccompOracle(DEFAULT_PROFILE, { arch: "amd64", kernel: "6.1.0", capabilities: [] });
 * s?.architectures; // ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
 * ```
 */
export function toOciSeccompOracle(profile: unknown, target: SeccompTarget): OciSeccomp | undefined {
  if (!isObject(profile)) throw new SeccompProfileError("$", "is not a JSON object");
  const rules = profile.syscalls ?? [];
  if (!Array.isArray(rules)) throw new SeccompProfileError("$.syscalls", "is not a list");
  if ((profile.defaultAction === undefined || profile.defaultAction === "") && rules.length === 0) {
    return undefined;
  }
  const defaultAction = checkAction(profile.defaultAction, "$.defaultAction");
  const architectures = stringList(profile.architectures, "$.architectures");
  const archMap = profile.archMap ?? [];
  if (!Array.isArray(archMap)) throw new SeccompProfileError("$.archMap", "is not a list");
  if (architectures.length > 0 && archMap.length > 0) {
    throw new SeccompProfileError("$", "has both 'architectures' and 'archMap'; use one of them");
  }
  const native = nativeArch(target.arch);
  const out: OciSeccomp = { defaultAction };
  const defaultErrnoRet = errnoValue(profile.defaultErrnoRet, "$.defaultErrnoRet");
  if (defaultErrnoRet !== undefined) out.defaultErrnoRet = defaultErrnoRet;

  if (archMap.length > 0) {
    const want = native ? SCMP_ARCH[native] : undefined;
    archMap.forEach((a, i) => {
      if (!isObject(a) || typeof a.architecture !== "string") {
        throw new SeccompProfileError(`$.archMap[${i}]`, "is not {architecture, subArchitectures}");
      }
      const subs = stringList(a.subArchitectures, `$.archMap[${i}].subArchitectures`);
      if (want !== undefined && a.architecture === want && out.architectures === undefined) {
        out.architectures = [a.architecture, ...subs];
      }
    });
  } else if (architectures.length > 0) out.architectures = [...architectures];
  const flags = stringList(profile.flags, "$.flags");
  if (flags.length > 0) out.flags = flags;
  if (typeof profile.listenerPath === "string" && profile.listenerPath !== "") {
    out.listenerPath = profile.listenerPath;
  }
  if (typeof profile.listenerMetadata === "string" && profile.listenerMetadata !== "") {
    out.listenerMetadata = profile.listenerMetadata;
  }

  const kernel = parseKernel(target.kernel);
  const kernelAtLeast = (min: string, path: string): boolean => {
    if (!kernel) {
      throw new SeccompProfileError(
        path,
        `cannot be checked: the host kernel "${target.kernel}" has no version`,
      );
    }
    const [k, m] = min.split(".").map(Number);
    return kernel[0] > k || (kernel[0] === k && kernel[1] >= m);
  };

  const syscalls: OciSyscall[] = [];
  const granted = new Set<string>();
  rules.forEach((rule, i) => {
    const p = `$.syscalls[${i}]`;
    if (!isObject(rule)) throw new SeccompProfileError(p, "is not an object");
    let names = stringList(rule.names, `${p}.names`);
    if (typeof rule.name === "string" && rule.name !== "") {
      if (names.length > 0) throw new SeccompProfileError(p, "has both 'name' and 'names'; use one of them");
      names = [rule.name];
    }
    const action = checkAction(rule.action, `${p}.action`);
    const errnoRet = errnoValue(rule.errnoRet, `${p}.errnoRet`);
    const args = checkArgs(rule.args, `${p}.args`);
    const ex = checkFilter(rule.excludes, `${p}.excludes`);
    const inc = checkFilter(rule.includes, `${p}.includes`);
    if (ex) {
      if (ex.arches!.length > 0 && native !== undefined && ex.arches!.includes(native)) return;
      if (ex.caps!.some((c) => target.capabilities.includes(c))) return;
      if (ex.minKernel && kernelAtLeast(ex.minKernel, `${p}.excludes.minKernel`)) return;
    }
    if (inc) {
      if (inc.arches!.length > 0 && (native === undefined || !inc.arches!.includes(native))) return;
      if (!inc.caps!.every((c) => target.capabilities.includes(c))) return;
      if (inc.minKernel && !kernelAtLeast(inc.minKernel, `${p}.includes.minKernel`)) return;
    }
    // An unconditional name already given the same action by an earlier rule adds nothing (moby's
    // profile allows ptrace both by minKernel and by CAP_SYS_PTRACE): keep each name once per action.
    if (args.length === 0) {
      const key = (n: string) => `${action}/${errnoRet ?? ""}/${n}`;
      names = [...new Set(names)].filter((n) => !granted.has(key(n)));
      for (const n of names) granted.add(key(n));
    }
    if (names.length === 0) return;
    const s: OciSyscall = { names: [...names], action };
    if (errnoRet !== undefined) s.errnoRet = errnoRet;
    if (args.length > 0) s.args = args;
    syscalls.push(s);
  });
  out.syscalls = syscalls;
  return out;
}

// Kernel precedence of seccomp return actions (seccomp(2)): the most restrictive matching action wins.
export const PRECEDENCE: Record<string, number> = {
  SCMP_ACT_KILL_PROCESS: 8,
  SCMP_ACT_KILL_THREAD: 7,
  SCMP_ACT_KILL: 7,
  SCMP_ACT_TRAP: 6,
  SCMP_ACT_ERRNO: 5,
  SCMP_ACT_NOTIFY: 4,
  SCMP_ACT_TRACE: 3,
  SCMP_ACT_LOG: 2,
  SCMP_ACT_ALLOW: 1,
};

const U64 = (1n << 64n) - 1n;

function u64(v: number | bigint): bigint {
  return BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(v)));
}

function condHolds(c: OciSeccompArg, args: readonly (number | bigint)[]): boolean {
  const a = u64(args[c.index] ?? 0);
  const v = u64(c.value);
  switch (c.op) {
    case "SCMP_CMP_NE":
      return a !== v;
    case "SCMP_CMP_LT":
      return a < v;
    case "SCMP_CMP_LE":
      return a <= v;
    case "SCMP_CMP_EQ":
      return a === v;
    case "SCMP_CMP_GE":
      return a >= v;
    case "SCMP_CMP_GT":
      return a > v;
    case "SCMP_CMP_MASKED_EQ":
      return ((a & v) & U64) === u64(c.valueTwo ?? 0);
    default:
      return false;
  }
}

/**
 * Whether one OCI rule matches the arguments, the way runc hands it to libseccomp: all conditions
 * ANDed in one rule, except when two conditions test the same argument, then each condition is a rule
 * of its own (ORed).
 *
 * @example
 * ```ts
 * ruleMatches({ names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] }, [8]); // true
 * ```
 */
export function ruleMatches(rule: OciSyscall, args: readonly (number | bigint)[] = []): boolean {
  const conds = rule.args ?? [];
  if (conds.length === 0) return true;
  const indexes = conds.map((c) => c.index);
  const repeated = new Set(indexes).size !== indexes.length;
  return repeated ? conds.some((c) => condHolds(c, args)) : conds.every((c) => condHolds(c, args));
}

/**
 * The action the kernel takes for a syscall (by name or by number on `arch`) under an OCI seccomp
 * section; `undefined` seccomp means no filter (ALLOW). Among the rules that name the syscall and match
 * the arguments (missing arguments count as 0), the most restrictive action wins, as the kernel ranks
 * actions (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > NOTIFY > TRACE > LOG > ALLOW); none matching →
 * the default action. Errno: the rule's errnoRet, else the default's, else EPERM (1) as runc does.
 *
 * @example
 * ```ts
 * const s = toOciSeccompOracle(DEFAULT_PROFILE, { arch: "amd64", kernel: "6.1", capabilities: [] });
 * seccompVerdict(s, "getpid").action; // "SCMP_ACT_ALLOW"
 * seccompVerdict(s, "kexec_load"); // { action: "SCMP_ACT_ERRNO", errno: 1, ... }
 * ```
 */
export function seccompVerdictOracle(
  seccomp: OciSeccomp | undefined,
  syscall: string | number,
  args: readonly (number | bigint)[] = [],
  arch = "amd64",
): SeccompVerdict {
  const table = syscallTable(arch);
  let names: string[];
  if (typeof syscall === "number") {
    names = table ? Object.keys(table).filter((n) => table[n] === syscall) : [];
  } else names = [syscall];
  const known = table === undefined ? true : names.some((n) => n in table);
  const name = names[0];
  if (seccomp === undefined) return { action: "SCMP_ACT_ALLOW", conditional: false, known, name };
  let best: { action: string; errno?: number; rule: number } | undefined;
  let conditional = false;
  const rules = seccomp.syscalls ?? [];
  if (known) {
    rules.forEach((r, i) => {
      if (!r.names.some((n) => names.includes(n))) return;
      if ((r.args ?? []).length > 0) conditional = true;
      if (!ruleMatches(r, args)) return;
      if (best === undefined || (PRECEDENCE[r.action] ?? 0) > (PRECEDENCE[best.action] ?? 0)) {
        best = {
          action: r.action,
          rule: i,
          errno: r.action === "SCMP_ACT_ERRNO" ? r.errnoRet ?? 1 : undefined,
        };
      }
    });
  }
  if (best !== undefined) {
    const v: SeccompVerdict = { action: best.action, rule: best.rule, conditional, known, name };
    if (best.errno !== undefined) v.errno = best.errno;
    return v;
  }
  const v: SeccompVerdict = { action: seccomp.defaultAction, conditional, known, name };
  if (seccomp.defaultAction === "SCMP_ACT_ERRNO") v.errno = seccomp.defaultErrnoRet ?? 1;
  return v;
}
