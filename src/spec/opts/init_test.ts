import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { INIT_TARGET, withInit } from "./init.ts";

Deno.test("withInit: tini mounted read-only and put in front of the args", () => {
  const spec = baseSpec();
  spec.process.args = ["redis-server"];
  withInit(spec, exampleInput());
  assertEquals(spec.process.args, ["redis-server"]);
  withInit(spec, exampleInput({ init: true, init_path: "/opt/tini" }));
  assertEquals(spec.process.args, [INIT_TARGET, "--", "redis-server"]);
  const m = spec.mounts.find((x) => x.destination === INIT_TARGET)!;
  assertEquals(m.source, "/opt/tini");
  assert(m.options!.includes("ro"));
  assertThrows(() => exampleInput({ init_path: "tini" }), ConfigError, "init_path");
});
