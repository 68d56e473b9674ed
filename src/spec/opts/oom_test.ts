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

Deno.test("withOomScoreAdj: the task's oom_score_adj wins over Nomad's", () => {
  const spec = baseSpec();
  const i = exampleInput({ oom_score_adj: 300 });
  i.nomad.resources.oomScoreAdj = -5;
  withOomScoreAdj(spec, i);
  assertEquals(spec.process.oomScoreAdj, 300);
  const zero = baseSpec();
  withOomScoreAdj(zero, exampleInput({ oom_score_adj: 0 }));
  assertEquals(zero.process.oomScoreAdj, 0);
});
