/**
 * linux.sysctl from the task's `sysctl` (names were validated as namespaced by readTaskConfig).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Sets linux.sysctl. */
export const withSysctl: SpecOpt = (spec, input) => {
  const s = input.task.sysctl;
  if (Object.keys(s).length > 0) spec.linux.sysctl = { ...s };
};
