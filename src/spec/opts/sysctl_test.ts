import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withSysctl } from "./sysctl.ts";

Deno.test("withSysctl: the task's namespaced sysctls, merged from Nomad's list of maps", () => {
  const spec = baseSpec();
  withSysctl(spec, exampleInput());
  assertEquals(spec.linux.sysctl, undefined);
  withSysctl(spec, exampleInput({ sysctl: [{ "net.core.somaxconn": "16384" }, { "kernel.shmmax": 1024 }] }));
  assertEquals(spec.linux.sysctl, { "net.core.somaxconn": "16384", "kernel.shmmax": "1024" });
  assert(
    assertThrows(() => exampleInput({ sysctl: [{ "kernel.panic": "1" }] }), ConfigError) instanceof
      ConfigError,
  );
});
