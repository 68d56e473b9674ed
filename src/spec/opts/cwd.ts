/**
 * process.cwd: the task's `cwd`, else the image's WorkingDir, else "/". runc creates it when missing.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { cleanPath } from "../checks.ts";

/** Sets process.cwd. */
export const withCwd: SpecOpt = (spec, input) => {
  const wd = input.image.WorkingDir;
  spec.process.cwd = input.task.cwd ?? (wd && wd.startsWith("/") ? cleanPath(wd) : "/");
};
