import { assertEquals } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import { cleanPath, isIP, isIPv4, isIPv6, isWithin, pathDepth } from "./checks.ts";

Deno.test("isIPv4/isIPv6", () => {
  for (const ok of ["0.0.0.0", "255.255.255.255", "10.1.2.3"]) assertEquals(isIPv4(ok), true, ok);
  for (const bad of ["256.1.1.1", "1.2.3", "01.2.3.4", "a.b.c.d", ""]) assertEquals(isIPv4(bad), false, bad);
  for (const ok of ["::", "::1", "fe80::1", "2001:db8:0:0:0:0:2:1", "::ffff:10.0.0.1", "1:2:3:4:5:6:7::"]) {
    assertEquals(isIPv6(ok), true, ok);
  }
  for (const bad of ["1:2:3", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "::1%eth0"]) {
    assertEquals(isIPv6(bad), false, bad);
  }
  assertEquals(isIP("::1"), true);
});

Deno.test("isIPv4 agrees with the dotted-quad rendering of any 32-bit number", () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (b) => {
    assertEquals(isIPv4(b.join(".")), true);
    assertEquals(isIPv6(`::ffff:${b.join(".")}`), true);
  }));
});

Deno.test("cleanPath, isWithin, pathDepth", () => {
  assertEquals(cleanPath("/a/./b/../c//d/"), "/a/c/d");
  assertEquals(cleanPath("/../.."), "/");
  assertEquals(cleanPath("a/../../b"), "../b");
  assertEquals(isWithin("/alloc/../etc/passwd", "/alloc"), false);
  assertEquals(isWithin("/alloc/data/x", "/alloc/"), true);
  assertEquals(isWithin("/allocx", "/alloc"), false);
  assertEquals(pathDepth("/"), 0);
  assertEquals(pathDepth("/dev/shm"), 2);
});

Deno.test("cleanPath is idempotent and never keeps '..' in absolute paths", () => {
  fc.assert(fc.property(fc.array(fc.constantFrom("a", "b", ".", "..", ""), { maxLength: 10 }), (segs) => {
    const p = "/" + segs.join("/");
    const c = cleanPath(p);
    assertEquals(cleanPath(c), c);
    assertEquals(c.split("/").includes(".."), false);
  }));
});
