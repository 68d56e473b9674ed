/**
 * process.args from the image's ENTRYPOINT/CMD and the task's `entrypoint`, `command` and `args`, with the
 * Roblox driver's results for every combination it accepted and Docker's rules for the rest:
 *
 * | task sets                 | process.args                                   |
 * | ------------------------- | ---------------------------------------------- |
 * | nothing                   | image ENTRYPOINT + image CMD                   |
 * | `command` (+ `args`)      | image ENTRYPOINT + command + args              |
 * | `args` only               | image ENTRYPOINT + args (args replace CMD)     |
 * | `entrypoint` (+ `args`)   | entrypoint + args (image CMD dropped)          |
 * | `entrypoint` + `command`  | entrypoint + command + args (Roblox refused)   |
 *
 * `entrypoint = []` or `[""]` clears the image's ENTRYPOINT.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import type { ImageConfig } from "../input.ts";
import type { TaskConfig } from "../task_config.ts";
import { ConfigError } from "../../schema/values.ts";

/**
 * The argv of the container's process (before an init is put in front).
 *
 * @example
 * ```ts
 * processArgs({ command: "redis-server", args: ["--port", "7000"] } as TaskConfig, { Entrypoint: ["docker-entrypoint.sh"], Cmd: ["redis-server"] });
 * // ["docker-entrypoint.sh", "redis-server", "--port", "7000"]
 * ```
 */
export function processArgs(
  task: Pick<TaskConfig, "command" | "args" | "entrypoint">,
  image: ImageConfig,
): string[] {
  let entry: string[];
  if (task.entrypoint === undefined) entry = image.Entrypoint ?? [];
  else if (task.entrypoint.length === 0 || (task.entrypoint.length === 1 && task.entrypoint[0] === "")) {
    entry = [];
  } else entry = task.entrypoint;
  let cmd: string[];
  if (task.command) cmd = [task.command, ...task.args];
  else if (task.args.length > 0) cmd = task.args;
  else if (task.entrypoint === undefined) cmd = image.Cmd ?? [];
  else cmd = [];
  return [...entry, ...cmd];
}

/** Sets process.args; a task with nothing to run is an error. */
export const withProcess: SpecOpt = (spec, input) => {
  const args = processArgs(input.task, input.image);
  if (args.length === 0 || args[0] === "") {
    throw new ConfigError(
      "task config",
      "command",
      "is required: the image has no ENTRYPOINT or CMD; set `command` (and `args`) or `entrypoint`",
    );
  }
  spec.process.args = args;
};
