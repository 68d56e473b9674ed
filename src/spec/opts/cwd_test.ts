import { assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withCwd } from "./cwd.ts";

Deno.test("withCwd: task cwd, else image WorkingDir, else /", () => {
  const spec = baseSpec();
  withCwd(spec, exampleInput({ cwd: "/app/./x/" }));
  assertEquals(spec.process.cwd, "/app/x");
  withCwd(spec, exampleInput());
  assertEquals(spec.process.cwd, "/data");
  withCwd(spec, exampleInput({}, { image: { WorkingDir: "" } }));
  assertEquals(spec.process.cwd, "/");
});
