import { assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withUser } from "./user.ts";
import { resolveGroups, withGroupAdd } from "./groups.ts";

const GROUP = "root:x:0:\naudio:x:29:\n# comment\nvideo:x:44:\n";

Deno.test("resolveGroups: names from /etc/group, numbers as they are", () => {
  assertEquals(resolveGroups(["audio", "1234", "video"], GROUP), [29, 1234, 44]);
  const e = assertThrows(() => resolveGroups(["audio", "nosuch"], GROUP), ConfigError) as ConfigError;
  assertEquals(
    e.message,
    `task config "group_add[1]": "nosuch" is not in the image's /etc/group; use a group the image has, or a numeric gid`,
  );
});

Deno.test("withGroupAdd: appended after the user's groups, without repeats or the primary gid", () => {
  const i = exampleInput({ group_add: ["audio", "7", "0"] }, {
    resolvedUser: { uid: 999, gid: 0, additionalGids: [7] },
    resolvedGroups: [29, 7, 0],
  });
  const spec = baseSpec();
  withUser(spec, i);
  withGroupAdd(spec, i);
  assertEquals(spec.process.user, { uid: 999, gid: 0, additionalGids: [7, 29] });
  // numbers need no image file; a name without resolution is the driver's bug, said clearly
  const n = exampleInput({ group_add: ["100"] });
  const s2 = baseSpec();
  withUser(s2, n);
  withGroupAdd(s2, n);
  assertEquals(s2.process.user.additionalGids, [100]);
  const named = exampleInput({ group_add: ["audio"] });
  assertThrows(() => withGroupAdd(baseSpec(), named), ConfigError, "needs the image's /etc/group");
});
