/**
 * process.capabilities: Docker's default set with cap_add/cap_drop (ALL allowed) by Docker's rules,
 * every capability the host can grant for privileged tasks. Bounding, effective and permitted get the same set;
 * inheritable and ambient stay empty (as Docker 20.10+).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { DEFAULT_CAPABILITIES, hostCapabilities, tweakCapabilities } from "../capabilities.ts";
import { ConfigError } from "../../schema/values.ts";

/** Sets process.capabilities; a cap_add the host cannot grant is an error (runc would fail to start). */
export const withCapabilities: SpecOpt = (spec, input) => {
  const { capAdd, capDrop, privileged } = input.task;
  const host = hostCapabilities(input.host.lastCap, input.host.grantableCaps);
  if (!privileged) {
    capAdd.forEach((c, i) => {
      if (c !== "ALL" && !host.includes(c)) {
        throw new ConfigError(
          "task config",
          `cap_add[${i}]`,
          `"${c}" cannot be granted on this node: the container runtime does not hold it; use one of ${
            host.join(", ")
          }`,
        );
      }
    });
  }
  const caps = tweakCapabilities(DEFAULT_CAPABILITIES, capAdd, capDrop, privileged, host);
  spec.process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
};
