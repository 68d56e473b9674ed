import { assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withOomScoreAdj } from "./oom.ts";

Deno.test("withOomScoreAdj: only when Nomad set one, clamped to -1000..1000", () => {
  const spec = baseSpec();
  withOomScoreAdj(spec, exampleInput());
  assertEquals(spec.process.oomScoreAdj, undefined);
  const i = exampleInput();
  i.nomad.resources.oomScoreAdj = 1500;
  withOomScoreAdj(spec, i);
  assertEquals(spec.process.oomScoreAdj, 1000);
  i.nomad.resources.oomScoreAdj = -5;
  withOomScoreAdj(spec, i);
  assertEquals(spec.process.oomScoreAdj, -5);
});
