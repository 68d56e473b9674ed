import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import { ruleMatches } from "../../tests/oracles/seccomp.ts";
import {
  DEFAULT_PROFILE,
  SeccompProfileError,
  seccompVerdict,
  syscallTable,
  toOciSeccomp,
} from "./seccomp.ts";
import { DEFAULT_CAPABILITIES } from "./capabilities.ts";
import type { OciSeccomp } from "./oci.ts";

const amd64 = (caps: readonly string[] = DEFAULT_CAPABILITIES, kernel = "6.1.0-18-amd64") =>
  toOciSeccomp(DEFAULT_PROFILE, { arch: "amd64", kernel, capabilities: caps })!;

Deno.test("default profile on amd64: arches, default action, arch- and cap-conditional rules", () => {
  const s = amd64();
  assertEquals(s.defaultAction, "SCMP_ACT_ERRNO");
  assertEquals(s.defaultErrnoRet, 1);
  assertEquals(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const names = s.syscalls!.flatMap((r) => r.names);
  assert(names.includes("arch_prctl"), "amd64-only rule kept");
  assert(!names.includes("sync_file_range2"), "ppc64le-only rule dropped");
  assert(!names.includes("mount"), "CAP_SYS_ADMIN rule dropped without the cap");
  assertEquals(seccompVerdict(s, "mount").action, "SCMP_ACT_ERRNO");
  assertEquals(seccompVerdict(s, "clone3"), {
    action: "SCMP_ACT_ERRNO",
    errno: 38,
    rule: s.syscalls!.findIndex((r) => r.names.includes("clone3")),
    conditional: false,
    known: true,
    name: "clone3",
  });
});

Deno.test("default profile with CAP_SYS_ADMIN: mount and clone3 allowed, the clone arg filter gone", () => {
  const s = amd64([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
  assertEquals(seccompVerdict(s, "mount").action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, "clone3").action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, "clone", [0x10000000]).action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, "clone").conditional, false);
});

Deno.test("default profile: argument filters (clone namespace flags, personality, socket families)", () => {
  const s = amd64();
  assertEquals(seccompVerdict(s, "clone", [0x01200011]).action, "SCMP_ACT_ALLOW"); // fork-like flags
  assertEquals(seccompVerdict(s, "clone", [0x10000000]).action, "SCMP_ACT_ERRNO"); // CLONE_NEWUSER
  assertEquals(seccompVerdict(s, "personality", [8]).action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, "personality", [1]).action, "SCMP_ACT_ERRNO");
  assertEquals(seccompVerdict(s, "personality", [0xffffffff]).action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(s, "socket", [2]).action, "SCMP_ACT_ALLOW"); // AF_INET
  assertEquals(seccompVerdict(s, "socket", [38]).action, "SCMP_ACT_ERRNO"); // AF_ALG
  assertEquals(seccompVerdict(s, "socket", [40]).action, "SCMP_ACT_ERRNO"); // AF_VSOCK
  assertEquals(seccompVerdict(s, "socket", [40]).conditional, true);
});

Deno.test("default profile: minKernel 4.8 gates ptrace", () => {
  assertEquals(
    seccompVerdict(amd64(DEFAULT_CAPABILITIES, "4.4.0-210-generic"), "ptrace").action,
    "SCMP_ACT_ERRNO",
  );
  assertEquals(seccompVerdict(amd64(DEFAULT_CAPABILITIES, "4.8"), "ptrace").action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(amd64(DEFAULT_CAPABILITIES, "5.0.1"), "ptrace").action, "SCMP_ACT_ALLOW");
});

