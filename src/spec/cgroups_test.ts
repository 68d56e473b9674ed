import { assertEquals } from "../../tests/harness/assert.ts";
import { nomadCgroup, taskCgroupsPath } from "./cgroups.ts";

const SCOPE = "/sys/fs/cgroup/nomad.slice/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.redis.scope";
const V1 = { cgroupVersion: 1 as const };
const V2 = { cgroupVersion: 2 as const };

Deno.test("cgroupsPath: Nomad's v2 scope, relative to the v2 mount", () => {
  assertEquals(
    taskCgroupsPath(V2, "nomad", "redis-0b1c", SCOPE),
    "/nomad.slice/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.redis.scope",
  );
  // a cgroup_parent of the operator's own, nested
  assertEquals(
    nomadCgroup(V2, "/sys/fs/cgroup/system.slice/nomad.slice/a.b.scope"),
    "/system.slice/nomad.slice/a.b.scope",
  );
});

Deno.test("cgroupsPath: /<namespace>/<id> on v1, without a path from Nomad, or with one not below the v2 mount", () => {
  // Nomad 1.6 on v1 names its cpuset-only cgroup: the container keeps containerd's layout there.
  assertEquals(taskCgroupsPath(V1, "nomad", "redis-0b1c", SCOPE), "/nomad/redis-0b1c");
  assertEquals(
    taskCgroupsPath(V1, "nomad", "redis-0b1c", "/sys/fs/cgroup/cpuset/nomad/shared"),
    "/nomad/redis-0b1c",
  );
  assertEquals(taskCgroupsPath(V2, "nomad", "redis-0b1c", ""), "/nomad/redis-0b1c");
  for (
    const odd of [
      "/sys/fs/cgroup",
      "/sys/fs/cgroup/",
      "/sys/fs/cgroupx/nomad.slice/a.scope",
      "/sys/fs/cgroup/nomad.slice/../a.scope",
      "/sys/fs/cgroup/nomad.slice//a.scope",
      "/sys/fs/cgroup/./a.scope",
      "/sys/fs/cgroup/nomad.slice/a.scope/",
      "nomad.slice/a.scope",
      "/tmp/nomad.slice/a.scope",
    ]
  ) {
    assertEquals(nomadCgroup(V2, odd), undefined, odd);
    assertEquals(taskCgroupsPath(V2, "ns", "c1", odd), "/ns/c1", odd);
  }
});
