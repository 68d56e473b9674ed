/**
 * The container's hostname (own UTS namespace): the task's `hostname`, else the hostname Nomad gave the
 * group network, else the container id (`<task>-<alloc id>`, as the Roblox driver did) cut to 63
 * characters.
 *
 * @module
 */
import type { SpecInput, SpecOpt } from "../input.ts";

/**
 * The hostname a task gets.
 *
 * @example
 * ```ts
 * containerHostname({ id: "web-1234", task: {}, nomad: { network: { mode: "none", path: "" } } } as unknown as SpecInput); // "web-1234"
 * ```
 */
export function containerHostname(input: Pick<SpecInput, "id" | "task" | "nomad">): string {
  if (input.task.hostname) return input.task.hostname;
  if (input.nomad.network.hostname) return input.nomad.network.hostname;
  const h = input.id.replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 63).replace(/^[-.]+|[-.]+$/g, "");
  return h === "" ? "localhost" : h;
}

/** Sets hostname. */
export const withHostname: SpecOpt = (spec, input) => {
  spec.hostname = containerHostname(input);
};
