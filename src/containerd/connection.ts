/**
 * One gRPC channel to containerd over its unix socket, shared by every service client, with the
 * namespace header on every call. grpc-js reconnects by itself after a containerd restart; the backoff
 * is kept short so a restarted containerd is seen again within a second.
 *
 * Knows nothing of Nomad: this folder could be a containerd library of its own.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/** grpc-js appends resolver notes that tell an operator nothing; keep the cause. */
function tidy(details: string): string {
  return details.replace(/\.?\s*Resolution note:.*$/s, "").replace(
    /^No connection established\. Last error: (Error: )?/,
    "",
  )
    .trim();
}

/** A containerd call that failed, with the gRPC code and the method named. */
export class ContainerdError extends Error {
  constructor(readonly method: string, readonly code: grpc.status, readonly details: string) {
    super(`containerd ${method}: ${grpc.status[code] ?? code}: ${tidy(details)}`);
    this.name = "ContainerdError";
  }
  /** True for NOT_FOUND. */
  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
  /** True for ALREADY_EXISTS. */
  get alreadyExists(): boolean {
    return this.code === grpc.status.ALREADY_EXISTS;
  }
  /** True when containerd could not be reached. */
  get unavailable(): boolean {
    return this.code === grpc.status.UNAVAILABLE || this.code === grpc.status.DEADLINE_EXCEEDED;
  }
}

/** Options of one call. */
export interface CallOpts {
  /** Deadline in milliseconds from now; none by default. */
  timeoutMs?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Overrides the connection's namespace. */
  namespace?: string;
}

// deno-lint-ignore no-explicit-any -- the generated client constructors differ only in their methods
type ClientCtor<C> = new (address: string, creds: grpc.ChannelCredentials, options?: any) => C;

/** A bound unary method of a generated client. */
export type UnaryFn<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: Partial<grpc.CallOptions>,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => grpc.ClientUnaryCall;

/** A connection to one containerd, in one default namespace. */
export class Containerd {
  readonly #channel: grpc.Channel;
  readonly #target: string;
  readonly #clients = new Map<unknown, unknown>();

  /**
   * @param address containerd's socket path, e.g. `/run/containerd/containerd.sock`
   * @param namespace the default namespace of calls
   */
  constructor(readonly address: string, readonly namespace: string) {
    this.#target = `unix://${address}`;
    this.#channel = new grpc.Channel(this.#target, grpc.credentials.createInsecure(), {
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 500,
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      // containerd checks :authority loosely; "localhost" keeps Go's http2 server happy.
      "grpc.default_authority": "localhost",
    });
  }

  /** A generated client for one service, sharing this connection's channel. */
  client<C>(ctor: ClientCtor<C>): C {
    let c = this.#clients.get(ctor) as C | undefined;
    if (!c) {
      const ch = this.#channel;
      c = new ctor(this.#target, grpc.credentials.createInsecure(), { channelOverride: ch });
      this.#clients.set(ctor, c);
    }
    return c;
  }

  /** Metadata carrying the namespace. */
  metadata(namespace = this.namespace): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("containerd-namespace", namespace);
    return md;
  }

  /** Call options from {@linkcode CallOpts}. */
  callOptions(opts: CallOpts = {}): Partial<grpc.CallOptions> {
    return opts.timeoutMs !== undefined ? { deadline: Date.now() + opts.timeoutMs } : {};
  }

  /**
   * Runs one unary call and turns its error into a {@linkcode ContainerdError}.
   *
   * @example
   * ```ts ignore
   * const c = conn.client(VersionClient);
   * const v = await conn.unary("Version.Version", c.version.bind(c), {});
   * ```
   */
  unary<Req, Res>(method: string, fn: UnaryFn<Req, Res>, req: Req, opts: CallOpts = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new ContainerdError(method, grpc.status.CANCELLED, String(opts.signal.reason ?? "aborted")));
        return;
      }
      const call = fn(req, this.metadata(opts.namespace), this.callOptions(opts), (err, res) => {
        opts.signal?.removeEventListener("abort", onAbort);
        if (err) reject(new ContainerdError(method, err.code, err.details || err.message));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Closes the channel and every client. */
  close(): void {
    this.#channel.close();
  }
}
