/**
 * ExecTaskStreaming (`nomad alloc exec`) over gRPC: the first message sets up the exec, later ones
 * carry stdin and terminal sizes; output goes back as it comes, then stdout/stderr close, then the exit.
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
import { RpcError } from "../plugin/rpc.ts";
import { execStream } from "./exec.ts";

/** ExecTaskStreaming: setup first, then stdin / tty size; output, then the exit, then end. */
export function streamExec(
  target: (taskId: string) => { conn: Containerd; containerId: string },
  call: grpc.ServerDuplexStream<ExecTaskStreamingRequest, ExecTaskStreamingResponse>,
): void {
  let session: Awaited<ReturnType<typeof execStream>> | undefined;
  const pending: ExecTaskStreamingRequest[] = [];
  let ended = false;
  const fail = (e: unknown) => {
    if (ended) return;
    ended = true;
    const code = e instanceof RpcError ? e.code : grpc.status.INTERNAL;
    call.destroy(Object.assign(new Error((e as Error).message), { code, details: (e as Error).message }));
  };
  const apply = async (m: ExecTaskStreamingRequest) => {
    if (!session) return;
    if (m.ttySize) await session.resize(m.ttySize.width, m.ttySize.height);
    if (m.stdin?.data?.length) await session.write(m.stdin.data);
    if (m.stdin?.close) await session.closeStdin();
  };
  let chain = Promise.resolve();
  call.on("data", (m: ExecTaskStreamingRequest) => {
    if (m.setup && !session) {
      const { conn, containerId } = target(m.setup.taskId);
      const enc = (b: Uint8Array): ExecTaskStreamingIOOperation => ({ data: b, close: false });
      execStream(conn, containerId, m.setup.command, m.setup.tty, {
        onStdout: (b) =>
          !ended && call.write({ stdout: enc(b), stderr: undefined, exited: false, result: undefined }),
        onStderr: (b) =>
          !ended && call.write({ stdout: undefined, stderr: enc(b), exited: false, result: undefined }),
      }).then(async (s) => {
        session = s;
        for (const p of pending.splice(0)) await apply(p);
        const code = await s.done;
        if (ended) return;
        const close = { data: new Uint8Array(), close: true };
        call.write({ stdout: close, stderr: undefined, exited: false, result: undefined });
        call.write({ stdout: undefined, stderr: close, exited: false, result: undefined });
        call.write({
          stdout: undefined,
          stderr: undefined,
          exited: true,
          result: { exitCode: code, signal: 0, oomKilled: false },
        });
        ended = true;
        call.end();
      }).catch(fail);
      return;
    }
    if (!session) {
      pending.push(m);
      return;
    }
    chain = chain.then(() => apply(m)).catch(fail);
  });
  call.on("cancelled", () => {
    if (!ended) {
      ended = true;
      session?.kill();
    }
  });
  call.on("error", () => {});
}
