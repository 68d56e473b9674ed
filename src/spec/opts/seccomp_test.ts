import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withSeccomp } from "./seccomp.ts";
import { withCapabilities } from "./capabilities.ts";
import { seccompVerdict } from "../seccomp.ts";

const build = (i: ReturnType<typeof exampleInput>) => {
  const spec = baseSpec();
  withCapabilities(spec, i);
  withSeccomp(spec, i);
  return spec;
};

Deno.test("withSeccomp: default profile on; off with seccomp=false or privileged", () => {
  const s = build(exampleInput()).linux.seccomp;
  assertEquals(s?.defaultAction, "SCMP_ACT_ERRNO");
  assertEquals(seccompVerdict(s, "unshare").action, "SCMP_ACT_ERRNO");
  assertEquals(build(exampleInput({ seccomp: false })).linux.seccomp, undefined);
  assertEquals(build(exampleInput({ privileged: true })).linux.seccomp, undefined);
});

Deno.test("withSeccomp: follows the final capabilities (cap_add SYS_ADMIN allows unshare)", () => {
  const s = build(exampleInput({ cap_add: ["SYS_ADMIN"] })).linux.seccomp;
  assertEquals(seccompVerdict(s, "unshare").action, "SCMP_ACT_ALLOW");
});

Deno.test("withSeccomp: a custom profile, and errors naming seccomp_profile", () => {
  const profile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
  };
  const i = exampleInput({ seccomp_profile: "/etc/p.json" }, { seccompProfile: profile });
  assertEquals(seccompVerdict(build(i).linux.seccomp, "mkdir").action, "SCMP_ACT_ERRNO");
  const notLoaded = exampleInput({ seccomp_profile: "/etc/p.json" });
  assertEquals((assertThrows(() => build(notLoaded), ConfigError) as ConfigError).option, "seccomp_profile");
  const bad = exampleInput({ seccomp_profile: "/etc/p.json" }, { seccompProfile: { defaultAction: "NOPE" } });
  const e = assertThrows(() => build(bad), ConfigError);
  assert(
    e.message.startsWith(
      'task config "seccomp_profile": "/etc/p.json" is not a usable Docker seccomp profile: $.defaultAction',
    ),
    e.message,
  );
});
