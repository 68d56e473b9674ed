/**
 * go-plugin's side of the contract: the magic-cookie check, the gRPC server on a unix socket, the
 * handshake line on stdout, and the services every go-plugin server has (health, controller, broker,
 * stdio). Knows nothing of Nomad drivers: mod.ts hands it the driver's services.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthService } from "../gen/grpc/health/v1/health.ts";
import { GRPCControllerService } from "../gen/goplugin/grpc_controller.ts";
import { GRPCBrokerService } from "../gen/goplugin/grpc_broker.ts";
import { GRPCStdioService } from "../gen/goplugin/grpc_stdio.ts";
import type { Logger } from "../log/hclog.ts";
import { failStream, RpcError, toServiceError } from "./rpc.ts";

/** The environment key and value Nomad sets before it execs a plugin. */
export const MAGIC_COOKIE_KEY = "NOMAD_PLUGIN_MAGIC_COOKIE";
/** @see MAGIC_COOKIE_KEY */
export const MAGIC_COOKIE_VALUE = "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255";
/** go-plugin's core protocol version. */
export const CORE_PROTOCOL_VERSION = 1;
/** Nomad's driver plugin protocol version. */
export const APP_PROTOCOL_VERSION = 2;

/** What the handshake environment says: where to put the socket, or why we cannot run. */
export type Handshake = { ok: true; socketDir: string } | { ok: false; message: string };

/**
 * Checks the go-plugin environment. `env` is a getter so callers can pass `Deno.env.get` or a map.
 *
 * @example
 * ```ts
 * readHandshake((k) => ({ NOMAD_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE } as Record<string, string>)[k]);
 * // { ok: true, socketDir: "/tmp" }
 * ```
 */
export function readHandshake(env: (key: string) => string | undefined): Handshake {
  if (env(MAGIC_COOKIE_KEY) !== MAGIC_COOKIE_VALUE) {
    return {
      ok: false,
      message: "This binary is a Nomad task driver plugin (containerd-driver). It is started by a Nomad " +
        "agent from its plugin_dir, not run by hand.",
    };
  }
  const versions = env("PLUGIN_PROTOCOL_VERSIONS");
  if (versions && !versions.split(",").map((v) => v.trim()).includes(String(APP_PROTOCOL_VERSION))) {
    return {
      ok: false,
      message:
        `containerd-driver speaks plugin protocol ${APP_PROTOCOL_VERSION}; the host offered "${versions}"`,
    };
  }
  if (env("PLUGIN_CLIENT_CERT")) {
    return {
      ok: false,
      message: "containerd-driver does not support go-plugin AutoMTLS (PLUGIN_CLIENT_CERT is set)",
    };
  }
  return { ok: true, socketDir: env("PLUGIN_UNIX_SOCKET_DIR") || env("TMPDIR") || "/tmp" };
}

/** One gRPC service and its implementation. */
export interface Service {
  definition: grpc.ServiceDefinition;
  // deno-lint-ignore no-explicit-any -- grpc-js's own type for implementations is untyped
  implementation: any;
}

/**
 * Services whose implementations come later: registered at once (so the server can listen and the
 * handshake line go out), each call waiting for `ready`. A call made before then is answered as soon as
 * the implementations are there; if they never come, with INTERNAL and the reason.
 *
 * @example
 * ```ts ignore
 * const services = deferServices([DriverService], makeDriver().then(driverServices));
 * ```
 */
export function deferServices(definitions: grpc.ServiceDefinition[], ready: Promise<Service[]>): Service[] {
  ready.catch(() => {}); // answered per call
  return definitions.map((definition) => {
    const implementation = Object.fromEntries(
      Object.entries(definition).map(([name, method]) => {
        // deno-lint-ignore no-explicit-any -- grpc-js handlers: (call, callback) or (call)
        const handler = async (call: any, callback?: grpc.sendUnaryData<unknown>) => {
          let impl;
          try {
            impl = (await ready).find((s) => s.definition === definition)?.implementation;
            if (!impl) throw new Error(`no implementation of ${method.path}`);
          } catch (e) {
            const err = new RpcError(grpc.status.INTERNAL, `plugin not ready: ${(e as Error).message}`);
            if (callback) callback(toServiceError(err));
            else failStream(call, err);
            return;
          }
          return callback ? impl[name](call, callback) : impl[name](call);
        };
        return [name, handler];
      }),
    );
    return { definition, implementation };
  });
}

