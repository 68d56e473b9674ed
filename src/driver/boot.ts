/**
 * The driver's part of the plugin's start: what it reads of the host (facts, SELinux), the Driver and
 * its services. mod.ts loads this module with a dynamic `import()` after the handshake line, so that the
 * driver and everything it imports (containerd clients, image pulls, the OCI spec, WASM, msgpack) are
 * evaluated only then: Nomad waits for that line at every agent start, and the calls that come before
 * the driver is ready wait for it (deferServices in src/plugin/goplugin.ts).
 *
 * @module
 */
import type { Logger } from "../log/hclog.ts";
import type { Service } from "../plugin/goplugin.ts";
import { Driver, driverServices } from "./driver.ts";
import { readHostFacts } from "./host.ts";
import { Selinux } from "./selinux.ts";
import { setFifoRoot } from "./exec.ts";

/** A driver and the services bound to it, in the order of DRIVER_SERVICE_DEFINITIONS (services.ts). */
export interface BootedDriver {
  driver: Driver;
  services: Service[];
}

/**
 * Makes the driver: exec FIFOs under `fifoRoot`, the host's facts and SELinux read once.
 *
 * @example
 * ```ts ignore
 * const { driver, services } = await bootDriver(logger, "/run/containerd-driver.123.abc");
 * ```
 */
export async function bootDriver(logger: Logger, fifoRoot: string): Promise<BootedDriver> {
  setFifoRoot(fifoRoot);
  const { facts, mhzPerCore } = readHostFacts();
  const driver = new Driver(logger, facts, mhzPerCore, await Selinux.detect(logger));
  return { driver, services: driverServices(driver) };
}
