import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withPrivileged } from "./privileged.ts";

Deno.test("withPrivileged: unmasks /proc and /sys, allows new privileges; refused by policy", () => {
  const spec = baseSpec();
  withPrivileged(spec, exampleInput());
  assertEquals(spec.process.noNewPrivileges, true);
  assert(spec.linux.maskedPaths!.length > 0);
  withPrivileged(spec, exampleInput({ privileged: true }));
  assertEquals(spec.process.noNewPrivileges, false);
  assertEquals(spec.linux.maskedPaths, []);
  assertEquals(spec.linux.readonlyPaths, []);
  const denied = exampleInput({ privileged: true }, {
    plugin: { allowPrivileged: false, volumesEnabled: true },
  });
  assertEquals(
    assertThrows(() => withPrivileged(baseSpec(), denied), ConfigError).message,
    `task config "privileged": true is not allowed on this node: the plugin's "allow_privileged" is false`,
  );
});