/** A running plugin server. */
export interface PluginServer {
  /** The socket path announced in the handshake line. */
  socketPath: string;
  /** Resolves when the server has stopped (controller Shutdown or {@linkcode PluginServer.stop}). */
  done: Promise<void>;
  /** Stops serving and removes the socket. */
  stop(): Promise<void>;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  socketDir: string;
  /** The socket's file name; by default one unique in a shared directory (pid and a random part). */
  socketName?: string;
  logger: Logger;
  services: Service[];
  /** Runs after controller Shutdown, before the server closes. */
  onShutdown?: () => Promise<void> | void;
  /** Writes the handshake line; stdout by default. */
  announce?: (line: string) => void;
}

function writeStdout(line: string): void {
  const bytes = new TextEncoder().encode(line);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** The streams the server keeps open (health watch, broker, stdio): ended when the server stops. */
type OpenStreams = Set<
  grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>
>;

/**
 * Serves gRPC on a fresh unix socket in `socketDir` and prints go-plugin's handshake line.
 *
 * @example
 * ```ts ignore
 * const server = await serve({ socketDir: "/tmp", logger, services: [] });
 * await server.done;
 * ```
 */
export async function serve(opts: ServeOptions): Promise<PluginServer> {
  const name = opts.socketName ?? `containerd-driver-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.sock`;
  const socketPath = `${opts.socketDir}/${name}`;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => resolveDone = r);
  const streams: OpenStreams = new Set();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return done;
    stopped = true;
    await shutdown(server, socketPath, streams);
    resolveDone();
  };
  for (const s of [...goPluginServices(opts, streams, stop), ...opts.services]) {
    server.addService(s.definition, s.implementation);
  }
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) reject(new Error(`cannot listen on ${socketPath}: ${err.message}`));
      else resolve();
    });
  });
  const line = `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socketPath}|grpc|\n`;
  (opts.announce ?? writeStdout)(line);
  opts.logger.debug("plugin serving", { socket: socketPath });
  return { socketPath, done, stop };
}

/** Ends the open streams, stops the server (forced after 500 ms) and removes the socket. */
async function shutdown(server: grpc.Server, socketPath: string, streams: OpenStreams): Promise<void> {
  for (const s of streams) {
    try {
      s.end();
    } catch { /* already closed */ }
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 500);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  try {
    await Deno.remove(socketPath);
  } catch { /* grpc-js may have removed it */ }
}

/** The services every go-plugin server has: health, controller (shutdown), broker and stdio. */
function goPluginServices(opts: ServeOptions, streams: OpenStreams, stop: () => Promise<void>): Service[] {
  const { logger } = opts;
  const health = {
    check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const svc = call.request.service;
      if (svc === "" || svc === "plugin") cb(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      else cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${svc}"` });
    },
    watch(call: grpc.ServerWritableStream<{ service: string }, unknown>) {
      streams.add(call);
      call.on("cancelled", () => streams.delete(call));
      call.write({ status: HealthCheckResponse_ServingStatus.SERVING });
    },
  };
  const controller = {
    shutdown(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
      logger.info("shutdown requested by the host");
      cb(null, {});
      // Reply first, then stop: go-plugin waits for the answer before it waits for our exit.
      setTimeout(async () => {
        try {
          await opts.onShutdown?.();
        } catch (e) {
          logger.error("shutdown hook failed", { error: e });
        }
        await stop();
      }, 10);
    },
  };
  return [
    { definition: HealthService, implementation: health },
    { definition: GRPCControllerService, implementation: controller },
    { definition: GRPCBrokerService, implementation: brokerService(streams) },
    { definition: GRPCStdioService, implementation: stdioService(streams) },
  ];
}

/** We dispense no brokered services: the stream stays open and knocks are answered with an error. */
function brokerService(streams: OpenStreams): grpc.UntypedServiceImplementation {
  return {
    startStream(call: grpc.ServerDuplexStream<unknown, unknown>) {
      streams.add(call);
      call.on("data", (msg: { serviceId: number; knock?: { knock: boolean } }) => {
        if (msg.knock?.knock) {
          call.write({
            serviceId: msg.serviceId,
            network: "",
            address: "",
            knock: { knock: true, ack: false, error: "containerd-driver brokers no services" },
          });
        }
      });
      call.on("end", () => {
        streams.delete(call);
        call.end();
      });
      call.on("error", () => streams.delete(call));
    },
  };
}

/**
 * Our stdout stays silent after the handshake and logs go to stderr as hclog JSON, so there is nothing to
 * mirror; the stream stays open until the host or shutdown closes it.
 */
function stdioService(streams: OpenStreams): grpc.UntypedServiceImplementation {
  return {
    streamStdio(call: grpc.ServerWritableStream<unknown, unknown>) {
      streams.add(call);
      call.on("cancelled", () => streams.delete(call));
    },
  };
}
