/**
 * linux.resources memory, cpu and pids, as Nomad's docker driver computes them:
 * - memory: limit = Nomad's memory (MB); with memory_max: limit = memory_max and reservation = memory;
 *   memory_max = -1: no limit, reservation = memory. `memory_reservation` sets the reservation (at most
 *   the limit). Swap = the limit (no swap) unless `memory_swap` (≥ the limit, -1: unlimited); no swap
 *   setting when the host has no swap accounting. `memory_swappiness` on cgroup v1 only (v2 has none).
 * - cpu: shares = Nomad's cpu (clamped to 2..262144); cpuset from Nomad's reserved cores, except in the
 *   cgroup Nomad made for the task on cgroup v2 (src/spec/cgroups.ts), whose cpuset.cpus Nomad writes and
 *   rewrites itself (its shared pool plus the task's reserved cores);
 *   `cpu_hard_limit`: period = `cpu_cfs_period` or Nomad's cpuPeriod or 100000 µs, quota =
 *   floor(percentTicks × period) × host cpus (Nomad's docker driver), at least 1000 µs.
 * - pids: `pids_limit`.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import type { OciResources } from "../oci.ts";
import { ConfigError, show } from "../../schema/values.ts";
import { nomadCgroup } from "../cgroups.ts";

const MB = 1024 * 1024;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;
const DEFAULT_PERIOD = 100_000;

/** The memory section. */
export function memoryResources(input: Parameters<SpecOpt>[1]): OciResources["memory"] {
  const { task, nomad, host } = input;
  const r = nomad.resources;
  const mem: NonNullable<OciResources["memory"]> = {};
  let limit: number | undefined;
  if (r.memoryMaxMb === -1) mem.reservation = r.memoryMb * MB;
  else if (r.memoryMaxMb > 0) {
    limit = Math.max(r.memoryMb, r.memoryMaxMb) * MB;
    mem.reservation = r.memoryMb * MB;
  } else if (r.memoryMb > 0) limit = r.memoryMb * MB;
  if (limit !== undefined) mem.limit = limit;
  if (task.memoryReservation !== undefined) {
    if (limit !== undefined && task.memoryReservation > limit) {
      throw new ConfigError(
        "task config",
        "memory_reservation",
        `${task.memoryReservation} bytes is above the memory limit of ${limit} bytes; use at most the task's memory`,
      );
    }
    mem.reservation = task.memoryReservation;
  }
  const swapOk = host.swapAccounting !== false;
  if (task.memorySwap !== undefined) {
    if (!swapOk) {
      throw new ConfigError(
        "task config",
        "memory_swap",
        "is not supported on this node: the kernel has no swap accounting",
      );
    }
    if (task.memorySwap !== -1 && limit !== undefined && task.memorySwap < limit) {
      throw new ConfigError(
        "task config",
        "memory_swap",
        `${
          show(task.memorySwap)
        } bytes is below the memory limit of ${limit} bytes; it counts memory + swap, so use at least the limit, or -1`,
      );
    }
    mem.swap = task.memorySwap;
  } else if (swapOk && limit !== undefined) mem.swap = limit;
  if (task.memorySwappiness !== undefined && host.cgroupVersion === 1) mem.swappiness = task.memorySwappiness;
  return Object.keys(mem).length > 0 ? mem : undefined;
}

/** The cpu section. */
export function cpuResources(input: Parameters<SpecOpt>[1]): OciResources["cpu"] {
  const { task, nomad, host } = input;
  const r = nomad.resources;
  const cpu: NonNullable<OciResources["cpu"]> = {};
  if (r.cpuShares > 0) cpu.shares = Math.max(MIN_SHARES, Math.min(MAX_SHARES, Math.round(r.cpuShares)));
  if (r.cpusetCpus && nomadCgroup(host, r.cpusetCgroup ?? "") === undefined) cpu.cpus = r.cpusetCpus;
  if (task.cpuHardLimit) {
    const period = task.cpuCfsPeriod ?? (r.cpuPeriod > 0 ? r.cpuPeriod : DEFAULT_PERIOD);
    let quota: number;
    if (r.percentTicks > 0) quota = Math.floor(r.percentTicks * period) * Math.max(1, host.cpus);
    else if (r.cpuQuota > 0 && r.cpuPeriod > 0) quota = Math.floor((r.cpuQuota * period) / r.cpuPeriod);
    else {
      throw new ConfigError(
        "task config",
        "cpu_hard_limit",
        "needs the task's cpu resources; Nomad gave no CPU share for it",
      );
    }
    cpu.period = period;
    cpu.quota = Math.max(1000, quota);
  }
  return Object.keys(cpu).length > 0 ? cpu : undefined;
}

/** Sets linux.resources memory, cpu and pids (keeps devices). */
export const withResources: SpecOpt = (spec, input) => {
  const res: OciResources = { ...spec.linux.resources };
  const memory = memoryResources(input);
  const cpu = cpuResources(input);
  if (memory) res.memory = memory;
  if (cpu) res.cpu = cpu;
  if (input.task.pidsLimit !== undefined) res.pids = { limit: input.task.pidsLimit };
  spec.linux.resources = res;
};
