/**
 * The cgroup metrics containerd's Tasks.Metrics returns: an Any whose type URL says which cgroups Metrics
 * message its bytes hold. The bytes themselves are decoded by the stats module (src/wasm/stats.ts), which
 * takes the cgroup version this gives.
 *
 * @module
 */

/** The type URL of cgroup v1 Metrics (github.com/containerd/cgroups stats/v1). */
export const METRICS_V1_TYPE = "io.containerd.cgroups.v1.Metrics";
/** The type URL of cgroup v2 Metrics (github.com/containerd/cgroups cgroup2/stats). */
export const METRICS_V2_TYPE = "io.containerd.cgroups.v2.Metrics";

/**
 * The cgroup version of a Metrics payload by its type URL (with or without a "type.googleapis.com/"
 * style prefix); undefined for any other type.
 *
 * @example
 * ```ts
 * metricsCgroupVersion("io.containerd.cgroups.v2.Metrics"); // 2
 * metricsCgroupVersion("example.Other"); // undefined
 * ```
 */
export function metricsCgroupVersion(typeUrl: string): 1 | 2 | undefined {
  if (typeUrl.endsWith(METRICS_V1_TYPE)) return 1;
  if (typeUrl.endsWith(METRICS_V2_TYPE)) return 2;
  return undefined;
}
