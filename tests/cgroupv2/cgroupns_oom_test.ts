// cgroup v2: the cgroup namespace is private by default (the task sees its own cgroup as "0::/", its
// namespace is not the host's); `cgroupns = "host"` shares the host's and shows the real path. An OOM kill
// is reported as oom_killed and counted in the cgroup's memory.events.
import { assert, assertEquals } from "../harness/assert.ts";
import { specTest } from "../spec/suite.ts";
import { cgKeyed, cgroupOf, requireCgroupV2, sh, taskPid } from "./v2.ts";

specTest("cgroup v2: cgroupns and OOM", async (s, t) => {
  await requireCgroupV2();
  const hostNs = (await sh("readlink", "/proc/self/ns/cgroup")).trim();

  await t.step(
    "cgroupns private by default: /proc/self/cgroup is 0::/, the namespace is not the host's",
    async () => {
      await s.running({ config: { command: "/bin/sleep", args: ["3600"] } }, async (r) => {
        const pid = await taskPid(s.d, r.containerId);
        const nsOnHost = (await sh("readlink", `/proc/${pid}/ns/cgroup`)).trim();
        const inside = await r.exec("/bin/sh", "-c", "cat /proc/self/cgroup; readlink /proc/self/ns/cgroup");
        console.log(`default: host ${hostNs}, task ${nsOnHost}; inside: ${JSON.stringify(inside.out)}`);
        assert(nsOnHost !== hostNs, `the task's cgroup namespace ${nsOnHost} is the host's`);
        assertEquals(inside.code, 0, inside.err);
        assertEquals(inside.out, `0::/\n${nsOnHost}\n`);
        // From the host the task's cgroup is the real one.
        assertEquals(await cgroupOf(pid), `/${s.d.namespace}/${r.containerId}`);
      });
    },
  );

  await t.step('cgroupns = "host": the host\'s namespace, the real path inside', async () => {
    await s.running({ config: { command: "/bin/sleep", args: ["3600"], cgroupns: "host" } }, async (r) => {
      const pid = await taskPid(s.d, r.containerId);
      const inside = await r.exec("/bin/sh", "-c", "cat /proc/self/cgroup; readlink /proc/self/ns/cgroup");
      assertEquals((await sh("readlink", `/proc/${pid}/ns/cgroup`)).trim(), hostNs);
      assertEquals(inside.out, `0::/${s.d.namespace}/${r.containerId}\n${hostNs}\n`);
    });
  });

  await t.step("an OOM kill: oom_killed = true, memory.events oom_kill counted", async () => {
    let events: Record<string, number> = {};
    const r = await s.run({
      memoryMb: 24,
      config: {
        command: "/bin/sh",
        args: ["-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"],
      },
      // After the exit the cgroup is still there (runc removes it with the task, at DestroyTask).
      inspect: async (ran) => {
        events = await cgKeyed(`/${s.d.namespace}/${ran.containerId}`, "memory.events");
      },
    });
    console.log(`OOM: exit ${JSON.stringify(r.exit)}, memory.events ${JSON.stringify(events)}`);
    assertEquals(r.exit.oomKilled, true, JSON.stringify(r.exit));
    assert(!r.out.includes("survived"), r.out);
    assert(events.oom_kill >= 1, `memory.events: ${JSON.stringify(events)}`);
    assert(events.max >= 1, `memory.events: ${JSON.stringify(events)}`);
  });
});
