import { assertEquals } from "../../tests/harness/assert.ts";
import { metricsCgroupVersion } from "./metrics.ts";

Deno.test("metrics type URLs: cgroup v1 and v2, bare or prefixed; others are not metrics", () => {
  assertEquals(metricsCgroupVersion("io.containerd.cgroups.v1.Metrics"), 1);
  assertEquals(metricsCgroupVersion("io.containerd.cgroups.v2.Metrics"), 2);
  assertEquals(metricsCgroupVersion("type.googleapis.com/io.containerd.cgroups.v2.Metrics"), 2);
  assertEquals(metricsCgroupVersion("example.Other"), undefined);
  assertEquals(metricsCgroupVersion(""), undefined);
});
