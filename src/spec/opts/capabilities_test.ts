import { assert, assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withCapabilities } from "./capabilities.ts";
import { DEFAULT_CAPABILITIES } from "../capabilities.ts";

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
