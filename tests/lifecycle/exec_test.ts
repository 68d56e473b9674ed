// ExecTask (script checks) and ExecTaskStreaming (`nomad alloc exec`): output, exit codes, timeout,
// stdin, a tty whose resize reaches the exec's own pty, every way an exec can fail to start, and no FIFO left
// afterwards. (The load test, 40 silent execs at once, is exec_load_test.ts.)
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { BUSYBOX } from "../harness/driver.ts";
import { call, SLOW_FACTOR } from "../harness/plugin.ts";
import { waitFor } from "../harness/services.ts";
import type { ExecTaskResponse, ExecTaskStreamingResponse } from "../../src/gen/nomad/driver.ts";
import { execFixture, execProcesses, fifoDirs, streamOnce } from "./exec_fixture.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

Deno.test("exec: ExecTask output and exit codes; streaming exec with stdin, tty and resize", async () => {
  const f = await execFixture();
  const { d, sockDir } = f;
  const t = await f.task({ image: BUSYBOX, command: "/bin/sleep", args: ["300"] });
  try {
    await d.start(t.config);
    const id = t.config.id;
    const r = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/sh", "-c", "echo hi; echo err >&2"],
      timeout: { seconds: 10n, nanos: 0 },
    });
    assertEquals(dec.decode(r.stdout), "hi\n");
    assertEquals(dec.decode(r.stderr), "err\n");
    assertEquals(r.result?.exitCode, 0);
    const r7 = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/sh", "-c", "exit 7"],
      timeout: { seconds: 10n, nanos: 0 },
    });
    assertEquals(r7.result?.exitCode, 7);
    const t0 = performance.now();
    const slow = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/sleep", "30"],
      timeout: { seconds: 1n, nanos: 0 },
    });
    assert(performance.now() - t0 < 10_000 * SLOW_FACTOR, "exec timeout not applied");
    assertEquals(slow.result?.exitCode, 137);

    // Streaming, with a tty: resize then ask stty for the size, then exit 4.
    const s = d.p.driver.execTaskStreaming();
    let out = "";
    let exit: number | undefined;
    const done = new Promise<void>((resolve, reject) => {
      s.on("data", (m: ExecTaskStreamingResponse) => {
        if (m.stdout?.data?.length) out += dec.decode(m.stdout.data);
        if (m.exited) exit = m.result?.exitCode;
      });
      s.on("end", () => resolve());
      s.on("error", reject);
    });
    s.write({ setup: { taskId: id, command: ["/bin/sh"], tty: true }, ttySize: undefined, stdin: undefined });
    s.write({ setup: undefined, ttySize: { height: 33, width: 101 }, stdin: undefined });
    s.write({
      setup: undefined,
      ttySize: undefined,
      stdin: { data: enc.encode("stty size; read x; echo got:$x; exit 4\n"), close: false },
    });
    s.write({ setup: undefined, ttySize: undefined, stdin: { data: enc.encode("abc\n"), close: false } });
    await done;
    s.end();
    assertMatch(out, /33 101/);
    assertMatch(out, /got:abc/);
    assertEquals(exit, 4);

    // Without a tty: separate stdout/stderr and stdin closed by the client.
    const s2 = d.p.driver.execTaskStreaming();
    let o2 = "", e2 = "";
    let x2: number | undefined;
    const done2 = new Promise<void>((resolve, reject) => {
      s2.on("data", (m: ExecTaskStreamingResponse) => {
        if (m.stdout?.data?.length) o2 += dec.decode(m.stdout.data);
        if (m.stderr?.data?.length) e2 += dec.decode(m.stderr.data);
        if (m.exited) x2 = m.result?.exitCode;
      });
      s2.on("end", () => resolve());
      s2.on("error", reject);
    });
    s2.write({
      setup: { taskId: id, command: ["/bin/sh", "-c", "cat; echo bye >&2"], tty: false },
      ttySize: undefined,
      stdin: undefined,
    });
    s2.write({
      setup: undefined,
      ttySize: undefined,
      stdin: { data: enc.encode("piped-in\n"), close: false },
    });
    s2.write({ setup: undefined, ttySize: undefined, stdin: { data: new Uint8Array(), close: true } });
    await done2;
    s2.end();
    assertEquals(o2, "piped-in\n");
    assertEquals(e2, "bye\n");
    assertEquals(x2, 0);

    assertEquals(await fifoDirs(sockDir), [], "exec FIFOs left behind");
    await d.destroy(id);
  } finally {
    await f.cleanup();
  }
});

