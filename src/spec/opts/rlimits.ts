/**
 * process.rlimits: RLIMIT_NOFILE 1024:1024 by default (containerd's own default; a higher hard limit
 * fails on hosts whose containerd runs with a lower one, as runc may not raise it), then the task's
 * `ulimit` entries over it by name.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import type { OciRlimit } from "../oci.ts";

/** The default rlimits. */
export const DEFAULT_RLIMITS: readonly OciRlimit[] = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }];

/** Sets process.rlimits. */
export const withRlimits: SpecOpt = (spec, input) => {
  const out = new Map<string, OciRlimit>();
  for (const r of DEFAULT_RLIMITS) out.set(r.type, { ...r });
  for (const u of input.task.ulimit) out.set(u.type, { type: u.type, soft: u.soft, hard: u.hard });
  spec.process.rlimits = [...out.values()];
};
