/**
 * containerd's Version service.
 *
 * @module
 */
import { VersionClient } from "../gen/containerd/services/version/v1/version.ts";
import type { CallOpts, Containerd } from "./connection.ts";

/** containerd's version and git revision. */
export interface ContainerdVersion {
  version: string;
  revision: string;
}

/**
 * Asks containerd for its version; fails with a ContainerdError when it cannot be reached.
 *
 * @example
 * ```ts ignore
 * const { version } = await getVersion(conn, { timeoutMs: 2000 });
 * ```
 */
export async function getVersion(conn: Containerd, opts: CallOpts = {}): Promise<ContainerdVersion> {
  const c = conn.client(VersionClient);
  const res = await conn.unary("Version.Version", c.version.bind(c), {}, opts);
  return { version: res.version, revision: res.revision };
}