Deno.test("exec: an exec that cannot start fails at once with the runtime's reason, on both RPCs", async () => {
  const f = await execFixture();
  const { d, sockDir } = f;
  // "At once": well inside the exec's own 10 s timeout (stretched where everything is slower).
  const AT_ONCE_MS = 2000 * SLOW_FACTOR;
  // The task's cwd is a directory it can remove: an exec then cannot chdir into it.
  const t = await f.task({
    image: BUSYBOX,
    command: "/bin/sh",
    args: ["-c", "mkdir -p /work/dir && touch /plain && sleep 300"],
    cwd: "/work/dir",
  });
  const short = await f.task({ image: BUSYBOX, command: "/bin/true" });
  try {
    await d.start(t.config);
    const id = t.config.id;
    const ready = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/sh", "-c", "while [ ! -f /plain ]; do sleep 0.05; done; echo ready"],
      timeout: { seconds: 10n, nanos: 0 },
    });
    assertEquals(dec.decode(ready.stdout), "ready\n");

    const cases: [string, string[], RegExp][] = [
      ["missing binary", ["/nonexistent-binary"], /exec: "\/nonexistent-binary": no such file or directory$/],
      [
        "missing binary on PATH",
        ["nonexistent"],
        /exec: "nonexistent": executable file not found in \$PATH$/,
      ],
      ["not executable", ["/plain"], /exec: "\/plain": permission denied$/],
    ];
    for (const [what, command, reason] of cases) {
      const s = await streamOnce(d, id, command);
      console.log(`streaming exec, ${what}: status ${s.error?.code} after ${s.ms} ms: ${s.error?.details}`);
      assert(s.error, `${what}: the stream ended without an error: ${JSON.stringify(s)}`);
      assertEquals(s.error.code, 9, `${what}: FAILED_PRECONDITION`);
      assertMatch(s.error.details, reason);
      assert(s.ms < AT_ONCE_MS, `${what}: took ${s.ms} ms`);
      const t0 = performance.now();
      const e = await call(d.p.driver, "execTask", {
        taskId: id,
        command,
        timeout: { seconds: 10n, nanos: 0 },
      })
        .then(() => undefined, (e: Error) => e);
      const ms = Math.round(performance.now() - t0);
      console.log(`ExecTask, ${what}: after ${ms} ms: ${e?.message}`);
      assert(e, `${what}: ExecTask succeeded`);
      assertMatch(e.message, reason);
      assert(ms < AT_ONCE_MS, `${what}: ExecTask took ${ms} ms`);
    }

    // Setup for a task the plugin does not know; then a task that already exited.
    const unknown = await streamOnce(d, "no-such-task", ["/bin/true"]);
    assertEquals(unknown.error?.code, 5, JSON.stringify(unknown));
    await d.start(short.config);
    await d.wait(short.config.id);
    const exited = await streamOnce(d, short.config.id, ["/bin/true"]);
    console.log(`streaming exec into an exited task: ${exited.error?.details}`);
    assert(exited.error, JSON.stringify(exited));
    assert(exited.ms < AT_ONCE_MS, `exited task: took ${exited.ms} ms`);
    const exitedOnce = await call(d.p.driver, "execTask", {
      taskId: short.config.id,
      command: ["/bin/true"],
      timeout: { seconds: 10n, nanos: 0 },
    }).then(() => undefined, (e: Error) => e);
    assert(exitedOnce, "ExecTask into an exited task succeeded");

    // The client goes away mid-stream: the exec is killed and cleaned up.
    const gone = await streamOnce(d, id, ["/bin/sh", "-c", "echo started; exec sleep 300"], {
      cancelAfterMs: 50,
    });
    assertEquals(gone.error?.code, 1, `cancelled: ${JSON.stringify(gone)}`);
    await waitFor("the cancelled exec to be removed", async () => (await execProcesses(d, id)).length === 0);

    // The plugin is still healthy and an ordinary exec still works.
    const ok = await streamOnce(d, id, ["/bin/echo", "still fine"]);
    assertEquals([ok.out, ok.exit], ["still fine\n", 0]);
    // Last: the task's working directory removed under it (no exec can start after this).
    await call(d.p.driver, "execTask", {
      taskId: id,
      command: ["/bin/rm", "-rf", "/work/dir"],
      timeout: { seconds: 10n, nanos: 0 },
    });
    const cwd = await streamOnce(d, id, ["/bin/true"]);
    console.log(`streaming exec, cwd gone: ${cwd.error?.details}`);
    assertEquals(cwd.error?.code, 9, JSON.stringify(cwd));
    assertMatch(cwd.error!.details, /exec "\/bin\/true": .*(chdir|cwd).*/);
    assert(cwd.ms < AT_ONCE_MS, `cwd gone: took ${cwd.ms} ms`);

    assertEquals(await execProcesses(d, id), [], "exec processes left behind");
    assertEquals(await fifoDirs(sockDir), [], "exec FIFOs left behind");
    await d.destroy(short.config.id);
    await d.destroy(id, true);
  } finally {
    await f.cleanup();
  }
});
