/**
 * Container labels (containerd container metadata, not part of the OCI spec): the task's `labels` plus
 * Nomad's identity under `com.hashicorp.nomad.` (the docker driver's keys), which tasks cannot override.
 *
 * @module
 */
import type { SpecInput } from "./input.ts";

/**
 * The labels for the task's container.
 *
 * @example
 * ```ts
 * containerLabels(input)["com.hashicorp.nomad.task_name"]; // "redis"
 * ```
 */
export function containerLabels(input: Pick<SpecInput, "task" | "nomad">): Record<string, string> {
  const n = input.nomad;
  return {
    ...input.task.labels,
    "com.hashicorp.nomad.alloc_id": n.allocId,
    "com.hashicorp.nomad.job_name": n.jobName,
    "com.hashicorp.nomad.task_group_name": n.groupName,
    "com.hashicorp.nomad.task_name": n.name,
    "com.hashicorp.nomad.namespace": n.namespace,
  };
}
