import { assert, assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { containerHostname, withHostname } from "./hostname.ts";

Deno.test("withHostname: task hostname, else Nomad's, else the container id cut to 63", () => {
  const spec = baseSpec();
  withHostname(spec, exampleInput({ hostname: "cache-1" }));
  assertEquals(spec.hostname, "cache-1");
  const n = exampleInput();
  n.nomad.network.hostname = "grp";
  assertEquals(containerHostname(n), "grp");
  const long = exampleInput({}, { id: "a_very/long name-" + "x".repeat(80) });
  const h = containerHostname(long);
  assertEquals(h.length, 63);
  assert(/^[A-Za-z0-9.-]+$/.test(h), h);
  assertEquals(containerHostname(exampleInput()), "redis-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
});
