import { assert, assertEquals } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import {
  ALL_CAPABILITIES,
  capabilitiesFromMask,
  DEFAULT_CAPABILITIES,
  hostCapabilities,
  normalizeCapability,
  tweakCapabilities,
} from "./capabilities.ts";

Deno.test("normalizeCapability: prefix and case are optional; unknown names are undefined", () => {
  assertEquals(normalizeCapability("sys_admin"), "CAP_SYS_ADMIN");
  assertEquals(normalizeCapability("Cap_Net_Raw"), "CAP_NET_RAW");
  assertEquals(normalizeCapability("all"), "ALL");
  assertEquals(normalizeCapability("CAP_NOPE"), undefined);
  assertEquals(normalizeCapability(""), undefined);
});

Deno.test("the kernel's list has 41 capabilities and Docker's default set is 14 of them", () => {
  assertEquals(ALL_CAPABILITIES.length, 41);
  assertEquals(DEFAULT_CAPABILITIES.length, 14);
  assert(DEFAULT_CAPABILITIES.every((c) => ALL_CAPABILITIES.includes(c)));
  assertEquals(hostCapabilities(37).at(-1), "CAP_AUDIT_READ");
});

Deno.test("tweakCapabilities: Docker's cases", () => {
  const d = ["CAP_CHOWN", "CAP_KILL"];
  assertEquals(tweakCapabilities(d, [], [], false), d);
  assertEquals(tweakCapabilities(d, ["CAP_NET_ADMIN"], ["CAP_KILL"], false), ["CAP_CHOWN", "CAP_NET_ADMIN"]);
  assertEquals(tweakCapabilities(d, ["CAP_KILL"], ["CAP_KILL"], false), ["CAP_CHOWN", "CAP_KILL"]);
  assertEquals(tweakCapabilities(d, ["CAP_SYS_TIME"], ["ALL"], false), ["CAP_SYS_TIME"]);
  assertEquals(tweakCapabilities(d, ["ALL"], ["CAP_SYS_ADMIN"], false).length, 40);
  assertEquals(tweakCapabilities(d, [], ["ALL"], true).length, 41);
});

const capName = fc.constantFrom(...ALL_CAPABILITIES, "ALL");

Deno.test("tweakCapabilities: a dropped capability is present only when cap_add names it (ALL in cap_drop leaves exactly cap_add)", () => {
  fc.assert(
    fc.property(fc.array(capName, { maxLength: 6 }), fc.array(capName, { maxLength: 6 }), (add, drop) => {
      const caps = tweakCapabilities(DEFAULT_CAPABILITIES, add, drop, false);
      assertEquals(new Set(caps).size, caps.length, "no duplicates");
      assert(caps.every((c) => ALL_CAPABILITIES.includes(c)), "only real capabilities");
      for (const c of caps) {
        if (drop.includes(c) || drop.includes("ALL")) {
          assert(add.includes(c) || add.includes("ALL"), `${c} dropped yet present`);
        }
        if (add.includes("ALL")) assert(!drop.includes(c), `${c} dropped with cap_add ALL`);
      }
      if (drop.includes("ALL") && !add.includes("ALL")) {
        assertEquals(new Set(caps), new Set(add.filter((c) => c !== "ALL")));
      }
      for (const c of add) {
        if (c !== "ALL" && !add.includes("ALL")) assert(caps.includes(c), `${c} added yet absent`);
      }
      if (!add.includes("ALL") && !drop.includes("ALL")) {
        for (const c of DEFAULT_CAPABILITIES) {
          if (!drop.includes(c)) assert(caps.includes(c), `default ${c} lost`);
        }
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("capabilitiesFromMask and hostCapabilities with what the runtime can grant", () => {
  assertEquals(capabilitiesFromMask("00000000a80425fb")?.sort(), [...DEFAULT_CAPABILITIES].sort());
  assertEquals(capabilitiesFromMask("000001ffffffffff"), ALL_CAPABILITIES);
  assertEquals(capabilitiesFromMask("not hex"), undefined);
  const noSysResource = capabilitiesFromMask("000001fffeffffff")!;
  assertEquals(noSysResource.length, 40);
  assert(!noSysResource.includes("CAP_SYS_RESOURCE"));
  assertEquals(hostCapabilities(40, noSysResource), noSysResource);
  assertEquals(hostCapabilities(37, noSysResource).length, 37);
});
