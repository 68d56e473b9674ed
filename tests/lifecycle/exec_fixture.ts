// What the exec tests share: a plugin on a socket dir of the test's own with its tasks, one streaming exec
// call, and what an exec leaves behind (FIFO dirs, containerd exec processes).
import { purgeNamespace, startDriver } from "../harness/driver.ts";
import { SLOW_FACTOR } from "../harness/plugin.ts";
import { makeTask } from "../harness/task.ts";
import { shortTempDir } from "../harness/services.ts";
import type { ExecTaskStreamingResponse } from "../../src/gen/nomad/driver.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

/**
 * The exec FIFO dirs under the plugin's socket dir, at any depth (the launcher puts the plugin's socket and
 * FIFOs in a private dir of its own inside it). Throws when not even the plugin's private dir is there, so
 * that an empty answer means something.
 */
export async function fifoDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  let privateDirs = 0;
  const walk = async (d: string, depth: number) => {
    for await (const e of Deno.readDir(d)) {
      if (!e.isDirectory) continue;
      if (e.name.startsWith("cdrv-exec-")) out.push(`${d}/${e.name}`);
      else if (depth < 2 && e.name.startsWith("containerd-driver.") && !e.name.endsWith(".cache")) {
        privateDirs++;
        await walk(`${d}/${e.name}`, depth + 1);
      }
    }
  };
  await walk(dir, 0);
  if (privateDirs === 0) {
    throw new Error(`no plugin socket dir under ${dir}: the FIFO check would see nothing`);
  }
  return out;
}

/** A plugin on a socket dir of the test's own, the tasks made on it, and one cleanup for all of them. */
export async function execFixture() {
  const sockDir = await shortTempDir("cdrv-ex-");
  const d = await startDriver({}, { socketDir: sockDir });
  const tasks: Awaited<ReturnType<typeof makeTask>>[] = [];
  return {
    sockDir,
    d,
    async task(config: Parameters<typeof makeTask>[0]["config"]) {
      const t = await makeTask({ config });
      tasks.push(t);
      return t;
    },
    async cleanup() {
      await d.close();
      for (const t of tasks) await t.cleanup();
      await purgeNamespace(d.namespace);
      await Deno.remove(sockDir, { recursive: true }).catch(() => {});
    },
  };
}

/** What a streaming exec call ended with: output, exit code, or the gRPC status of a failure. */
export interface StreamEnd {
  out: string;
  exit?: number;
  error?: { code: number; details: string };
  ms: number;
}

/** Runs one streaming exec: the setup, then `stdin` (if any) with a close; resolves when the call ends. */
export function streamOnce(
  d: Awaited<ReturnType<typeof startDriver>>,
  taskId: string,
  command: string[],
  opts: { stdin?: string; cancelAfterMs?: number } = {},
): Promise<StreamEnd> {
  const t0 = performance.now();
  const s = d.p.driver.execTaskStreaming();
  let out = "";
  let exit: number | undefined;
  return new Promise((resolve) => {
    const ms = () => Math.round(performance.now() - t0);
    // A call that never ends (the bug this guards against) fails the test instead of hanging it. Generous:
    // 40 runc execs at once on a loaded 2-core machine took more than 10 s to all report (CI, load 9).
    const hang = setTimeout(() => {
      s.cancel();
      resolve({
        out,
        exit,
        error: { code: -1, details: `no status within ${30 * SLOW_FACTOR} s` },
        ms: ms(),
      });
    }, 30_000 * SLOW_FACTOR);
    s.on("close", () => clearTimeout(hang));
    s.on("data", (m: ExecTaskStreamingResponse) => {
      if (m.stdout?.data?.length) out += dec.decode(m.stdout.data);
      if (m.stderr?.data?.length) out += dec.decode(m.stderr.data);
      if (m.exited) exit = m.result?.exitCode;
      if (opts.cancelAfterMs !== undefined && out.length > 0) {
        setTimeout(() => s.cancel(), opts.cancelAfterMs);
        opts.cancelAfterMs = undefined;
      }
    });
    s.on("end", () => resolve({ out, exit, ms: ms() }));
    s.on(
      "error",
      (e: { code: number; details: string }) =>
        resolve({ out, exit, error: { code: e.code, details: e.details }, ms: ms() }),
    );
    s.write({ setup: { taskId, command, tty: false }, ttySize: undefined, stdin: undefined });
    if (opts.stdin !== undefined) {
      s.write({ setup: undefined, ttySize: undefined, stdin: { data: enc.encode(opts.stdin), close: true } });
    }
  });
}

/** The exec processes containerd still holds for a task (ids other than the task's own). */
export async function execProcesses(
  d: Awaited<ReturnType<typeof startDriver>>,
  id: string,
): Promise<string[]> {
  const ps = await d.ctr("tasks", "ps", id).catch(() => "");
  return ps.split("\n").slice(1).filter((l) => /exec-/.test(l));
}
