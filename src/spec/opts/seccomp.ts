/**
 * linux.seccomp: Docker's default profile unless `seccomp = false` or privileged; `seccomp_profile`
 * replaces it with a Docker-format profile the driver read and parsed (input.seccompProfile). Converted for
 * the host's arch and kernel and the container's final bounding capabilities, so it runs after
 * capabilities.ts.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { DEFAULT_PROFILE, SeccompProfileError, toOciSeccomp } from "../seccomp.ts";
import { ConfigError, show } from "../../schema/values.ts";

/** Sets linux.seccomp (or leaves it out). */
export const withSeccomp: SpecOpt = (spec, input) => {
  const { task } = input;
  delete spec.linux.seccomp;
  if (task.privileged || !task.seccomp) return;
  let profile: unknown = DEFAULT_PROFILE;
  if (task.seccompProfile !== undefined) {
    if (input.seccompProfile === undefined) {
      throw new ConfigError(
        "task config",
        "seccomp_profile",
        `${show(task.seccompProfile)} was not loaded by the driver`,
      );
    }
    profile = input.seccompProfile;
  }
  try {
    const s = toOciSeccomp(profile, {
      arch: input.host.arch,
      kernel: input.host.kernel,
      capabilities: spec.process.capabilities?.bounding ?? [],
    });
    if (s) spec.linux.seccomp = s;
  } catch (e) {
    if (!(e instanceof SeccompProfileError)) throw e;
    throw new ConfigError(
      "task config",
      "seccomp_profile",
      `${show(task.seccompProfile ?? "(default)")} is not a usable Docker seccomp profile: ${e.message}`,
    );
  }
};
