/**
 * The WASM seccomp conversion and evaluator (src/spec/seccomp.ts, assembly/seccomp) against the plain-TS
 * oracle (tests/oracles/seccomp.ts):
 * conversion of generated Docker-format profiles (valid and malformed: same OCI section or same error),
 * and verdicts of generated syscalls and arguments under converted and arbitrary OCI sections.
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { assert, assertEquals } from "../../tests/harness/assert.ts";
import {
  DEFAULT_PROFILE,
  SECCOMP_ACTIONS,
  SECCOMP_OPS,
  SeccompProfileError,
  type SeccompTarget,
  seccompVerdict,
  syscallTable,
  toOciSeccomp,
} from "./seccomp.ts";
import { DEFAULT_CAPABILITIES } from "./capabilities.ts";
import type { OciSeccomp } from "./oci.ts";
import { seccompVerdictOracle, toOciSeccompOracle } from "../../tests/oracles/seccomp.ts";

type Outcome = { ok: OciSeccomp | undefined } | { error: string };

function convert(f: typeof toOciSeccompOracle, p: unknown, t: SeccompTarget): Outcome {
  try {
    return { ok: f(p, t) };
  } catch (e) {
    if (e instanceof SeccompProfileError) return { error: `${e.name} ${e.path} | ${e.problem}` };
    if (e instanceof TypeError) return { error: `TypeError ${e.message}` };
    throw e;
  }
}

const big = (v: unknown) => (typeof v === "bigint" ? `${v}n` : v);

function sameConversion(p: unknown, t: SeccompTarget): Outcome {
  const want = convert(toOciSeccompOracle, p, t);
  const got = convert(toOciSeccomp, p, t);
  if (
    !isDeepStrictEqual(want, got) ||
    JSON.stringify(want, (_k, v) => big(v)) !== JSON.stringify(got, (_k, v) => big(v))
  ) {
    throw new Error(
      `conversion differs for ${JSON.stringify(t)}\n  profile: ${
        JSON.stringify(p, (_k, v) => big(v))
      }\n  ts:   ${JSON.stringify(want, (_k, v) => big(v))}\n  wasm: ${
        JSON.stringify(got, (_k, v) => big(v))
      }`,
    );
  }
  return want;
}

// --- generators -------------------------------------------------------------------------------------

const NAMES = [
  "read",
  "write",
  "getpid",
  "mount",
  "umount2",
  "clone",
  "clone3",
  "personality",
  "socket",
  "ptrace",
  "kexec_load",
  "bpf",
  "unshare",
  "arch_prctl",
  "sync_file_range2",
  "open",
  "openat",
  "setns",
  "reboot",
  "no_such_call",
  "ioctl",
  "keyctl",
  "chmod",
  "",
  "constructorx",
];
const ARCHES = [
  "amd64",
  "arm64",
  "x86_64",
  "aarch64",
  "386",
  "x32",
  "s390x",
  "riscv64",
  "ppc64le",
  "mips64le",
  "bogus",
];
const NATIVE = ["amd64", "arm64", "x86", "x32", "s390x", "riscv64", "ppc64le", "mipsel64", "arm"];
const SCMP_ARCHES = [
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_S390X",
];
const CAPS = [
  "CAP_SYS_ADMIN",
  "CAP_SYS_PTRACE",
  "CAP_NET_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_CHOWN",
  "CAP_BPF",
  "CAP_SYSLOG",
];
const KERNELS = [
  "6.1.0-18-amd64",
  "4.4.0-210-generic",
  "4.8",
  "5.10.0",
  "3.10.0",
  "",
  "abc",
  " 5.4",
  "\u00a05.4",
  "\t\n6.2",
  "5",
  "10.0",
  "0.0",
];

const junk = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer({ min: -5, max: 5000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant([1]),
  fc.constant({}),
);
/**
 * Docker-format profiles; `scale` multiplies the odds of a well-formed part against junk (1: about one
 * profile in ten converts, 30: most do, so both the error paths and the conversion paths are covered).
 */
