import fc from "fast-check";
import { assertEquals } from "../../tests/harness/assert.ts";
import { concatBytes } from "./bytes.ts";

Deno.test("concatBytes: the chunks in order, nothing else", () => {
  assertEquals(concatBytes([]), new Uint8Array());
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (parts) => {
      assertEquals([...concatBytes(parts)], parts.flatMap((p) => [...p]));
    }),
    { numRuns: 500 },
  );
});
