/**
 * The definitions of the two services the driver serves (BasePlugin and Driver), apart from their
 * implementations: mod.ts registers them before the handshake line, and evaluating this module costs only
 * the generated protobuf code they name; the driver behind them (driver.ts and all it imports) is loaded
 * after the line.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { BasePluginService } from "../gen/nomad/base.ts";
import { DriverService } from "../gen/nomad/driver.ts";

/**
 * The definitions of the services `driverServices` (driver.ts) implements, in its order.
 *
 * @example
 * ```ts ignore
 * deferServices(DRIVER_SERVICE_DEFINITIONS, boot.then((b) => b.services)); // boot: bootDriver()'s promise
 * ```
 */
export const DRIVER_SERVICE_DEFINITIONS: grpc.ServiceDefinition[] = [BasePluginService, DriverService];
