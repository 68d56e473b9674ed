/**
 * Adapters from async functions to grpc-js handlers, with one mapping from our errors to gRPC
 * status codes. Every message that leaves the plugin is redacted.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { type Logger, redact } from "../log/hclog.ts";

/** An error carrying the gRPC status code Nomad should see. */
export class RpcError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
    this.name = "RpcError";
  }
}

/** The status code for an error: RpcError's own, INVALID_ARGUMENT for config errors, else INTERNAL. */
export function statusOf(e: unknown): grpc.status {
  if (e instanceof RpcError) return e.code;
  if (e instanceof Error && e.name === "ConfigError") return grpc.status.INVALID_ARGUMENT;
  if (e instanceof Error && e.name === "NotFoundError") return grpc.status.NOT_FOUND;
  return grpc.status.INTERNAL;
}

function toServiceError(e: unknown): Partial<grpc.StatusObject> {
  const message = redact(e instanceof Error ? e.message : String(e));
  return { code: statusOf(e), details: message };
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
        const err = toServiceError(e);
        logger.warn(`${name} stream failed`, { error: err.details });
        call.destroy(Object.assign(new Error(err.details), err));
      });
  };
}

/** An abortable sleep: resolves after `ms` or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
