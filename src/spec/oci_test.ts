import { assertEquals } from "../../tests/harness/assert.ts";
import { type OciSpec, specJson, U64_MAX } from "./oci.ts";

Deno.test("specJson writes bigints as plain integers (RLIM_INFINITY) and leaves strings alone", () => {
  const spec = {
    process: {
      rlimits: [{ type: "RLIMIT_MEMLOCK", soft: U64_MAX, hard: 1n }],
      env: ["X=\u0000bigint0\u0000"],
    },
  } as unknown as OciSpec;
  const json = specJson(spec);
  assertEquals(
    json,
    `{"process":{"rlimits":[{"type":"RLIMIT_MEMLOCK","soft":18446744073709551615,"hard":1}],"env":["X=\\u0000bigint0\\u0000"]}}`,
  );
});

Deno.test("specJson matches JSON.stringify when there are no bigints, indented or not", () => {
  const v = { a: [1, "x", { b: null, c: undefined, d: [] }], e: {}, f: true } as unknown as OciSpec;
  assertEquals(specJson(v), JSON.stringify(v));
  assertEquals(specJson(v, 2), JSON.stringify(v, null, 2));
});
