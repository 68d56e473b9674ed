// Plugin `gc { container = false }`: after DestroyTask the containerd task is gone (no process, no shim)
// but the container record and its snapshot stay, with what the task wrote, for inspection; starting the
// same task again in its alloc (Nomad's restart reuses the container id) removes the kept one first.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX } from "../harness/driver.ts";
import { makeTask } from "../harness/task.ts";
import { host, specTest } from "../spec/suite.ts";

specTest("gc.container = false keeps the stopped container for inspection", async (s, t) => {
  await t.step("kept after DestroyTask: record and snapshot (with the task's writes); no task", async () => {
    const task = await makeTask({
      config: { image: BUSYBOX, command: "/bin/sh", args: ["-c", "echo kept-data > /kept.txt"] },
    });
    try {
      const res = await s.d.start(task.config);
      const cid = JSON.parse(new TextDecoder().decode(res.handle!.driverState)).containerId as string;
      assertEquals((await s.d.wait(task.config.id, 30_000)).exitCode, 0);
      await s.d.destroy(task.config.id, true);
      const c = await s.contents();
      assert(c.containers.includes(cid), `containers: ${c.containers}`);
      assertEquals(c.tasks, []);
      assert(c.snapshots.some((l) => l.startsWith(`${cid} `)), c.snapshots.join("\n"));
      const info = JSON.parse(await s.d.ctr("containers", "info", cid));
      assertEquals(info.Labels["io.containerd-driver.gc.keep"], "true");
      // The snapshot's upper dir holds what the task wrote.
      const mount = await s.d.ctr("snapshots", "mounts", "/nonexistent", cid);
      const upper = /upperdir=([^,\s]+)/.exec(mount)?.[1];
      assert(upper, mount);
      assertEquals((await host("cat", `${upper}/kept.txt`)).trim(), "kept-data");

      // Nomad restarts the task in the same alloc: the kept container is replaced.
      const again = await s.d.start(task.config);
      const cid2 = JSON.parse(new TextDecoder().decode(again.handle!.driverState)).containerId;
      assertEquals(cid2, cid);
      assertEquals((await s.d.wait(task.config.id, 30_000)).exitCode, 0);
      await s.d.destroy(task.config.id, true);
      assert((await s.contents()).containers.includes(cid));
      await s.d.ctr("containers", "rm", cid);
    } finally {
      await task.cleanup();
    }
  });
}, { gc: { container: false } });