function profiles(scale: number): { profile: fc.Arbitrary<unknown>; rule: fc.Arbitrary<unknown> } {
  function sometimes<T>(good: fc.Arbitrary<T>, weight = 12): fc.Arbitrary<T | unknown> {
    return fc.oneof({ arbitrary: good, weight: weight * scale }, { arbitrary: junk, weight: 1 });
  }
  /** An optional key: absent (undefined keys are dropped by the record below) or a value. */
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });

  const action = sometimes(fc.constantFrom(...SECCOMP_ACTIONS));
  const errno = sometimes(
    fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 4095 }), weight: 20 },
      fc.constantFrom(4096, -1, 1.5, 1e21),
    ),
  );
  const strList = (pool: string[]) => sometimes(fc.array(fc.constantFrom(...pool), { maxLength: 4 }));
  const argValue = fc.oneof(
    { arbitrary: fc.nat(), weight: 10 },
    { arbitrary: fc.constantFrom(0, 8, 0xffffffff, 0x7e020000, 2 ** 53 - 1, 2 ** 64, 1e300), weight: 5 },
    { arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), weight: 5 },
    fc.constantFrom(-1, 0.5, -3n, null),
  );
  const arg = sometimes(
    fc.record({
      index: sometimes(fc.oneof({ arbitrary: fc.integer({ min: 0, max: 5 }), weight: 20 }, fc.constant(6))),
      value: opt(argValue),
      valueTwo: opt(argValue),
      op: sometimes(
        fc.oneof({ arbitrary: fc.constantFrom(...SECCOMP_OPS), weight: 20 }, fc.constant("SCMP_CMP_XX")),
      ),
    }, { requiredKeys: ["index", "op"] }),
    30,
  );
  const filter = sometimes(
    fc.record({
      caps: opt(strList(CAPS)),
      arches: opt(strList(NATIVE)),
      minKernel: opt(sometimes(fc.oneof(
        { arbitrary: fc.constantFrom("4.8", "5.3", "6.1", "3.0", "10.10", ""), weight: 10 },
        fc.constantFrom("0.0", "4", "4.8.1", "1234.1"),
      ))),
    }, { requiredKeys: [] }),
    20,
  );
  const rule = sometimes(
    fc.record({
      names: opt(strList(NAMES)),
      name: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, sometimes(fc.constantFrom(...NAMES))),
      action,
      errnoRet: opt(errno),
      args: opt(sometimes(fc.array(arg, { maxLength: 3 }), 20)),
      includes: opt(filter),
      excludes: opt(filter),
      comment: opt(fc.string({ maxLength: 4 })),
    }, { requiredKeys: ["action"] }),
    40,
  );
  const archMapEntry = sometimes(
    fc.record({
      architecture: sometimes(fc.constantFrom(...SCMP_ARCHES)),
      subArchitectures: sometimes(
        fc.option(fc.array(fc.constantFrom(...SCMP_ARCHES), { maxLength: 2 }), { nil: null }),
      ),
    }),
    20,
  );
  const profile = sometimes(
    fc.record({
      defaultAction: fc.oneof({ arbitrary: action, weight: 30 }, fc.constant(""), fc.constant(undefined)),
      defaultErrnoRet: opt(errno),
      architectures: opt(strList(SCMP_ARCHES)),
      archMap: fc.option(sometimes(fc.array(archMapEntry, { maxLength: 3 }), 20), {
        nil: undefined,
        freq: 1,
      }),
      flags: opt(strList(["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])),
      listenerPath: opt(sometimes(fc.constantFrom("", "/run/seccomp.sock"))),
      listenerMetadata: opt(fc.string({ maxLength: 4 })),
      syscalls: sometimes(fc.array(rule, { maxLength: 8 }), 30),
    }, { requiredKeys: ["defaultAction", "syscalls"] }),
    50,
  );
  return { profile, rule };
}
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
const target = fc.record({
  arch: fc.constantFrom(...ARCHES),
  kernel: fc.constantFrom(...KERNELS),
  capabilities: fc.subarray([...CAPS, ...DEFAULT_CAPABILITIES]),
});

// --- conversion -------------------------------------------------------------------------------------

Deno.test("seccomp conversion wasm == ts: moby's default profile on every arch, kernel and cap set", () => {
  for (const arch of ARCHES) {
    for (const kernel of KERNELS) {
      for (const caps of [[], DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, ...CAPS]]) {
        sameConversion(DEFAULT_PROFILE, { arch, kernel, capabilities: caps });
      }
    }
  }
});

Deno.test("seccomp conversion wasm == ts: a -0 (an index, a value, an errno) converts as 0 on both sides", () => {
  // Found by the property below (CI, seed 1954768484): the reference passed -0 through, WASM reads 0.
  const t: SeccompTarget = { arch: "amd64", kernel: "6.1.0-18-amd64", capabilities: [] };
  const arg = { index: -0, value: -0, valueTwo: -0, op: "SCMP_CMP_NE" };
  const p = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: -0,
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_KILL", args: [arg] },
      { names: ["write"], action: "SCMP_ACT_ERRNO", errnoRet: -0 },
    ],
  };
  const r = sameConversion(p, t);
  assert("ok" in r && r.ok, JSON.stringify(r));
  const [read, write] = r.ok.syscalls!;
  assert(Object.is(read.args![0].index, 0) && Object.is(read.args![0].value, 0), JSON.stringify(read));
  assert(Object.is(read.args![0].valueTwo, 0) && Object.is(write.errnoRet, 0), JSON.stringify(write));
  assert(Object.is(r.ok.defaultErrnoRet, 0), JSON.stringify(r.ok));
});

