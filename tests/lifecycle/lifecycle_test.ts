// The task lifecycle against real containerd + runc, driven through the plugin's gRPC API by a harness
// that plays Nomad: start/wait/exit codes, stop with and without a cooperative process, OOM, signals,
// inspect, destroy (force, idempotent, nothing left behind), and the start latency.
import { SLOW_FACTOR } from "../harness/plugin.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import { BUSYBOX, details, purgeNamespace, startDriver, type TestDriver } from "../harness/driver.ts";
import { makeTask, type PreparedTask } from "../harness/task.ts";
import { waitFor } from "../harness/services.ts";
import { type DriverTaskEvent, TaskState } from "../../src/gen/nomad/driver.ts";

async function withDriver(fn: (d: TestDriver, tasks: PreparedTask[]) => Promise<void>): Promise<void> {
  const d = await startDriver();
  const tasks: PreparedTask[] = [];
  try {
    await fn(d, tasks);
  } finally {
    await d.close();
    for (const t of tasks) await t.cleanup();
    await purgeNamespace(d.namespace);
  }
}

Deno.test("start → running → exit codes 0 and 3 reported; inspect; destroy leaves nothing", async () => {
  await withDriver(async (d, tasks) => {
    const ok = await makeTask({
      config: { image: BUSYBOX, command: "/bin/sh", args: ["-c", "echo hello; sleep 0.5"] },
    });
    tasks.push(ok);
    const t0 = performance.now();
    const res = await d.start(ok.config);
    console.log(`StartTask (image pulled on first use): ${(performance.now() - t0).toFixed(0)} ms`);
    assertEquals(res.handle?.state, TaskState.RUNNING);
    const st = JSON.parse(new TextDecoder().decode(res.handle!.driverState));
    assertMatch(st.containerId, /^t\d+-[0-9a-f-]{36}$/);
    const ins = await d.inspect(ok.config.id);
    assertEquals(ins.task?.state, TaskState.RUNNING);
    assertEquals(ins.task?.result, { exitCode: 0, signal: 0, oomKilled: false });
    assertEquals(ins.task?.completedAt?.seconds, -62135596800n);
    const r0 = await d.wait(ok.config.id);
    assertEquals(r0, { exitCode: 0, signal: 0, oomKilled: false });
    await waitFor("stdout line", () => ok.stdout.lines().includes("hello"), 5000);
    const after = await d.inspect(ok.config.id);
    assertEquals(after.task?.state, TaskState.EXITED);
    assert(Number(after.task?.completedAt?.seconds) > 0);

    const three = await makeTask({
      config: { image: BUSYBOX, command: "/bin/sh", args: ["-c", "echo oops >&2; exit 3"] },
    });
    tasks.push(three);
    const t1 = performance.now();
    await d.start(three.config);
    console.log(`StartTask (image cached): ${(performance.now() - t1).toFixed(0)} ms`);
    assertEquals((await d.wait(three.config.id)).exitCode, 3);
    await waitFor("stderr line", () => three.stderr.lines().includes("oops"), 5000);

    for (const t of [ok, three]) {
      await d.destroy(t.config.id, false);
      await d.destroy(t.config.id, true); // idempotent
    }
    assertEquals((await d.ctr("containers", "ls", "-q")).trim(), "");
    assertEquals((await d.ctr("tasks", "ls", "-q")).trim(), "");
    const snaps = (await d.ctr("snapshots", "ls")).split("\n").filter((l) => /^t\d+-/.test(l));
    assertEquals(snaps, []);
    assertEquals((await d.ctr("leases", "ls", "-q")).trim(), "");
  });
});

Deno.test("StopTask returns as soon as a tini-wrapped task exits on SIGTERM; SIGKILLs one that ignores it", async () => {
  await withDriver(async (d, tasks) => {
    const polite = await makeTask({
      config: { image: BUSYBOX, entrypoint: ["/sbin/tini", "--"], command: "/bin/sleep", args: ["300"] },
    });
    const stubborn = await makeTask({ config: { image: BUSYBOX, command: "/bin/sleep", args: ["300"] } });
    tasks.push(polite, stubborn);
    await d.start(polite.config);
    await d.start(stubborn.config);

    const t0 = performance.now();
    await d.stop(polite.config.id, 10_000);
    const politeMs = performance.now() - t0;
    const r = await d.wait(polite.config.id);
    console.log(`stop of a SIGTERM-honouring task: ${politeMs.toFixed(0)} ms (timeout 10 s)`);
    assert(politeMs < 5000 * SLOW_FACTOR, `StopTask took ${politeMs}ms for a task that exits on SIGTERM`);
    assertEquals(r.signal, 15);

    const t1 = performance.now();
    await d.stop(stubborn.config.id, 1500);
    const stubbornMs = performance.now() - t1;
    const r2 = await d.wait(stubborn.config.id);
    console.log(`stop of a SIGTERM-ignoring task with a 1.5 s timeout: ${stubbornMs.toFixed(0)} ms`);
    assert(stubbornMs >= 1400, `SIGKILL came before the timeout (${stubbornMs}ms)`);
    assertEquals(r2.signal, 9);
    await d.destroy(polite.config.id);
    await d.destroy(stubborn.config.id);
  });
});

