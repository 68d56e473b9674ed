/**
 * ExecTaskStreaming (`nomad alloc exec`) over gRPC: the first message sets up the exec, later ones
 * carry stdin and terminal sizes; output goes back as it comes, then stdout/stderr close, then the exit.
 * An exec that cannot start ends the call with the runtime's reason as its status; a client that goes
 * away ends the exec.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type {
  ExecTaskStreamingIOOperation,
  ExecTaskStreamingRequest,
  ExecTaskStreamingResponse,
} from "../gen/nomad/driver.ts";
import type { Containerd } from "../containerd/connection.ts";
import type { Logger } from "../log/hclog.ts";
import { failStream, RpcError, statusOf } from "../plugin/rpc.ts";
import { type ExecSession, execStream } from "./exec.ts";

type Call = grpc.ServerDuplexStream<ExecTaskStreamingRequest, ExecTaskStreamingResponse>;

const out = (b: Uint8Array): ExecTaskStreamingIOOperation => ({ data: b, close: false });
const closed: ExecTaskStreamingIOOperation = { data: new Uint8Array(), close: true };
const none = { stdout: undefined, stderr: undefined, exited: false, result: undefined };

/** Bytes a websocket close frame may carry as its reason (125 less the 2-byte code). */
const CLOSE_REASON_MAX = 123;

/**
 * The status message of a failed ExecTaskStreaming, shaped to reach the user of `nomad alloc exec`. Nomad's
 * HTTP API passes the error to the CLI as the reason of a websocket close frame, as
 * `rpc error: code = <Code> desc = <message>`: a reason over 123 bytes is not sent at all (the CLI then says
 * only "unexpected EOF"), and one containing "closed" or "EOF" is taken for a normal end (the CLI exits 0).
 * So the message is cut to fit, with "…", and those two words are reworded.
 *
 * @example
 * ```ts
 * execStatusMessage(9, 'exec: "ls": executable file not found in $PATH'); // unchanged: it fits
 * ```
 */
export function execStatusMessage(code: grpc.status, message: string): string {
  const name = (grpc.status[code] ?? "Unknown").toLowerCase().replace(
    /(^|_)([a-z])/g,
    (_, _u, c) => c.toUpperCase(),
  );
  const budget = CLOSE_REASON_MAX - `rpc error: code = ${name} desc = `.length;
  let m = message.replace(/closed/gi, "shut").replace(/EOF/g, "end of file");
  const bytes = (t: string) => new TextEncoder().encode(t).length;
  if (bytes(m) <= budget) return m;
  const chars = [...m];
  while (chars.length > 0 && bytes(chars.join("")) + 3 > budget) chars.pop();
  m = chars.join("") + "…";
  return m;
}

/** ExecTaskStreaming: setup first, then stdin / tty size; output, then the exit, then end. */
export function streamExec(
  log: Logger,
  target: (taskId: string) => { conn: Containerd; containerId: string },
  call: Call,
): void {
  const x = new ExecCall(log, target, call);
  call.on("data", (m: ExecTaskStreamingRequest) => x.onMessage(m));
  call.on("cancelled", () => x.onCancelled());
  // A client that half-closes without ever sending a setup gets an answer instead of a call left open.
  call.on("end", () => x.onEnd());
  call.on("error", () => {});
}

/** One `nomad alloc exec` call: its exec session once started, and whether the call is over. */
class ExecCall {
  #session?: ExecSession;
  #starting = false;
  /** set once the call is over (ended, failed or cancelled): nothing more is written */
  #ended = false;
  readonly #pending: ExecTaskStreamingRequest[] = [];
  #chain = Promise.resolve();

  constructor(
    readonly log: Logger,
    readonly target: (taskId: string) => { conn: Containerd; containerId: string },
    readonly call: Call,
  ) {}

  onMessage(m: ExecTaskStreamingRequest): void {
    if (m.setup && !this.#starting) {
      this.#starting = true;
      this.#start(m.setup).catch((e) => this.#fail(e));
    } else if (!this.#session) {
      this.#pending.push(m);
    } else {
      this.#chain = this.#chain.then(() => this.#apply(m)).catch((e) => this.#fail(e));
    }
  }

  onCancelled(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#session?.kill();
  }

  onEnd(): void {
    if (!this.#starting) this.#fail(new Error("exec: the stream ended before its setup message"));
  }

  async #start(setup: NonNullable<ExecTaskStreamingRequest["setup"]>): Promise<void> {
    const { conn, containerId } = this.target(setup.taskId);
    const s = await execStream(conn, containerId, setup.command, setup.tty, {
      onStdout: (b) => !this.#ended && this.call.write({ ...none, stdout: out(b) }),
      onStderr: (b) => !this.#ended && this.call.write({ ...none, stderr: out(b) }),
    });
    this.#session = s;
    // The client went away while the exec started: end it.
    if (this.#ended) return void s.kill();
    for (const p of this.#pending.splice(0)) await this.#apply(p);
    const code = await s.done;
    if (this.#ended) return;
    this.#ended = true;
    this.call.write({ ...none, stdout: closed });
    this.call.write({ ...none, stderr: closed });
    this.call.write({ ...none, exited: true, result: { exitCode: code, signal: 0, oomKilled: false } });
    this.call.end();
  }

  async #apply(m: ExecTaskStreamingRequest): Promise<void> {
    const s = this.#session!;
    if (m.ttySize) await s.resize(m.ttySize.width, m.ttySize.height);
    if (m.stdin?.data?.length) await s.write(m.stdin.data);
    if (m.stdin?.close) await s.closeStdin();
  }

  #fail(e: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const code = statusOf(e);
    const st = failStream(
      this.call,
      new RpcError(code, execStatusMessage(code, (e as Error)?.message ?? String(e))),
    );
    this.log.debug("ExecTaskStreaming failed", { error: st.details });
    this.#session?.kill();
  }
}
