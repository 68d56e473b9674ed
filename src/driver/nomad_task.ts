/**
 * Converts Nomad's TaskConfig message into the plain NomadTask the spec builder takes.
 *
 * @module
 */
import {
  NetworkIsolationSpec_NetworkIsolationMode as NetMode,
  type TaskConfig as NomadTaskConfig,
} from "../gen/nomad/driver.ts";
import type { NomadNetwork, NomadTask } from "../spec/input.ts";
import { parseTaskId } from "./ids.ts";

const MODES: Record<number, NomadNetwork["mode"]> = {
  [NetMode.HOST]: "host",
  [NetMode.GROUP]: "group",
  [NetMode.TASK]: "task",
  [NetMode.NONE]: "none",
};

/**
 * The spec builder's view of a Nomad TaskConfig.
 *
 * @example
 * ```ts ignore
 * const task = toNomadTask(req.task);
 * ```
 */
export function toNomadTask(c: NomadTaskConfig): NomadTask {
  const taskName = c.name || parseTaskId(c.id)?.taskName || "task";
  const taskDir = `${c.allocDir}/${taskName}`;
  const lr = c.resources?.linuxResources;
  const alloc = c.resources?.allocatedResources;
  const net = c.networkIsolationSpec;
  const dns = c.dns;
  return {
    id: c.id,
    name: taskName,
    allocId: c.allocId,
    jobName: c.jobName,
    groupName: c.taskGroupName,
    namespace: c.namespace,
    env: { ...c.env, ...c.deviceEnv },
    user: c.user,
    resources: {
      cpuShares: Number(alloc?.cpu?.cpuShares ?? lr?.cpuShares ?? 0n),
      memoryMb: Number(alloc?.memory?.memoryMb ?? 0n),
      memoryMaxMb: Number(alloc?.memory?.memoryMaxMb ?? 0n),
      cpusetCpus: lr?.cpusetCpus ?? "",
      cpusetCgroup: lr?.cpusetCgroup ?? "",
      cpuPeriod: Number(lr?.cpuPeriod ?? 0n),
      cpuQuota: Number(lr?.cpuQuota ?? 0n),
      percentTicks: lr?.PercentTicks ?? 0,
      oomScoreAdj: lr?.oomScoreAdj ? Number(lr.oomScoreAdj) : undefined,
    },
    dirs: {
      alloc: `${c.allocDir}/alloc`,
      local: `${taskDir}/local`,
      secrets: `${taskDir}/secrets`,
      task: taskDir,
    },
    mounts: c.mounts.map((m) => ({
      taskPath: m.taskPath,
      hostPath: m.hostPath,
      readonly: m.readonly,
      propagationMode: m.propagationMode,
      selinuxLabel: m.selinuxLabel,
    })),
    devices: c.devices.map((d) => ({
      taskPath: d.taskPath,
      hostPath: d.hostPath,
      cgroupPermissions: d.cgroupPermissions,
    })),
    network: net
      ? {
        mode: MODES[net.mode] ?? "host",
        path: net.path,
        hostname: net.hostsConfig?.hostname || undefined,
        address: net.hostsConfig?.address || undefined,
      }
      // No isolation from Nomad (network mode "host" or no network block): like the Roblox driver, the
      // task gets a network namespace of its own unless it asks for host_network.
      : { mode: "none", path: "" },
    dns: dns && (dns.servers.length || dns.searches.length || dns.options.length)
      ? { servers: dns.servers, searches: dns.searches, options: dns.options }
      : undefined,
  };
}
