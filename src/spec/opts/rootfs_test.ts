import { assert, assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withRootfs } from "./rootfs.ts";

Deno.test("withRootfs: readonly_rootfs", () => {
  const spec = baseSpec();
  withRootfs(spec, exampleInput({ readonly_rootfs: true }));
  assertEquals(spec.root, { path: "rootfs", readonly: true });
  withRootfs(spec, exampleInput());
  assertEquals(spec.root, { path: "rootfs" });
  assert(!("readonly" in spec.root));
});
