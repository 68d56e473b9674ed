import { assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { DEFAULT_CONTEXTS, taskSelinux } from "../selinux.ts";
import { baseSpec } from "./base.ts";
import { withSelinux } from "./selinux.ts";
import { buildSpec } from "../build.ts";

const LEVEL = "s0:c1,c2";
const labels = (cfg: Record<string, boolean>, level?: string) => {
  const spec = baseSpec();
  withSelinux(spec, exampleInput(cfg, { selinux: taskSelinux(DEFAULT_CONTEXTS, level) }));
  return [spec.process.selinuxLabel, spec.linux.mountLabel];
};

Deno.test("withSelinux: a confined task gets its process and mount labels", () => {
  assertEquals(labels({}, LEVEL), [
    "system_u:system_r:container_t:s0:c1,c2",
    "system_u:object_r:container_file_t:s0:c1,c2",
  ]);
});

Deno.test("withSelinux: nothing when SELinux is off, the task unconfined or privileged", () => {
  const spec = baseSpec();
  withSelinux(spec, exampleInput());
  assertEquals([spec.process.selinuxLabel, spec.linux.mountLabel], [undefined, undefined]);
  assertEquals(labels({}), [undefined, undefined]);
  assertEquals(labels({ privileged: true }, LEVEL), [undefined, undefined]);
});

Deno.test("buildSpec: the labels reach the spec through SPEC_OPTS", () => {
  const spec = buildSpec(exampleInput({}, { selinux: taskSelinux(DEFAULT_CONTEXTS, LEVEL) }));
  assertEquals(spec.process.selinuxLabel, "system_u:system_r:container_t:s0:c1,c2");
  assertEquals(spec.linux.mountLabel, "system_u:object_r:container_file_t:s0:c1,c2");
});
