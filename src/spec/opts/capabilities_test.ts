import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withCapabilities } from "./capabilities.ts";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../capabilities.ts";
import { ConfigError } from "../../schema/values.ts";

Deno.test("withCapabilities: Docker defaults, cap_add/cap_drop, privileged, host's last cap", () => {
  const spec = baseSpec();
  withCapabilities(spec, exampleInput());
  assertEquals(spec.process.capabilities?.bounding, [...DEFAULT_CAPABILITIES]);
  assertEquals(spec.process.capabilities?.effective, [...DEFAULT_CAPABILITIES]);
  assertEquals(spec.process.capabilities?.inheritable, undefined);
  withCapabilities(spec, exampleInput({ cap_add: ["net_admin"], cap_drop: ["NET_RAW"] }));
  const b = spec.process.capabilities!.bounding!;
  assert(b.includes("CAP_NET_ADMIN") && !b.includes("CAP_NET_RAW"));
  withCapabilities(spec, exampleInput({ cap_drop: ["ALL"], cap_add: ["CHOWN"] }));
  assertEquals(spec.process.capabilities?.permitted, ["CAP_CHOWN"]);
  const priv = exampleInput({ privileged: true });
  priv.host.lastCap = 37;
  withCapabilities(spec, priv);
  assertEquals(spec.process.capabilities?.bounding?.length, 38);
});

Deno.test("withCapabilities: privileged and ALL get what the runtime can grant; cap_add of another is refused", () => {
  const grantable = ALL_CAPABILITIES.filter((c) => c !== "CAP_SYS_RESOURCE");
  const spec = baseSpec();
  const priv = exampleInput({ privileged: true });
  priv.host.grantableCaps = grantable;
  withCapabilities(spec, priv);
  assertEquals(spec.process.capabilities?.effective, grantable);
  const all = exampleInput({ cap_add: ["ALL"], cap_drop: ["NET_RAW"] });
  all.host.grantableCaps = grantable;
  withCapabilities(spec, all);
  assertEquals(spec.process.capabilities?.effective, grantable.filter((c) => c !== "CAP_NET_RAW"));
  const one = exampleInput({ cap_add: ["NET_ADMIN", "sys_resource"] });
  one.host.grantableCaps = grantable;
  assertThrows(
    () => withCapabilities(spec, one),
    ConfigError,
    'task config "cap_add[1]": "CAP_SYS_RESOURCE"',
  );
});
