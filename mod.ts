/**
 * containerd-driver: a Nomad task driver plugin that runs containers through containerd.
 *
 * Nomad execs this program with go-plugin's magic cookie; it then serves the driver's gRPC API on a
 * unix socket and announces it on stdout. Run by hand, it explains itself and exits 1; `--version` prints
 * the version, the git commit and the Deno version and exits 0.
 *
 * @module
 */
// Only what the handshake line needs is imported here: go-plugin's server and the driver's service
// definitions. The driver itself (src/driver/boot.ts and all it imports) is loaded after the line.
import { deferServices, type PluginServer, readHandshake, serve } from "./src/plugin/goplugin.ts";
import { Logger, parseLevel } from "./src/log/hclog.ts";
import { DRIVER_SERVICE_DEFINITIONS } from "./src/driver/services.ts";
import type { BootedDriver } from "./src/driver/boot.ts";
import { PLUGIN_NAME, PLUGIN_VERSION, versionLine } from "./src/version.ts";
import { SOCKET_DIR_ENV } from "./src/driver/sandbox.ts";

function env(key: string): string | undefined {
  try {
    return Deno.env.get(key);
  } catch {
    return undefined; // not among the variables the launcher allows
  }
}

/**
 * The launcher's private socket directory, if it made one: the plugin's own, removed whenever the process
 * exits normally (a killed plugin's is removed by the next launcher start).
 */
function privateSocketDir(): string | undefined {
  const dir = env(SOCKET_DIR_ENV);
  if (!dir) return undefined;
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  return dir;
}

async function main(): Promise<number> {
  const ownDir = privateSocketDir();
  if (Deno.args[0] === "--version") {
    console.log(versionLine(Deno.version.deno));
    return 0;
  }
  const hs = readHandshake(env);
  if (!hs.ok) {
    console.error(hs.message);
    return 1;
  }
  const logger = new Logger(PLUGIN_NAME, parseLevel(env("CONTAINERD_DRIVER_LOG_LEVEL") ?? "debug"));
  // After the handshake line, stdout belongs to go-plugin: route stray console output to the log.
  console.log = console.info = (...a: unknown[]) => logger.info(a.map(String).join(" "));
  console.debug = (...a: unknown[]) => logger.debug(a.map(String).join(" "));
  console.warn = (...a: unknown[]) => logger.warn(a.map(String).join(" "));
  console.error = (...a: unknown[]) => logger.error(a.map(String).join(" "));

  const socketDir = ownDir ?? hs.socketDir;
  // The handshake line goes out as soon as the server listens (Nomad waits for it at every agent start);
  // the driver is loaded and made right after, and a call that comes first waits for it.
  let resolveBoot!: (b: Promise<BootedDriver>) => void;
  const boot = new Promise<BootedDriver>((r) => resolveBoot = r);
  // go-plugin hosts forward Ctrl-C to the whole process group; the host decides when we stop. Listening
  // before the handshake line: a SIGTERM right after it still stops cleanly (the socket dir goes too).
  const running: { server?: PluginServer; stopRequested?: boolean } = {};
  Deno.addSignalListener("SIGINT", () => logger.debug("ignoring SIGINT"));
  Deno.addSignalListener("SIGTERM", () => {
    logger.info("SIGTERM: stopping");
    running.stopRequested = true;
    boot.then((b) => b.driver.close(), () => {});
    running.server?.stop();
  });
  const server = running.server = await serve({
    socketDir,
    // A private dir holds one socket: a short name leaves room in the 107-byte limit of a socket path.
    socketName: ownDir ? "plugin.sock" : undefined,
    logger,
    services: deferServices(DRIVER_SERVICE_DEFINITIONS, boot.then((b) => b.services)),
    onShutdown: async () => (await boot).driver.close(),
  });
  // A literal specifier: `deno compile` embeds the module and `deno bundle` inlines it (evaluated lazily).
  resolveBoot(import("./src/driver/boot.ts").then((m) => m.bootDriver(logger, socketDir)));
  try {
    await boot;
  } catch (e) {
    logger.error("cannot start the driver", { error: e });
    await server.stop();
    return 1;
  }
  logger.info("containerd-driver started", { version: PLUGIN_VERSION, pid: Deno.pid });
  if (running.stopRequested) server.stop();
  await server.done;
  logger.info("containerd-driver stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
