import { assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { effectiveUser, resolveUser, withUser } from "./user.ts";

const passwd =
  "root:x:0:0:root:/root:/bin/sh\nredis:x:999:1000::/data:/bin/sh\n# comment\nnobody:x:65534:65534::/nonexistent:/bin/false\n";
const group = "root:x:0:\ndisk:x:6:redis,other\nredis:x:1000:\nstaff:x:50:redis\n";

Deno.test("resolveUser: names, numbers, groups and supplementary groups as Docker resolves them", () => {
  assertEquals(resolveUser("redis", passwd, group), {
    uid: 999,
    gid: 1000,
    additionalGids: [6, 50],
    home: "/data",
  });
  assertEquals(resolveUser("", passwd, group), { uid: 0, gid: 0, additionalGids: [], home: "/root" });
  assertEquals(resolveUser("1234", passwd, group), { uid: 1234, gid: 0, additionalGids: [], home: "/" });
  assertEquals(resolveUser("redis:staff", passwd, group), {
    uid: 999,
    gid: 50,
    additionalGids: [],
    home: "/data",
  });
  assertEquals(resolveUser("999:77", passwd, group), {
    uid: 999,
    gid: 77,
    additionalGids: [],
    home: "/data",
  });
  assertEquals(
    assertThrows(() => resolveUser("ghost", passwd, group), ConfigError).message,
    'task "user": "ghost" is not in the image\'s /etc/passwd; use a user the image has, or a numeric uid',
  );
  assertThrows(() => resolveUser("redis:nogroup", passwd, group), ConfigError, "/etc/group");
  assertThrows(() => resolveUser("a:b:c", passwd, group), ConfigError);
});

Deno.test("withUser: resolved user, numeric users, and names without resolution", () => {
  assertEquals(effectiveUser({ user: "" }, { User: "redis" }), "redis");
  assertEquals(effectiveUser({ user: "nobody" }, { User: "redis" }), "nobody");
  const spec = baseSpec();
  withUser(spec, exampleInput({}, { resolvedUser: { uid: 999, gid: 1000, additionalGids: [6] } }));
  assertEquals(spec.process.user, { uid: 999, gid: 1000, additionalGids: [6] });
  const numeric = exampleInput({}, { resolvedUser: undefined });
  numeric.nomad.user = "1000:1000";
  withUser(spec, numeric);
  assertEquals(spec.process.user, { uid: 1000, gid: 1000 });
  const named = exampleInput({}, { resolvedUser: undefined, image: { User: "redis" } });
  assertEquals((assertThrows(() => withUser(spec, named), ConfigError) as ConfigError).option, "user");
});