Deno.test("default profile on arm64: arm arches and the arm-only rule", () => {
  const s = toOciSeccomp(DEFAULT_PROFILE, {
    arch: "aarch64",
    kernel: "6.1",
    capabilities: DEFAULT_CAPABILITIES,
  })!;
  assertEquals(s.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  assert(s.syscalls!.some((r) => r.names.includes("set_tls")));
  assertEquals(seccompVerdict(s, 172, [], "arm64").name, "getpid");
  assertEquals(seccompVerdict(s, "open", [], "arm64").known, false);
});

Deno.test("the converted default profile names each unconditional syscall once, and no rule twice per action", () => {
  for (
    const caps of [DEFAULT_CAPABILITIES, [
      ...DEFAULT_CAPABILITIES,
      "CAP_SYS_ADMIN",
      "CAP_SYS_PTRACE",
      "CAP_BPF",
    ]]
  ) {
    for (const arch of ["amd64", "arm64", "s390x", "ppc64le"]) {
      const s = toOciSeccomp(DEFAULT_PROFILE, { arch, kernel: "6.1", capabilities: caps })!;
      const seen = new Map<string, string>();
      for (const r of s.syscalls!) {
        const key = (n: string) => `${n} ${r.action} ${JSON.stringify(r.args ?? [])}`;
        for (const n of r.names) {
          assert(!seen.has(key(n)), `${arch}: ${n} twice for ${r.action}`);
          seen.set(key(n), r.action);
          if (!r.args) {
            assert(!seen.has(`${n} unconditional`), `${arch}: ${n} unconditional twice`);
            seen.set(`${n} unconditional`, r.action);
          }
        }
      }
    }
  }
});

Deno.test("toOciSeccomp: bad profiles are SeccompProfileErrors with a JSON path", () => {
  const t = { arch: "amd64", kernel: "6.1", capabilities: [] };
  const bad: [unknown, string][] = [
    [[], "$: is not a JSON object"],
    [{ defaultAction: "SCMP_ACT_MAYBE" }, '$.defaultAction: "SCMP_ACT_MAYBE" is not one of'],
    [{
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      archMap: [{ architecture: "x" }],
    }, "has both"],
    [
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ name: "a", names: ["b"], action: "SCMP_ACT_ALLOW" }] },
      "$.syscalls[0]: has both",
    ],
    [{
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4" } }],
    }, "minKernel"],
    [{
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{
        names: ["a"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 7, value: 1, op: "SCMP_CMP_EQ" }],
      }],
    }, "$.syscalls[0].args[0].index"],
    [{
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ names: ["a"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "EQ" }] }],
    }, "$.syscalls[0].args[0].op"],
    [
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: [1], action: "SCMP_ACT_ALLOW" }] },
      "$.syscalls[0].names: is not a list of strings",
    ],
  ];
  for (const [p, part] of bad) {
    const e = assertThrows(() => toOciSeccomp(p, t), SeccompProfileError);
    assert(e.message.includes(part), `${e.message} lacks ${part}`);
  }
  assertEquals(toOciSeccomp({}, t), undefined);
});

Deno.test("toOciSeccomp: a custom profile with `architectures`, `name`, errnoRet and flags", () => {
  const s = toOciSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG"],
    syscalls: [{ name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 13 }, {
      names: ["getpid"],
      action: "SCMP_ACT_KILL",
    }],
  }, { arch: "amd64", kernel: "6.1", capabilities: [] })!;
  assertEquals(s, {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG"],
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }, {
      names: ["getpid"],
      action: "SCMP_ACT_KILL",
    }],
  });
  assertEquals(seccompVerdict(s, "mkdir"), {
    action: "SCMP_ACT_ERRNO",
    errno: 13,
    rule: 0,
    conditional: false,
    known: true,
    name: "mkdir",
  });
  assertEquals(seccompVerdict(s, 39).action, "SCMP_ACT_KILL");
  assertEquals(seccompVerdict(s, "rmdir").action, "SCMP_ACT_ALLOW");
  assertEquals(seccompVerdict(undefined, "mkdir").action, "SCMP_ACT_ALLOW");
});

