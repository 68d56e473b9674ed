/**
 * The policy and the process/linux parts of `privileged`: refused when the plugin's allow_privileged is
 * false; otherwise no masked or read-only /proc and /sys paths and new privileges allowed. The other parts
 * live with their concern: all capabilities (capabilities.ts), all devices (devices.ts), rw /sys and
 * cgroup (mounts.ts), no seccomp (seccomp.ts).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { ConfigError } from "../../schema/values.ts";

/** Applies privileged mode, or refuses it by policy. */
export const withPrivileged: SpecOpt = (spec, input) => {
  if (!input.task.privileged) return;
  if (!input.plugin.allowPrivileged) {
    throw new ConfigError(
      "task config",
      "privileged",
      `true is not allowed on this node: the plugin's "allow_privileged" is false`,
    );
  }
  spec.process.noNewPrivileges = false;
  spec.linux.maskedPaths = [];
  spec.linux.readonlyPaths = [];
};
