/**
 * SELinux: a confined task runs with its process label (the policy's container domain and the task's own
 * MCS categories) and its mounts get the mount label (runc applies it to tmpfs mounts; the driver gives
 * the rootfs mounts a `context=` option and relabels the bind sources, see src/spec/selinux.ts). Nothing
 * when SELinux is off or the task is not confined (privileged, or no `volumes.selinuxlabel`).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Applies the task's SELinux labels; runs after privileged. */
export const withSelinux: SpecOpt = (spec, input) => {
  const se = input.selinux;
  if (!se?.processLabel || !se.mountLabel || input.task.privileged) return;
  spec.process.selinuxLabel = se.processLabel;
  spec.linux.mountLabel = se.mountLabel;
};
