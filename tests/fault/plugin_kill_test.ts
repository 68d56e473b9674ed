// The plugin SIGKILLed under 50 running tasks, each a sequenced log writer: while it is down the tasks
// keep writing (their stdout is Nomad's FIFO, not a pipe through the plugin); a new plugin process
// recovers every task from the handles StartTask returned (RecoverTask, as Nomad does); each task then
// ends on SIGTERM by writing how many lines it wrote, and every one of those lines arrived, in order.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX, details, purgeNamespace } from "../harness/driver.ts";
import { waitFor } from "../harness/services.ts";
import { TaskState } from "../../src/gen/nomad/driver.ts";
import type { TaskHandle } from "../../src/gen/nomad/driver.ts";
import {
  alive,
  assertEmpty,
  assertNoSecrets,
  faultDriver,
  type LeanTask,
  leanTask,
  pool,
  record,
} from "./helpers.ts";

const N = 50;

// Writes seq-1, seq-2, ... every 100 ms; on SIGTERM (passed on by tini) writes end-<count> and exits 0.
// The count is bumped inside the echo's own expansion, so a trap can never fall between the two.
const WRITER = {
  image: BUSYBOX,
  entrypoint: ["/sbin/tini", "--"],
  command: "/bin/sh",
  args: ["-c", "i=0; trap 'echo end-$i; exit 0' TERM; while :; do echo seq-$((i+=1)); sleep 0.1; done"],
};

/** Lines lost by one writer: its lines must be seq-1..seq-n then end-n (-1: no end line). */
function linesLost(lines: string[]): number {
  const end = lines.at(-1)?.match(/^end-(\d+)$/);
  if (!end) return -1;
  const n = Number(end[1]);
  const seq = lines.slice(0, -1);
  let ok = 0;
  for (let i = 0; i < seq.length; i++) if (seq[i] === `seq-${i + 1}`) ok++;
  return n - ok + (seq.length - ok);
}

Deno.test({
  name: `plugin SIGKILLed under ${N} tasks: all recovered from their handles, no log line lost`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const d1 = await faultDriver();
    const ns = d1.namespace;
    let d2: Awaited<ReturnType<typeof faultDriver>> | undefined;
    const tasks: LeanTask[] = [];
    let lost = N;
    let lostLines = 0;
    try {
      for (let i = 0; i < N; i++) {
        tasks.push(await leanTask({ name: `k${i}`, stdout: "fifo", config: WRITER }));
      }
      const handles: TaskHandle[] = await pool(tasks, 4, async (t) => (await d1.start(t.config)).handle!);
      const counts = async () => (await Promise.all(tasks.map((t) => t.stdoutLines()))).map((l) => l.length);
      await waitFor("every task to log", async () => (await counts()).every((n) => n > 3), 20_000);

      d1.p.child.kill("SIGKILL");
      await d1.p.status;
      const linesAtKill = await counts();
      await new Promise((r) => setTimeout(r, 1500)); // down a while, as when Nomad relaunches it
      const grew = (await counts()).filter((n, i) => n > linesAtKill[i]).length;
      assertEquals(grew, N, "tasks whose logs kept flowing while the plugin was down");

      d2 = await faultDriver({ namespace: ns });
      const t0 = performance.now();
      const failed: string[] = [];
      await pool(handles, 8, async (h) => {
        try {
          await d2!.recover(h);
        } catch (e) {
          failed.push(`${h.config?.id}: ${details(e)}`);
        }
      });
      console.log(
        `${N - failed.length} of ${N} tasks recovered in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      assertEquals(failed, [], "RecoverTask failures");
      const states = await Promise.all(tasks.map((t) => d2!.inspect(t.config.id)));
      const running = states.filter((s) => s.task?.state === TaskState.RUNNING).length;
      assertEquals(running, N, "recovered tasks running");

      // End every writer through the new plugin; each reports the count of lines it wrote.
      const exits = await pool(tasks, 8, async (t) => {
        await d2!.stop(t.config.id, 10_000);
        return await d2!.wait(t.config.id);
      });
      assertEquals(
        exits.filter((e) => e.exitCode !== 0).length,
        0,
        `exits: ${JSON.stringify(exits.slice(0, 3))}`,
      );
      const allLines = () => Promise.all(tasks.map((t) => t.stdoutLines()));
      await waitFor(
        "every end line",
        async () => (await allLines()).every((l) => /^end-\d+$/.test(l.at(-1) ?? "")),
        10_000,
      )
        .catch(() => {});
      const logs = await allLines();
      const perTask = logs.map(linesLost);
      lostLines = perTask.reduce((a, b) => a + Math.abs(b), 0);
      const total = logs.reduce((a, l) => a + l.length, 0);
      console.log(`${total} log lines from ${N} writers, ${lostLines} lost`);
      const bad = tasks.flatMap((t, i) => perTask[i] === 0 ? [] : [`${t.config.name}: ${perTask[i]}`]);
      assertEquals(bad, [], "writers with lost lines");
      lost = N - running;

      await pool(tasks, 8, (t) => d2!.destroy(t.config.id));
      await assertEmpty(d2.sock, ns, undefined, "after destroying every task");
      assert(alive(d2.p), "the new plugin is still running");
      assertNoSecrets([...d1.p.stderr, ...d2.p.stderr]);
    } catch (e) {
      const p = d2?.p ?? d1.p;
      console.log(`plugin stderr (last 20 lines):\n${p.stderr.slice(-20).join("\n")}`);
      throw e;
    } finally {
      await record({
        scenario: "plugin SIGKILL",
        count: N,
        lost,
        crashed: d2 && alive(d2.p) ? 0 : 1,
        note: `${lostLines} log lines lost`,
      });
      await d1.close();
      await d2?.close();
      for (const t of tasks) await t.cleanup();
      await purgeNamespace(ns);
    }
  },
});
