/**
 * root: the bundle's `rootfs`, read-only with `readonly_rootfs`.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Sets root. */
export const withRootfs: SpecOpt = (spec, input) => {
  spec.root = input.task.readonlyRootfs ? { path: "rootfs", readonly: true } : { path: "rootfs" };
};