Deno.test("seccomp conversion wasm == ts: generated profiles (valid and malformed), 10 000 cases", () => {
  let converted = 0;
  let rules = 0;
  for (const scale of [1, 30]) {
    fc.assert(
      fc.property(profiles(scale).profile, target, (p, t) => {
        const r = sameConversion(p, t);
        if ("ok" in r && r.ok) {
          converted++;
          rules += r.ok.syscalls?.length ?? 0;
        }
      }),
      { numRuns: 5_000 },
    );
  }
  assert(converted > 2_500 && rules > 1_500, `generator too hostile: ${converted} converted, ${rules} rules`);
});

Deno.test("seccomp conversion wasm == ts: the default profile with rules mutated, 2 000 cases", () => {
  const base = DEFAULT_PROFILE.syscalls!;
  fc.assert(
    fc.property(fc.nat(base.length - 1), profiles(5).rule, target, (i, r, t) => {
      const p = { ...DEFAULT_PROFILE, syscalls: base.map((x, j) => (j === i ? r : x)) };
      sameConversion(p, t);
    }),
    { numRuns: 2_000 },
  );
});

// --- verdicts ---------------------------------------------------------------------------------------

function sameVerdict(
  s: OciSeccomp | undefined,
  call: string | number,
  args: (number | bigint)[],
  arch: string,
) {
  const want = seccompVerdictOracle(s, call, args, arch);
  const got = seccompVerdict(s, call, args, arch);
  if (!isDeepStrictEqual(want, got)) {
    throw new Error(
      `verdict differs for ${call} ${args} on ${arch}\n  ts:   ${JSON.stringify(want)}\n  wasm: ${
        JSON.stringify(got)
      }`,
    );
  }
}