Deno.test("ruleMatches: runc ANDs conditions on distinct args and ORs them when an arg repeats", () => {
  const r = { names: ["x"], action: "SCMP_ACT_ALLOW" };
  const and = {
    ...r,
    args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }, { index: 1, value: 2, op: "SCMP_CMP_EQ" }],
  };
  assertEquals(ruleMatches(and, [1, 2]), true);
  assertEquals(ruleMatches(and, [1, 3]), false);
  const or = {
    ...r,
    args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }, { index: 0, value: 2, op: "SCMP_CMP_EQ" }],
  };
  assertEquals(ruleMatches(or, [2]), true);
  assertEquals(ruleMatches(or, [3]), false);
  const masked = { ...r, args: [{ index: 0, value: 0xf0, valueTwo: 0x10, op: "SCMP_CMP_MASKED_EQ" }] };
  assertEquals(ruleMatches(masked, [0x1f]), true);
  assertEquals(ruleMatches(masked, [0x2f]), false);
  const big = { ...r, args: [{ index: 0, value: 2n ** 63n, op: "SCMP_CMP_GE" }] };
  assertEquals(ruleMatches(big, [-1]), true, "negative args compare as unsigned 64-bit");
});

/** An independent reading of the OCI rules, for the property below. */
function reference(s: OciSeccomp, name: string, args: number[]): string {
  const rank = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_NOTIFY",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRAP",
  ];
  const matching = (s.syscalls ?? []).filter((r) => r.names.includes(name) && ruleMatches(r, args)).map((r) =>
    r.action
  );
  if (matching.length === 0) return s.defaultAction;
  const kill = matching.find((a) => a.startsWith("SCMP_ACT_KILL"));
  if (kill) return matching.includes("SCMP_ACT_KILL_PROCESS") ? "SCMP_ACT_KILL_PROCESS" : kill;
  return matching.sort((a, b) => rank.indexOf(b) - rank.indexOf(a))[0];
}

Deno.test("seccompVerdict agrees with the OCI rules for random syscalls, names or numbers, and args", () => {
  const table = syscallTable("amd64")!;
  const names = Object.keys(table);
  const profiles = [amd64(), amd64([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"])];
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(...names, "clone", "socket", "personality"), fc.string({ maxLength: 12 })),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(8, 0x10000000, 0xffffffff)), {
        maxLength: 3,
      }),
      fc.constantFrom(0, 1),
      (name, args, p) => {
        const s = profiles[p];
        const v = seccompVerdict(s, name, args);
        if (!(name in table)) {
          assertEquals(v.known, false);
          assertEquals(v.action, s.defaultAction);
          return;
        }
        assertEquals(v.action, reference(s, name, args), name);
        const byNumber = seccompVerdict(s, table[name], args);
        assertEquals(byNumber.action, v.action);
        if (v.rule !== undefined) assert(s.syscalls![v.rule].names.includes(name));
        if (v.action === "SCMP_ACT_ERRNO") assert(typeof v.errno === "number");
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("toOciSeccomp: arbitrary JSON gives a section, undefined or a SeccompProfileError", () => {
  const action = fc.constantFrom("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "bogus");
  const rule = fc.record({
    names: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.anything()),
    action,
    errnoRet: fc.oneof(fc.integer({ min: -2, max: 5000 }), fc.constant(undefined)),
    args: fc.oneof(
      fc.constant(undefined),
      fc.array(
        fc.record({
          index: fc.integer({ min: -1, max: 7 }),
          value: fc.anything(),
          op: fc.constantFrom("SCMP_CMP_EQ", "x"),
        }),
        { maxLength: 2 },
      ),
    ),
    includes: fc.oneof(
      fc.constant(undefined),
      fc.record({ caps: fc.anything(), minKernel: fc.oneof(fc.constant("4.8"), fc.string()) }),
    ),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.anything(),
        fc.record({ defaultAction: action, syscalls: fc.array(rule, { maxLength: 4 }) }, {
          requiredKeys: [],
        }),
      ),
      (p) => {
        try {
          toOciSeccomp(p, { arch: "amd64", kernel: "6.1", capabilities: [] });
        } catch (e) {
          if (!(e instanceof SeccompProfileError)) throw e;
        }
      },
    ),
    { numRuns: 2000 },
  );
});
