/**
 * process.oomScoreAdj: the task's `oom_score_adj` (0..1000, checked by readTaskConfig) when set, else
 * Nomad's LinuxResources value when Nomad set one (clamped to -1000..1000).
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Sets process.oomScoreAdj. */
export const withOomScoreAdj: SpecOpt = (spec, input) => {
  const own = input.task.oomScoreAdj;
  if (own !== undefined) {
    spec.process.oomScoreAdj = own;
    return;
  }
  const v = input.nomad.resources.oomScoreAdj;
  if (v !== undefined && v !== 0) spec.process.oomScoreAdj = Math.max(-1000, Math.min(1000, Math.trunc(v)));
};
