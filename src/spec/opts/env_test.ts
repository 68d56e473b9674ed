import { assert, assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { DEFAULT_PATH, mergeEnv, withEnv } from "./env.ts";

Deno.test("mergeEnv: Nomad wins over the image, first-seen order kept, malformed entries skipped", () => {
  assertEquals(mergeEnv(["A=1", "B=2", "junk", "A=3"], { B: "x=y", C: "" }), ["A=3", "B=x=y", "C="]);
});

Deno.test("withEnv: PATH defaulted, HOME from the resolved user unless set", () => {
  const spec = baseSpec();
  withEnv(spec, exampleInput({}, { image: { Env: ["FOO=1"] } }));
  assertEquals(spec.process.env[0], `PATH=${DEFAULT_PATH}`);
  assert(spec.process.env.includes("FOO=1"));
  assert(spec.process.env.includes("HOME=/root"));
  const withHome = exampleInput();
  withHome.nomad.env = { HOME: "/srv", PATH: "/bin" };
  withEnv(spec, withHome);
  assert(spec.process.env.includes("HOME=/srv") && !spec.process.env.includes("HOME=/root"));
  assertEquals(spec.process.env.filter((e) => e.startsWith("PATH=")), ["PATH=/bin"]);
});