Deno.test("a task over its memory limit ends with oom_killed = true", async () => {
  await withDriver(async (d, tasks) => {
    const t = await makeTask({
      memoryMb: 24,
      config: {
        image: BUSYBOX,
        command: "/bin/sh",
        args: ["-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"],
      },
    });
    tasks.push(t);
    await d.start(t.config);
    const r = await d.wait(t.config.id, 60_000);
    assertEquals(r.oomKilled, true, `exit ${JSON.stringify(r)}`);
    assert(!t.stdout.text().includes("survived"));
    await d.destroy(t.config.id);
  });
});

Deno.test("SignalTask delivers any signal name Nomad sends; bad names are refused clearly", async () => {
  await withDriver(async (d, tasks) => {
    const t = await makeTask({
      config: {
        image: BUSYBOX,
        entrypoint: ["/sbin/tini", "--"],
        command: "/bin/sh",
        args: [
          "-c",
          "trap 'echo got-hup' HUP; trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done",
        ],
      },
    });
    tasks.push(t);
    await d.start(t.config);
    await waitFor("ready", () => t.stdout.lines().includes("ready"), 10_000);
    await d.signal(t.config.id, "SIGHUP");
    await waitFor("HUP handled", () => t.stdout.lines().includes("got-hup"), 5000);
    await d.signal(t.config.id, "usr1");
    await waitFor("USR1 handled", () => t.stdout.lines().includes("got-usr1"), 5000);
    const err = await assertRejects(() => d.signal(t.config.id, "SIGNOPE"));
    assertMatch(details(err), /signal "SIGNOPE" is not a Linux signal/);
    await d.destroy(t.config.id, true);
  });
});

Deno.test("force destroy of a running task removes task, container, snapshot; nothing is left", async () => {
  await withDriver(async (d, tasks) => {
    const t = await makeTask({ config: { image: BUSYBOX, command: "/bin/sleep", args: ["300"] } });
    tasks.push(t);
    await d.start(t.config);
    const err = await assertRejects(() => d.destroy(t.config.id, false));
    assertMatch(details(err), /still running/);
    await d.destroy(t.config.id, true);
    assertEquals((await d.ctr("tasks", "ls", "-q")).trim(), "");
    assertEquals((await d.ctr("containers", "ls", "-q")).trim(), "");
    assertEquals((await d.ctr("snapshots", "ls")).split("\n").filter((l) => l.startsWith("t")), []);
    assertEquals((await d.ctr("leases", "ls", "-q")).trim(), "");
    // Nomad may call it again after a restart: fine.
    await d.destroy(t.config.id, true);
  });
});

Deno.test("a failed start leaves nothing behind and names the problem", async () => {
  await withDriver(async (d, tasks) => {
    const t = await makeTask({ config: { image: BUSYBOX, command: "/no/such/binary" } });
    tasks.push(t);
    const err = await assertRejects(() => d.start(t.config));
    assertMatch(details(err), /no\/such\/binary|no such file/i);
    assertEquals((await d.ctr("containers", "ls", "-q")).trim(), "");
    assertEquals((await d.ctr("snapshots", "ls")).split("\n").filter((l) => l.startsWith("t")), []);
    assertEquals((await d.ctr("leases", "ls", "-q")).trim(), "");

    const bad = await makeTask({ config: { image: BUSYBOX, shm_size: "12Q" } });
    tasks.push(bad);
    const err2 = await assertRejects(() => d.start(bad.config));
    assertEquals(
      details(err2),
      `task config "shm_size": "12Q" is not a size; use a number with a unit such as "128M" or "1G"`,
    );
  });
});

Deno.test("TaskEvents streams the image pull's progress for the task that waits on it", async () => {
  await withDriver(async (d, tasks) => {
    const events: DriverTaskEvent[] = [];
    const stream = d.p.driver.taskEvents({});
    stream.on("data", (e: DriverTaskEvent) => events.push(e));
    stream.on("error", () => {});
    const t = await makeTask({ config: { image: BUSYBOX, command: "/bin/true" } });
    tasks.push(t);
    await d.start(t.config);
    await waitFor("the Pulled event", () => events.some((e) => e.message.startsWith("Pulled ")), 5000);
    stream.cancel();
    const mine = events.filter((e) => e.taskId === t.config.id);
    const phases = mine.map((e) => e.annotations.phase);
    assertEquals(phases[0], "resolve");
    assert(phases.includes("fetch"), `phases ${phases}`);
    assertEquals(phases.at(-1), "done");
    assertEquals(mine[0].allocId, t.config.allocId);
    assertEquals(mine[0].taskName, t.config.name);
    assertMatch(
      mine.at(-1)!.message,
      new RegExp(`^Pulled ${BUSYBOX.replace(/[.]/g, "\\.")}: [0-9.]+ MB in [0-9.]+ s$`),
    );
    await d.wait(t.config.id);
    await d.destroy(t.config.id);
  });
});
