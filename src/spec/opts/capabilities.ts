/**
 * process.capabilities: Docker's default set with cap_add/cap_drop (ALL allowed) by Docker's rules,
 * every capability the host has for privileged tasks. Bounding, effective and permitted get the same set;
 * inheritable and ambient stay empty (as Docker 20.10+).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { DEFAULT_CAPABILITIES, hostCapabilities, tweakCapabilities } from "../capabilities.ts";

/** Sets process.capabilities. */
export const withCapabilities: SpecOpt = (spec, input) => {
  const { capAdd, capDrop, privileged } = input.task;
  const caps = tweakCapabilities(
    DEFAULT_CAPABILITIES,
    capAdd,
    capDrop,
    privileged,
    hostCapabilities(input.host.lastCap),
  );
  spec.process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
};
