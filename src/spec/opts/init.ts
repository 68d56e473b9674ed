/**
 * `init`: the host's init binary (tini, `init_path`) bind-mounted read-only at {@linkcode INIT_TARGET}
 * and put in front of the process, so it runs as PID 1, forwards signals and reaps zombies:
 * `/.cdrv/init -- <args>`. Runs after process.ts and mounts.ts.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Where the init binary appears in the container. */
export const INIT_TARGET = "/.cdrv/init";

/** Prefixes process.args with the init and mounts it. */
export const withInit: SpecOpt = (spec, input) => {
  if (!input.task.init) return;
  spec.mounts.push({
    destination: INIT_TARGET,
    type: "bind",
    source: input.task.initPath,
    options: ["rbind", "ro", "nosuid", "nodev", "rprivate"],
  });
  spec.process.args = [INIT_TARGET, "--", ...spec.process.args];
};
