import { assert, assertEquals, assertNotEquals } from "../../tests/harness/assert.ts";
import { Selinux } from "./selinux.ts";

Deno.test("Selinux levels: an allocation's tasks share one; other allocations get others", () => {
  const se = new Selinux(true);
  const a1 = se.takeLevel("alloc-a");
  assert(/^s0:c(\d+),c(\d+)$/.test(a1), a1);
  assertEquals(se.takeLevel("alloc-a"), a1, "second task of the same alloc");
  const b = se.takeLevel("alloc-b");
  assertNotEquals(b, a1);
  // The level stays while any task of the alloc holds it.
  se.releaseLevel("alloc-a");
  assertEquals(se.levelOf("alloc-a"), a1);
  se.releaseLevel("alloc-a");
  assertEquals(se.levelOf("alloc-a"), undefined);
  assertEquals(se.levelOf("alloc-b"), b);
  se.releaseLevel("alloc-unknown"); // nothing held: no effect
  assertEquals(se.levelOf("alloc-b"), b);
});

Deno.test("Selinux levels: recovered tasks hold their level again; new allocations avoid it", () => {
  const se = new Selinux(true);
  se.holdLevel("alloc-r", "s0:c1,c2");
  se.holdLevel("alloc-r", "s0:c1,c2");
  assertEquals(se.takeLevel("alloc-r"), "s0:c1,c2");
  const seen = new Set<string>(["s0:c1,c2"]);
  for (let i = 0; i < 2000; i++) {
    const l = se.takeLevel(`alloc-${i}`);
    assert(!seen.has(l), `level ${l} given twice`);
    seen.add(l);
  }
  for (let i = 0; i < 3; i++) se.releaseLevel("alloc-r");
  assertEquals(se.levelOf("alloc-r"), undefined);
});
