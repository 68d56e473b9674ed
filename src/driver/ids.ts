/**
 * Names the driver gives things in containerd, derived from Nomad's ids so that they can be found again
 * from the task id alone (e.g. to clean up after a plugin restart that lost its state).
 *
 * @module
 */

/** Nomad task ids look like `<alloc id>/<task name>/<hash>`. */
export interface TaskIdParts {
  allocId: string;
  taskName: string;
}

/**
 * Splits a Nomad task id; undefined when it does not have Nomad's shape.
 *
 * @example
 * ```ts
 * parseTaskId("0b5c.../redis/1a2b3c4d"); // { allocId: "0b5c...", taskName: "redis" }
 * ```
 */
export function parseTaskId(taskId: string): TaskIdParts | undefined {
  const parts = taskId.split("/");
  if (parts.length < 3 || !parts[0] || !parts[1]) return undefined;
  return { allocId: parts[0], taskName: parts.slice(1, -1).join("/") };
}

/**
 * The containerd container id of a task: `<task name>-<alloc id>` (the Roblox driver's scheme, so
 * operators' `ctr -n nomad c ls` habits keep working), with characters containerd refuses replaced.
 *
 * @example
 * ```ts
 * containerId("redis", "0b5c2d1e-aaaa-bbbb-cccc-123456789abc"); // "redis-0b5c2d1e-aaaa-bbbb-cccc-123456789abc"
 * ```
 */
export function containerId(taskName: string, allocId: string): string {
  const clean = (s: string) =>
    s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[._-]+|[._-]+$/g, "").replace(/([._-])[._-]+/g, "$1");
  const id = `${clean(taskName) || "task"}-${clean(allocId)}`;
  return id.length > 76 ? id.slice(0, 76).replace(/[._-]+$/, "") : id;
}
