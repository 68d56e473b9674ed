/**
 * process.oomScoreAdj from Nomad's LinuxResources, when Nomad set one.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Sets process.oomScoreAdj. */
export const withOomScoreAdj: SpecOpt = (spec, input) => {
  const v = input.nomad.resources.oomScoreAdj;
  if (v !== undefined && v !== 0) spec.process.oomScoreAdj = Math.max(-1000, Math.min(1000, Math.trunc(v)));
};
