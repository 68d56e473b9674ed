/**
 * `security_opt` (Docker's names): `no-new-privileges` sets process.noNewPrivileges, also for a privileged
 * task (which otherwise may gain privileges); `no-new-privileges:false` lets setuid binaries gain them.
 * Without the option the default stands: on, off when privileged. Other options are refused by
 * readTaskConfig.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Applies `security_opt`; runs after privileged. */
export const withSecurityOpt: SpecOpt = (spec, input) => {
  const nnp = input.task.noNewPrivileges;
  if (nnp !== undefined) spec.process.noNewPrivileges = nnp;
};
