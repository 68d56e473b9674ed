import { assert, assertEquals } from "../../../tests/harness/assert.ts";
import { baseSpec, MASKED_PATHS } from "./base.ts";

Deno.test("baseSpec: Docker's masked and read-only paths, no new privileges, fresh each time", () => {
  const a = baseSpec();
  assertEquals(a.linux.maskedPaths, [...MASKED_PATHS]);
  assert(a.linux.readonlyPaths!.includes("/proc/sys"));
  assertEquals(a.process.noNewPrivileges, true);
  a.linux.maskedPaths!.push("/x");
  assertEquals(baseSpec().linux.maskedPaths!.length, MASKED_PATHS.length);
});
