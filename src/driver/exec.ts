/**
 * Exec into a running task: `ExecTask` (run to completion, capture output — Nomad script checks) and
 * the streaming form behind `nomad alloc exec` (stdin, tty, resize of the exec's own pty, exit code).
 * The FIFOs the shim talks through are made here and always removed afterwards. An exec that cannot start
 * (no such program, not executable, the task's cwd gone, the task no longer running) fails at once with the
 * runtime's reason, and leaves no FIFO, exec process or pending read behind.
 *
 * @module
 */
import * as fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
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
import { RpcError } from "../plugin/rpc.ts";
import { concatBytes } from "../util/bytes.ts";
import { sleep } from "../util/sleep.ts";

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

/**
 * An exec's output FIFO, read without holding a thread. Deno reads a FIFO opened with Deno.open on its small
 * pool of blocking threads, one held per pending read: about 30 execs waiting for output at once stalled
 * every other file operation of the plugin (measured: 24 fine, 40 hung). Here the FIFO is opened
 * non-blocking (so the shim's open for writing succeeds at once) and polled: a read that finds nothing
 * returns at once and the next is tried 5 ms later, backing off to 50 ms while the exec is silent.
 *
 * A read of 0 bytes means every writer closed, but also that none opened yet: it ends the pump once output
 * was seen or the exec has exited (`exited()`). `stop()` ends it where a background child of the exec
 * keeps the FIFO open after the exec itself exited.
 */
class FifoPump {
  readonly #fd: number;
  #stopped = false;
  done?: Promise<void>;

