/**
 * containerd-driver: a Nomad task driver plugin that runs containers through containerd.
 *
 * Nomad execs this program with go-plugin's magic cookie; it then serves the driver's gRPC API on a
 * unix socket and announces it on stdout. Run by hand, it explains itself and exits 1.
 *
 * @module
 */
import { readHandshake, serve } from "./src/plugin/goplugin.ts";
import { Logger, parseLevel } from "./src/log/hclog.ts";
import { Driver, driverServices } from "./src/driver/driver.ts";
import { PLUGIN_NAME, PLUGIN_VERSION } from "./src/version.ts";
import { readHostFacts } from "./src/driver/host.ts";
import { Selinux } from "./src/driver/selinux.ts";
import { setFifoRoot } from "./src/driver/exec.ts";

function env(key: string): string | undefined {
  try {
    return Deno.env.get(key);
  } catch {
    return undefined; // not among the variables the launcher allows
  }
}

async function main(): Promise<number> {
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

  const { facts, mhzPerCore } = readHostFacts();
  setFifoRoot(hs.socketDir);
  const driver = new Driver(logger, facts, mhzPerCore, await Selinux.detect(logger));
  const server = await serve({
    socketDir: hs.socketDir,
    logger,
    services: driverServices(driver),
    onShutdown: () => driver.close(),
  });
  logger.info("containerd-driver started", { version: PLUGIN_VERSION, pid: Deno.pid });

  // go-plugin hosts forward Ctrl-C to the whole process group; the host decides when we stop.
  Deno.addSignalListener("SIGINT", () => logger.debug("ignoring SIGINT"));
  Deno.addSignalListener("SIGTERM", () => {
    logger.info("SIGTERM: stopping");
    driver.close();
    server.stop();
  });
  await server.done;
  logger.info("containerd-driver stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
