// ExecTask (script checks) and ExecTaskStreaming (`nomad alloc exec`): output, exit codes, timeout,
// stdin, a tty whose resize reaches the exec's own pty, and no FIFO left afterwards.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { BUSYBOX, purgeNamespace, startDriver } from "../harness/driver.ts";
import { call } from "../harness/plugin.ts";
import { makeTask } from "../harness/task.ts";
import { shortTempDir } from "../harness/services.ts";
import type { ExecTaskResponse, ExecTaskStreamingResponse } from "../../src/gen/nomad/driver.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

async function fifoDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.startsWith("cdrv-exec-")) out.push(e.name);
  return out;
}

Deno.test("exec: ExecTask output and exit codes; streaming exec with stdin, tty and resize", async () => {
  const sockDir = await shortTempDir("cdrv-ex-");
  const d = await startDriver({}, { socketDir: sockDir });
  const t = await makeTask({ config: { image: BUSYBOX, command: "/bin/sleep", args: ["300"] } });
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
    assert(performance.now() - t0 < 10_000, "exec timeout not applied");
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
    await d.close();
    await t.cleanup();
    await purgeNamespace(d.namespace);
    await Deno.remove(sockDir, { recursive: true }).catch(() => {});
  }
});