  constructor(readonly path: string) {
    this.#fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  /** Starts reading (once the exec started), calling `onData` per chunk; `done` resolves at the end. */
  start(onData: (b: Uint8Array) => void, exited: () => boolean): void {
    this.done = this.#run(onData, exited).finally(() => this.#close());
  }

  async #run(onData: (b: Uint8Array) => void, exited: () => boolean): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let seen = false;
    let idle = 5;
    const wait = async () => {
      await sleep(idle);
      idle = Math.min(idle * 2, 50);
    };
    while (!this.#stopped) {
      let n: number;
      try {
        n = fs.readSync(this.#fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN") return;
        await wait();
        continue;
      }
      if (n === 0) {
        if (seen || exited()) return;
        await wait();
        continue;
      }
      seen = true;
      idle = 5;
      onData(buf.slice(0, n));
    }
  }

  /** Ends the pump (or closes a pump that never started). */
  stop(): void {
    this.#stopped = true;
    if (!this.done) this.#close();
  }

  #close(): void {
    try {
      fs.closeSync(this.#fd);
    } catch { /* closed */ }
  }
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

/** Where an exec's output goes (the callbacks of a streaming exec session). */
export interface ExecStreamIO {
  onStdout(b: Uint8Array): void;
  onStderr(b: Uint8Array): void;
}

/** An exec process that started: its wait, its output pumps, its stdin (when asked for), and its undo. */
interface Launched {
  execId: string;
  /** resolves with the exit status */
  waiting: ReturnType<typeof waitTask>;
  /** resolves when stdout and stderr reached EOF */
  reading: Promise<unknown>;
  /** stops reading output (a background child may hold the FIFOs open after the exec exited) */
  stopReading(): void;
  stdin?: Deno.FsFile;
  /** deletes the exec process and its FIFOs (idempotent) */
  cleanup(): Promise<void>;
}

/**
 * The runtime's reason an exec could not start, without the layers of wrapping runc and containerd add:
 * `OCI runtime exec failed: exec failed: unable to start container process: exec: "/x": stat /x: no such
 * file or directory: unknown` becomes `exec: "/x": no such file or directory`.
 *
 * @example
 * ```ts
 * execStartReason('OCI runtime exec failed: exec failed: unable to start container process: exec: "ls": executable file not found in $PATH: unknown');
 * // 'exec: "ls": executable file not found in $PATH'
 * ```
 */
export function execStartReason(details: string): string {
  let r = details.trim().replace(/:\s*unknown$/, "");
  r = r.replace(
    /^(OCI runtime exec failed:\s*)?(exec failed:\s*)?(unable to start container process:\s*)?/,
    "",
  );
  // `exec: "/x": stat /x: …` names the path twice.
  r = r.replace(/^exec: "([^"]*)": stat \1: /, 'exec: "$1": ');
  return r.trim() || details.trim();
}

/**
 * The error of an exec that could not start: the runtime's own reason as a gRPC status Nomad shows
 * (`nomad alloc exec` prints it and exits non-zero; a script check reports it).
 */
function startError(command: string[], e: unknown): Error {
  if (!(e instanceof ContainerdError)) return e instanceof Error ? e : new Error(String(e));
  if (e.notFound) {
    return new RpcError(grpc.status.NOT_FOUND, `exec ${JSON.stringify(command[0])}: the task is not running`);
  }
  const reason = execStartReason(e.details);
  // runc's own reasons begin with `exec: "<cmd>"`; others (a stopped task) get the command in front.
  const message = reason.startsWith("exec") ? reason : `exec ${JSON.stringify(command[0])}: ${reason}`;
  return new RpcError(grpc.status.FAILED_PRECONDITION, message);
}

/**
 * Creates and starts an exec with FIFOs for its stdio and begins pumping its output. On any failure the exec
 * process is deleted, the FIFOs are removed (which releases the opens still waiting for the shim), and the
 * runtime's reason is thrown.
 */
async function launch(
  conn: Containerd,
  containerId: string,
  command: string[],
  opts: { tty: boolean; stdin: boolean },
  out: ExecStreamIO,
): Promise<Launched> {
  if (command.length === 0) throw new RpcError(grpc.status.INVALID_ARGUMENT, "exec: the command is empty");
  const execId = `exec-${Date.now().toString(36)}-${++execSeq}`;
  const names = [...(opts.stdin ? ["stdin"] : []), "stdout", ...(opts.tty ? [] : ["stderr"])];
  const fifos = await Fifos.make(names);
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    cleaned ??= (async () => {
      await deleteProcess(conn, containerId, execId).catch(() => {});
      await fifos.remove();
    })();
  let stdinOpen: Promise<Deno.FsFile> | undefined;
  const pumps: FifoPump[] = [];
  try {
    const spec = await execSpec(conn, containerId, command, opts.tty);
    await execProcess(conn, containerId, execId, spec, {
      stdin: opts.stdin ? fifos.path("stdin") : "",
      stdout: fifos.path("stdout"),
      stderr: opts.tty ? "" : fifos.path("stderr"),
      terminal: opts.tty,
    });
    // The stdin open waits for the shim to open the other end, which it does when the exec starts; the
    // output FIFOs are opened non-blocking, before, so that the shim's opens find a reader.
    stdinOpen = opts.stdin ? Deno.open(fifos.path("stdin"), { write: true }) : undefined;
    pumps.push(new FifoPump(fifos.path("stdout")));
    if (!opts.tty) pumps.push(new FifoPump(fifos.path("stderr")));
    let exited = false;
    const waiting = waitTask(conn, containerId, execId);
    waiting.then(() => exited = true, () => exited = true);
    await startTask(conn, containerId, execId);
    pumps[0].start(out.onStdout, () => exited);
    pumps[1]?.start(out.onStderr, () => exited);
    const stdin = stdinOpen ? await stdinOpen : undefined;
    const reading = Promise.all(pumps.map((p) => p.done));
    return { execId, waiting, reading, stopReading: () => pumps.forEach((p) => p.stop()), stdin, cleanup };
  } catch (e) {
    for (const p of pumps) p.stop();
    await cleanup();
    // The open was released by the FIFO removal above: close what it opened.
    stdinOpen?.then((f) => f.close(), () => {});
    throw startError(command, e);
  }
}

/**
 * Runs `command` in the task to completion and captures its output (ExecTask).
 * After `timeoutMs` the exec is killed and `timedOut` is set. An exec that cannot start throws the
 * runtime's reason.
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
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const x = await launch(conn, containerId, command, { tty: false, stdin: false }, {
    onStdout: (b) => out.push(b),
    onStderr: (b) => err.push(b),
  });
  try {
    const timedOut = await Promise.race([x.waiting.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut) await killTask(conn, containerId, 9, { execId: x.execId }).catch(() => {});
    const st = await x.waiting;
    await Promise.race([x.reading, sleep(2000)]);
    return { stdout: concatBytes(out), stderr: concatBytes(err), exitCode: st.exitStatus, timedOut };
  } finally {
    x.stopReading();
    await x.cleanup();
  }
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
 * Starts an interactive exec (ExecTaskStreaming). An exec that cannot start throws the runtime's reason.
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
  const x = await launch(conn, containerId, command, { tty, stdin: true }, io);
  const stdin = x.stdin!;
  let stdinClosed = false;
  const closeOurStdin = () => {
    if (stdinClosed) return false;
    stdinClosed = true;
    try {
      stdin.close();
    } catch { /* closed */ }
    return true;
  };
  const done = (async () => {
    try {
      const st = await x.waiting;
      await Promise.race([x.reading, sleep(2000)]);
      return st.exitStatus;
    } finally {
      x.stopReading();
      closeOurStdin();
      await x.cleanup();
    }
  })();
  return {
    async write(b) {
      if (stdinClosed) return;
      let off = 0;
      while (off < b.length) off += await stdin.write(b.subarray(off));
    },
    async closeStdin() {
      if (closeOurStdin()) await closeStdin(conn, containerId, x.execId).catch(() => {});
    },
    async resize(cols, rows) {
      if (!tty || cols <= 0 || rows <= 0) return;
      try {
        await resizePty(conn, containerId, x.execId, cols, rows);
      } catch (e) {
        if (!(e instanceof ContainerdError && e.notFound)) throw e;
      }
    },
    done,
    async kill() {
      await killTask(conn, containerId, 9, { execId: x.execId }).catch(() => {});
    },
  };
}
