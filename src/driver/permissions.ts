/**
 * The plugin runs under Deno's permission sandbox with the paths its launcher granted. Options that
 * name paths are checked against it up front, so a path outside the sandbox is a clear config error
 * rather than a confusing failure later.
 *
 * @module
 */
import { ConfigError } from "../schema/values.ts";

/** The launcher's environment variable that widens the sandbox with more paths (colon-separated). */
export const EXTRA_PATHS_ENV = "CONTAINERD_DRIVER_EXTRA_PATHS";

/**
 * Throws a ConfigError when `path` may not be read and written by this process.
 *
 * @example
 * ```ts ignore
 * checkPathAllowed("plugin config", "containerd_address", "/run/containerd/containerd.sock");
 * ```
 */
export function checkPathAllowed(
  scope: string,
  option: string,
  path: string,
  mode: "read" | "write" = "write",
): void {
  const names: ("read" | "write")[] = mode === "write" ? ["read", "write"] : ["read"];
  for (const name of names) {
    const st = Deno.permissions.querySync({ name, path });
    if (st.state !== "granted") {
      throw new ConfigError(
        scope,
        option,
        `"${path}" is outside the paths the plugin may ${name}; add it to ${EXTRA_PATHS_ENV} ` +
          `(colon-separated) in the Nomad agent's environment`,
      );
    }
  }
}
