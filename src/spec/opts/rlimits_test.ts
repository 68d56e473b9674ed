import { assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withRlimits } from "./rlimits.ts";
import { U64_MAX } from "../oci.ts";

Deno.test("withRlimits: default nofile 1024:1024, ulimit entries override and add", () => {
  const spec = baseSpec();
  withRlimits(spec, exampleInput());
  assertEquals(spec.process.rlimits, [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }]);
  withRlimits(spec, exampleInput({ ulimit: [{ nofile: "4096:8192", memlock: "-1" }] }));
  assertEquals(spec.process.rlimits, [
    { type: "RLIMIT_NOFILE", soft: 4096, hard: 8192 },
    { type: "RLIMIT_MEMLOCK", soft: U64_MAX, hard: U64_MAX },
  ]);
  assertThrows(() => exampleInput({ ulimit: [{ nofile: "a:b" }] }), ConfigError, "ulimit.nofile");
});