const amd64Names = Object.keys(syscallTable("amd64")!);
const syscall = fc.oneof(
  fc.constantFrom(...amd64Names, ...Object.keys(syscallTable("arm64")!), "no_such_call", ""),
  fc.integer({ min: -2, max: 480 }),
);
const callArgs = fc.array(
  fc.oneof(
    fc.constantFrom(0, 1, 2, 8, 38, 40, 0x10000000, 0x01200011, 0xffffffff, 0x20008, 2 ** 53 - 1, -1, 0.5),
    fc.nat(),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  ),
  { maxLength: 7 },
);

Deno.test("seccomp verdicts wasm == ts: default profile for several targets, 10 000 cases", () => {
  const sections = ["amd64", "arm64", "s390x"].flatMap((arch) =>
    [[], DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]].map((caps) => ({
      arch,
      s: toOciSeccompOracle(DEFAULT_PROFILE, { arch, kernel: "6.1.0", capabilities: caps }),
    }))
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...sections),
      syscall,
      callArgs,
      ({ arch, s }, call, args) => sameVerdict(s, call, args, arch),
    ),
    { numRuns: 10_000 },
  );
});

Deno.test("seccomp verdicts wasm == ts: every syscall of the table, by name and by number", () => {
  for (const arch of ["amd64", "arm64"]) {
    const s = toOciSeccompOracle(DEFAULT_PROFILE, {
      arch,
      kernel: "6.1.0",
      capabilities: DEFAULT_CAPABILITIES,
    });
    for (const [name, nr] of Object.entries(syscallTable(arch)!)) {
      sameVerdict(s, name, [], arch);
      sameVerdict(s, nr, [], arch);
    }
  }
});

const ociSection: fc.Arbitrary<OciSeccomp> = fc.record({
  defaultAction: fc.constantFrom(...SECCOMP_ACTIONS, "SCMP_ACT_WEIRD"),
  defaultErrnoRet: opt(fc.integer({ min: 0, max: 4095 })),
  syscalls: fc.array(
    fc.record({
      names: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }),
      action: fc.constantFrom(...SECCOMP_ACTIONS, "SCMP_ACT_WEIRD"),
      errnoRet: opt(fc.integer({ min: 0, max: 4095 })),
      args: opt(fc.array(
        fc.record({
          index: fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom(-1, 1.5)),
          value: fc.oneof(
            fc.nat(),
            fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
            fc.constantFrom(2 ** 64 + 4096, -5),
          ),
          valueTwo: opt(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))),
          op: fc.constantFrom(...SECCOMP_OPS, "SCMP_CMP_XX"),
        }, { requiredKeys: ["index", "value", "op"] }),
        { maxLength: 3 },
      )),
    }, { requiredKeys: ["names", "action"] }),
    { maxLength: 10 },
  ),
}, { requiredKeys: ["defaultAction", "syscalls"] }) as fc.Arbitrary<OciSeccomp>;

Deno.test("seccomp verdicts wasm == ts: arbitrary OCI sections (odd indexes, unknown ops and actions), 10 000 cases", () => {
  const names = fc.oneof(fc.constantFrom(...NAMES), fc.integer({ min: -1, max: 470 }));
  fc.assert(
    fc.property(
      ociSection,
      names,
      callArgs,
      fc.constantFrom("amd64", "arm64", "s390x"),
      (s, call, args, arch) => sameVerdict(s, call, args, arch),
    ),
    { numRuns: 10_000 },
  );
});

Deno.test("seccomp wasm: no filter allows everything; verdicts name the syscall", () => {
  assertEquals(seccompVerdict(undefined, 39), {
    action: "SCMP_ACT_ALLOW",
    conditional: false,
    known: true,
    name: "getpid",
  });
  const s = toOciSeccomp(DEFAULT_PROFILE, {
    arch: "amd64",
    kernel: "6.1",
    capabilities: DEFAULT_CAPABILITIES,
  });
  assertEquals(seccompVerdict(s, "clone", [0x10000000]).action, "SCMP_ACT_ERRNO");
  assertEquals(seccompVerdict(s, "clone", [0x01200011]).action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, 246).name, "kexec_load");
});
