/**
 * One fingerprint of the node: is containerd there, which version, with which runtime and snapshotter, and
 * which plugin version answers.
 *
 * @module
 */
import { type FingerprintResponse, FingerprintResponse_HealthState as Health } from "../gen/nomad/driver.ts";
import type { Attribute } from "../gen/nomad/attribute.ts";
import type { PluginConfig } from "./config.ts";
import type { Containerd } from "../containerd/connection.ts";
import { getVersion } from "../containerd/version.ts";
import { PLUGIN_COMMIT, PLUGIN_VERSION } from "../version.ts";

/**
 * How often the fingerprint stream re-checks a healthy containerd. Losing containerd is seen at once
 * without it (the driver's containerd event stream breaks and wakes the fingerprint loop); the period
 * only bounds how stale the version attributes may be, and each check wakes an idle plugin.
 */
export const FINGERPRINT_PERIOD_MS = 30_000;

function str(v: string): Attribute {
  return { value: { $case: "stringVal", value: v }, unit: "" };
}

/**
 * Probes containerd once and describes the node for Nomad.
 *
 * @example
 * ```ts ignore
 * const fp = await fingerprint(config, conn);
 * fp.health; // HEALTHY when containerd answered
 * ```
 */
export async function fingerprint(config: PluginConfig | undefined, conn: Containerd | undefined): Promise<
  FingerprintResponse
> {
  if (!config || !conn) {
    return { attributes: {}, health: Health.UNDETECTED, healthDescription: "waiting for plugin config" };
  }
  if (!config.enabled) {
    return {
      attributes: {},
      health: Health.UNDETECTED,
      healthDescription: "disabled by the plugin config (enabled = false)",
    };
  }
  try {
    const v = await getVersion(conn, { timeoutMs: 2000 });
    return {
      attributes: {
        "driver.containerd": { value: { $case: "boolVal", value: true }, unit: "" },
        "driver.containerd.containerd_version": str(v.version),
        "driver.containerd.containerd_revision": str(v.revision),
        "driver.containerd.runtime": str(config.runtime),
        "driver.containerd.snapshotter": str(config.snapshotter),
        "driver.containerd.namespace": str(config.namespace),
        "driver.containerd.plugin_version": str(PLUGIN_VERSION),
        "driver.containerd.plugin_commit": str(PLUGIN_COMMIT),
      },
      health: Health.HEALTHY,
      healthDescription: "Healthy",
    };
  } catch (e) {
    return {
      attributes: {},
      health: Health.UNHEALTHY,
      healthDescription: `containerd at ${config.containerdAddress} is not reachable: ${
        (e as Error).message
      }`,
    };
  }
}

/** Whether two fingerprints say the same thing (so the stream need not resend). */
export function sameFingerprint(a: FingerprintResponse | undefined, b: FingerprintResponse): boolean {
  if (!a || a.health !== b.health || a.healthDescription !== b.healthDescription) return false;
  const ka = Object.keys(a.attributes).sort();
  const kb = Object.keys(b.attributes).sort();
  if (ka.join() !== kb.join()) return false;
  return ka.every((k) => JSON.stringify(a.attributes[k].value) === JSON.stringify(b.attributes[k].value));
}
