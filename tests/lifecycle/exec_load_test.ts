// The exec FIFO pump under load: 40 execs waiting for output at once leave the plugin answering, and all of
// them finish whole. A property of the plugin's own file I/O (not of containerd or runc), so it runs on the
// host leg only: under the modern leg's emulated CPUs, 40 runc processes saturate the guest.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX } from "../harness/driver.ts";
import { call, SLOW_FACTOR } from "../harness/plugin.ts";
import type { ExecTaskResponse } from "../../src/gen/nomad/driver.ts";
import { execFixture, fifoDirs, streamOnce } from "./exec_fixture.ts";

const dec = new TextDecoder();

Deno.test("exec: 40 execs waiting for output at once leave the plugin responsive, and all finish whole", async () => {
  const f = await execFixture();
  const { d, sockDir } = f;
  const t = await f.task({ image: BUSYBOX, command: "/bin/sleep", args: ["300"] });
  try {
    await d.start(t.config);
    const id = t.config.id;
    const N = 40;
    // Each exec prints, then stays silent for 4 s: its output FIFOs wait with nothing to read. (Where
    // everything is slower, CDRV_TEST_SLOW_FACTOR stretches the silence, the wait and the bound alike.)
    const silent = 4 * SLOW_FACTOR;
    const sessions = Array.from(
      { length: N },
      (_, i) => streamOnce(d, id, ["/bin/sh", "-c", `echo start-${i}; sleep ${silent}; echo end-${i} >&2`]),
    );
    await new Promise((r) => setTimeout(r, 1500 * SLOW_FACTOR));
    // The FIFO check below sees them while they run (so its empty answer at the end means something).
    const during = await fifoDirs(sockDir);
    assert(during.length >= N, `only ${during.length} exec FIFO dirs seen while ${N} execs run`);
    // Meanwhile the plugin still does file work (a new exec makes a FIFO dir) and answers.
    const t0 = performance.now();
    const probe = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/echo", "still answering"],
      timeout: { seconds: 20n, nanos: 0 },
    });
    const ms = Math.round(performance.now() - t0);
    console.log(`ExecTask while ${N} execs wait for output: ${ms} ms`);
    assertEquals(dec.decode(probe.stdout), "still answering\n");
    const ends = await Promise.all(sessions);
    for (const [i, s] of ends.entries()) {
      assertEquals([s.error, s.exit, s.out], [undefined, 0, `start-${i}\nend-${i}\n`], `exec ${i}`);
    }
    assert(
      ms < silent * 1000,
      `ExecTask took ${ms} ms while the others waited: the plugin's file I/O stalled`,
    );
    assertEquals(await fifoDirs(sockDir), [], "exec FIFOs left behind");
    await d.destroy(id, true);
  } finally {
    await f.cleanup();
  }
});
