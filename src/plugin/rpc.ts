/**
 * Adapters from async functions to grpc-js handlers, with one mapping from our errors to gRPC
 * status codes. Every message that leaves the plugin is redacted.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { type Logger, redact } from "../log/hclog.ts";
import { Status } from "../gen/google/rpc/status.ts";
import { RecoverableError } from "../gen/nomad/recoverable_error.ts";

/**
 * An error carrying the gRPC status code Nomad should see. A `recoverable` one tells Nomad's task
 * runner that a restart may succeed (a registry that is down, a timeout), so the task is restarted
 * under its restart policy instead of failing the allocation at once.
 */
export class RpcError extends Error {
  constructor(readonly code: grpc.status, message: string, readonly recoverable = false) {
    super(message);
    this.name = "RpcError";
  }
}

const RECOVERABLE_TYPE_URL = "type.googleapis.com/hashicorp.nomad.plugins.shared.structs.RecoverableError";

/**
 * The `grpc-status-details-bin` trailer Nomad's plugin client reads: a google.rpc.Status whose first
 * detail is a RecoverableError.
 */
export function recoverableDetails(code: grpc.status, message: string): grpc.Metadata {
  const md = new grpc.Metadata();
  const status = Status.encode({
    code,
    message,
    details: [{
      typeUrl: RECOVERABLE_TYPE_URL,
      value: RecoverableError.encode({ recoverable: true }).finish(),
    }],
  }).finish();
  md.set("grpc-status-details-bin", Buffer.from(status));
  return md;
}

/** The status code for an error: RpcError's own, INVALID_ARGUMENT for config errors, else INTERNAL. */
export function statusOf(e: unknown): grpc.status {
  if (e instanceof RpcError) return e.code;
  if (e instanceof Error && e.name === "ConfigError") return grpc.status.INVALID_ARGUMENT;
  if (e instanceof Error && e.name === "NotFoundError") return grpc.status.NOT_FOUND;
  return grpc.status.INTERNAL;
}

/**
 * The status a failed call answers with: its code, its message (secrets redacted), Nomad's recoverable flag.
 *
 * @example
 * ```ts ignore
 * callback(toServiceError(new RpcError(grpc.status.NOT_FOUND, "no task")));
 * ```
 */
export function toServiceError(e: unknown): Partial<grpc.StatusObject> {
  // toWellFormed: a message quoting invalid UTF-8 (a fuzzed map key) made grpc-js throw while encoding
  // the status, which killed the plugin.
  const message = redact(e instanceof Error ? e.message : String(e)).toWellFormed();
  const code = statusOf(e);
  if (e instanceof RpcError && e.recoverable) {
    return { code, details: message, metadata: recoverableDetails(code, message) };
  }
  return { code, details: message };
}

/**
 * Wraps an async unary implementation as a grpc-js handler.
 *
 * @example
 * ```ts ignore
 * const impl = { pluginInfo: unary(log, "PluginInfo", async () => ({ name: "x" })) };
 * ```
 */
export function unary<Req, Res>(
  logger: Logger,
  name: string,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then((res) => cb(null, res))
      .catch((e) => {
        const err = toServiceError(e);
        logger.log(err.code === grpc.status.INTERNAL ? "error" : "debug", `${name} failed`, {
          error: err.details,
        });
        cb(err);
      });
  };
}

/**
 * Wraps an async server-streaming implementation; the function gets a `send` and an AbortSignal that
 * fires when the client goes away. When it returns, the stream ends.
 *
 * @example
 * ```ts ignore
 * const impl = { fingerprint: serverStream(log, "Fingerprint", async (_req, send, signal) => { ... }) };
 * ```
 */
export function serverStream<Req, Res>(
  logger: Logger,
  name: string,
  fn: (req: Req, send: (res: Res) => void, signal: AbortSignal) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const ac = new AbortController();
    call.on("cancelled", () => ac.abort());
    call.on("close", () => ac.abort());
    const send = (res: Res) => {
      if (!ac.signal.aborted) call.write(res);
    };
    fn(call.request, send, ac.signal)
      .then(() => {
        if (!ac.signal.aborted) call.end();
      })
      .catch((e) => {
        if (ac.signal.aborted) return;
        logger.warn(`${name} stream failed`, { error: failStream(call, e).details });
      });
  };
}

/**
 * Ends a server or bidi stream with the status for `e` (redacted, as from a unary call) and returns it.
 * grpc-js sends a streaming call's status only from `end()`; its "error" event sets that status and ends the
 * stream. `destroy(err)` would close the stream without any status: the client would wait forever.
 *
 * @example
 * ```ts ignore
 * failStream(call, new RpcError(grpc.status.NOT_FOUND, "no task"));
 * ```
 */
export function failStream(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  e: unknown,
): Partial<grpc.StatusObject> {
  const err = toServiceError(e);
  call.emit("error", Object.assign(new Error(err.details), err));
  return err;
}
