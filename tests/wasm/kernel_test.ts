/**
 * The kernel agrees with the WASM evaluator: containers run with Docker's default profile and with a
 * custom one try a fixed set of syscalls (through busybox applets); every observed success or errno is
 * what seccompVerdict says. Each applet is mapped to the syscalls it may use (libc picks, e.g. mkdir
 * or mkdirat), and the profiles treat such a group alike, so the expectation is never ambiguous.
 *
 * Needs the test containerd (run through ./scripts/test.sh tests/wasm); ignored otherwise.
 */
import { assert, assertEquals } from "../harness/assert.ts";
import { DEFAULT_CAPABILITIES } from "../../src/spec/capabilities.ts";
import { DEFAULT_PROFILE, seccompVerdict, toOciSeccomp } from "../../src/spec/seccomp.ts";
import { type SpecSuite, specTest } from "../spec/suite.ts";

/** applet command → the syscalls it may make for its one job */
const PROBES: [string, string, string[]][] = [
  ["mkdir", "mkdir /tmp/d", ["mkdir", "mkdirat"]],
  ["rmdir", "mkdir -p /tmp/r 2>/dev/null; rmdir /tmp/r", ["rmdir", "unlinkat"]],
  ["chmod", "touch /tmp/f; chmod 600 /tmp/f", ["chmod", "fchmodat", "fchmodat2"]],
  ["symlink", "ln -s /tmp/f /tmp/l", ["symlink", "symlinkat"]],
  ["unshare", "unshare -U /bin/true", ["unshare"]],
  ["sethostname", "hostname probe-name", ["sethostname"]],
  ["chroot", "chroot / /bin/true", ["chroot"]],
];

const ERRNO_TEXT: Record<number, RegExp> = {
  1: /Operation not permitted/,
  13: /Permission denied/,
  38: /Function not implemented/,
};

const CUSTOM = {
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [
    { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" },
    // seccomp answers before the kernel looks for the directory (mkdir is refused here, so it is absent)
    { names: ["rmdir", "unlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    { names: ["symlink", "symlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    { names: ["chroot"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
    { names: ["sethostname"], action: "SCMP_ACT_ALLOW" },
  ],
};

const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";

const NAME = "kernel vs WASM evaluator: observed EPERM/ENOSYS/success match the verdicts";

async function kernelAgrees(s: SpecSuite, t: Deno.TestContext): Promise<void> {
  const script = PROBES.map(([name, cmd]) =>
    `${cmd} >/tmp/${name}.out 2>&1; echo "${name}=$? $(cat /tmp/${name}.out)"`
  ).join("\n");
  for (
    const [label, profile, config] of [
      ["Docker's default profile", DEFAULT_PROFILE, {}],
      ["a custom profile", CUSTOM, { seccomp_profile: "seccomp.json" }],
    ] as const
  ) {
    await t.step(label, async () => {
      const oci = toOciSeccomp(profile, {
        arch,
        kernel: Deno.osRelease(),
        capabilities: DEFAULT_CAPABILITIES,
      });
      const r = await s.sh(script, {
        config,
        prepare: (task) => Deno.writeTextFile(`${task.taskDir}/seccomp.json`, JSON.stringify(profile)),
      });
      const lines = Object.fromEntries(
        r.out.split("\n").filter((l) => l.includes("=")).map((l) => {
          const i = l.indexOf("=");
          return [l.slice(0, i), l.slice(i + 1)];
        }),
      );
      let deniedSeen = 0;
      let allowedSeen = 0;
      for (const [name, , calls] of PROBES) {
        const verdicts = calls.map((c) => seccompVerdict(oci, c, [], arch)).filter((v) => v.known);
        const denied = verdicts.filter((v) => v.action === "SCMP_ACT_ERRNO");
        // the profiles treat each group alike: all denied with one errno, or none denied
        assert(denied.length === 0 || denied.length === verdicts.length, `${name}: ambiguous group`);
        assert(new Set(denied.map((v) => v.errno)).size <= 1, `${name}: errnos differ in the group`);
        const seen = lines[name];
        assert(seen !== undefined, `${name}: no output in ${r.out}`);
        if (denied.length === 0) {
          // Not refused by seccomp; sethostname and chroot need capabilities the default set may lack,
          // and those refusals are the kernel's capability checks, not the filter's.
          if (name === "sethostname" || name === "chroot") continue;
          assert(seen.startsWith("0 "), `${label}: ${name} should succeed: ${seen}`);
          allowedSeen++;
        } else {
          const errno = denied[0].errno!;
          assert(!seen.startsWith("0 "), `${label}: ${name} should fail with errno ${errno}: ${seen}`);
          assert(ERRNO_TEXT[errno].test(seen), `${label}: ${name}: errno ${errno} expected, saw: ${seen}`);
          deniedSeen++;
        }
      }
      assert(deniedSeen >= 1 && allowedSeen >= 1, `${label}: ${deniedSeen} denied, ${allowedSeen} allowed`);
      assertEquals(typeof r.exit.exitCode, "number");
    });
  }
}

// Needs the run's containerd (./scripts/test.sh); without it the suite fails with that message.
specTest(NAME, kernelAgrees);
