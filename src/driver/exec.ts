/**
 * Exec into a running task: `ExecTask` (run to completion, capture output — Nomad script checks) and
 * the streaming form behind `nomad alloc exec` (stdin, tty, resize of the exec's own pty, exit code).
 * The FIFOs the shim talks through are made here and always removed afterwards.
 *
 * @module
 */
import type { Containerd } from "../containerd/connection.ts";
import { ContainerdError } from "../containerd/connection.ts";
import { getContainer } from "../containerd/containers.ts";
import {
  closeStdin,
  deleteProcess,
  execProcess,
  killTask,
  resizePty,
  startTask,
  waitTask,
} from "../containerd/tasks.ts";
import { sleep } from "../plugin/rpc.ts";

/** Where the driver makes exec FIFOs (a directory it may read and write). */
let fifoRoot = "/tmp";

/** Sets the directory exec FIFOs are made in. */
export function setFifoRoot(dir: string): void {
  fifoRoot = dir;
}

let execSeq = 0;

/** A set of FIFOs for one exec, removed by `remove()`. */
class Fifos {
  private constructor(readonly dir: string) {}

  static async make(names: string[]): Promise<Fifos> {
    const dir = await Deno.makeTempDir({ dir: fifoRoot, prefix: "cdrv-exec-" });
    const out = await new Deno.Command("mkfifo", {
      args: ["-m", "600", ...names.map((n) => `${dir}/${n}`)],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`mkfifo failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return new Fifos(dir);
  }

  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /**
   * Unblocks any open() of ours still waiting for the other side (when the shim never opened a FIFO),
   * then removes the directory.
   */
  async remove(): Promise<void> {
    for await (const e of Deno.readDir(this.dir)) {
      // Opening read+write never blocks on Linux and satisfies a waiting reader or writer.
      try {
        const f = await Deno.open(`${this.dir}/${e.name}`, { read: true, write: true });
        f.close();
      } catch { /* gone */ }
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Reads a FIFO to EOF, calling `onData` per chunk. Resolves at EOF. */
async function pump(path: string, onData: (b: Uint8Array) => void): Promise<void> {
  const f = await Deno.open(path, { read: true });
  try {
    for await (const chunk of f.readable) onData(chunk);
  } catch { /* closed */ }
}

/** The process spec of an exec: the container's own process, with other args and tty. */
async function execSpec(
  conn: Containerd,
  containerId: string,
  command: string[],
  tty: boolean,
): Promise<unknown> {
  const rec = await getContainer(conn, containerId);
  const proc = { ...(rec.spec?.process ?? {}) };
  proc.args = command;
  proc.terminal = tty;
  if (tty && Array.isArray(proc.env) && !proc.env.some((e: string) => e.startsWith("TERM="))) {
    proc.env = [...proc.env, "TERM=xterm"];
  }
  return proc;
}

/** Result of a finished exec. */
export interface ExecResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  exitCode: number;
  timedOut: boolean;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Runs `command` in the task to completion and captures its output (ExecTask).
 * After `timeoutMs` the exec is killed and `timedOut` is set.
 *
 * @example
 * ```ts ignore
 * const r = await execOnce(conn, "web-1", ["/bin/echo", "hi"], 5000);
 * ```
 */
export async function execOnce(
  conn: Containerd,
  containerId: string,
  command: string[],
  timeoutMs: number,
): Promise<ExecResult> {
  if (command.length === 0) throw new Error("exec: the command is empty");
  const execId = `exec-${Date.now().toString(36)}-${++execSeq}`;
  const fifos = await Fifos.make(["stdout", "stderr"]);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  try {
    const spec = await execSpec(conn, containerId, command, false);
    await execProcess(conn, containerId, execId, spec, {
      stdout: fifos.path("stdout"),
      stderr: fifos.path("stderr"),
    });
    const reading = Promise.all([
      pump(fifos.path("stdout"), (b) => out.push(b)),
      pump(fifos.path("stderr"), (b) => err.push(b)),
    ]);
    const waiting = waitTask(conn, containerId, execId);
    await startTask(conn, containerId, execId);
    const timedOut = await Promise.race([waiting.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut) await killTask(conn, containerId, 9, { execId }).catch(() => {});
    const st = await waiting;
    await Promise.race([reading, sleep(2000)]);
    return { stdout: concat(out), stderr: concat(err), exitCode: st.exitStatus, timedOut };
  } finally {
    await deleteProcess(conn, containerId, execId).catch(() => {});
    await fifos.remove();
  }
}

/** The callbacks of a streaming exec session. */
export interface ExecStreamIO {
  onStdout(b: Uint8Array): void;
  onStderr(b: Uint8Array): void;
}

/** A running streaming exec. */
export interface ExecSession {
  /** Writes to the exec's stdin. */
  write(b: Uint8Array): Promise<void>;
  /** Closes the exec's stdin. */
  closeStdin(): Promise<void>;
  /** Resizes the exec's own pty (not the task's). */
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code once the exec has exited and its output is drained. */
  done: Promise<number>;
  /** Kills the exec (client went away). */
  kill(): Promise<void>;
}

/**
 * Starts an interactive exec (ExecTaskStreaming).
 *
 * @example
 * ```ts ignore
 * const s = await execStream(conn, "web-1", ["/bin/sh"], true, io);
 * await s.write(new TextEncoder().encode("exit 3\n"));
 * await s.done; // 3
 * ```
 */
export async function execStream(
  conn: Containerd,
  containerId: string,
  command: string[],
  tty: boolean,
  io: ExecStreamIO,
): Promise<ExecSession> {
  if (command.length === 0) throw new Error("exec: the command is empty");
  const execId = `exec-${Date.now().toString(36)}-${++execSeq}`;
  const names = tty ? ["stdin", "stdout"] : ["stdin", "stdout", "stderr"];
  const fifos = await Fifos.make(names);
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await deleteProcess(conn, containerId, execId).catch(() => {});
    await fifos.remove();
  };
  try {
    const spec = await execSpec(conn, containerId, command, tty);
    await execProcess(conn, containerId, execId, spec, {
      stdin: fifos.path("stdin"),
      stdout: fifos.path("stdout"),
      stderr: tty ? "" : fifos.path("stderr"),
      terminal: tty,
    });
    const stdinOpen = Deno.open(fifos.path("stdin"), { write: true });
    const reading = Promise.all([
      pump(fifos.path("stdout"), io.onStdout),
      tty ? Promise.resolve() : pump(fifos.path("stderr"), io.onStderr),
    ]);
    const waiting = waitTask(conn, containerId, execId);
    await startTask(conn, containerId, execId);
    const stdin = await stdinOpen;
    let stdinClosed = false;
    const done = (async () => {
      try {
        const st = await waiting;
        await Promise.race([reading, sleep(2000)]);
        return st.exitStatus;
      } finally {
        if (!stdinClosed) {
          stdinClosed = true;
          try {
            stdin.close();
          } catch { /* closed */ }
        }
        await cleanup();
      }
    })();
    return {
      async write(b) {
        if (stdinClosed) return;
        let off = 0;
        while (off < b.length) off += await stdin.write(b.subarray(off));
      },
      async closeStdin() {
        if (stdinClosed) return;
        stdinClosed = true;
        stdin.close();
        await closeStdin(conn, containerId, execId).catch(() => {});
      },
      async resize(cols, rows) {
        if (!tty || cols <= 0 || rows <= 0) return;
        try {
          await resizePty(conn, containerId, execId, cols, rows);
        } catch (e) {
          if (!(e instanceof ContainerdError && e.notFound)) throw e;
        }
      },
      done,
      async kill() {
        await killTask(conn, containerId, 9, { execId }).catch(() => {});
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
