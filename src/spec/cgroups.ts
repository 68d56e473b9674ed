/**
 * Where a task's cgroup is: `linux.cgroupsPath`.
 *
 * - cgroup v2, and Nomad gave the task a cgroup of its own (`LinuxResources.CpusetCgroupPath`, an absolute
 *   path under the v2 mount): that cgroup. Nomad 1.6's client makes `/sys/fs/cgroup/nomad.slice/<alloc
 *   id>.<task>.scope` before StartTask, writes its `cpuset.cpus` (and rewrites it when other tasks reserve
 *   or free cores) and removes it, once it holds no process, when the allocation ends. In it, the container
 *   gets Nomad's cpuset and shows in Nomad's own accounting, as its exec and podman drivers' tasks do.
 * - otherwise (cgroup v1, no path from Nomad, or one that is not under the v2 mount):
 *   `/<containerd namespace>/<container id>`, as containerd's default spec, so two namespaces never share one.
 *
 * @module
 */
import type { HostFacts } from "./input.ts";

/** Where cgroup v2 is mounted (Nomad's `cgutil.CgroupRoot`). */
export const CGROUP_V2_ROOT = "/sys/fs/cgroup";

/**
 * The cgroup Nomad made for the task, relative to the v2 mount ("/nomad.slice/<alloc>.<task>.scope"), or
 * undefined: on cgroup v1 (Nomad's v1 cpuset cgroups are the cpuset controller's only, left as they are),
 * when Nomad gave none, or when the path is not a plain absolute path below the v2 mount.
 *
 * @example
 * ```ts
 * nomadCgroup({ cgroupVersion: 2 }, "/sys/fs/cgroup/nomad.slice/a1.web.scope"); // "/nomad.slice/a1.web.scope"
 * nomadCgroup({ cgroupVersion: 1 }, "/sys/fs/cgroup/cpuset/nomad/shared"); // undefined
 * ```
 */
export function nomadCgroup(
  host: Pick<HostFacts, "cgroupVersion">,
  cpusetCgroup: string,
): string | undefined {
  if (host.cgroupVersion !== 2 || !cpusetCgroup.startsWith(`${CGROUP_V2_ROOT}/`)) return undefined;
  const parts = cpusetCgroup.slice(CGROUP_V2_ROOT.length + 1).split("/");
  const plain = (p: string) => p !== "" && p !== "." && p !== ".." && !/[\0\n]/.test(p);
  if (!parts.every(plain)) return undefined;
  return `/${parts.join("/")}`;
}

/**
 * `linux.cgroupsPath` for a task: Nomad's cgroup ({@linkcode nomadCgroup}) when there is one, else
 * `/<namespace>/<container id>`.
 *
 * @example
 * ```ts
 * taskCgroupsPath({ cgroupVersion: 2 }, "nomad", "web-a1", "/sys/fs/cgroup/nomad.slice/a1.web.scope");
 * // "/nomad.slice/a1.web.scope"
 * taskCgroupsPath({ cgroupVersion: 1 }, "nomad", "web-a1", ""); // "/nomad/web-a1"
 * ```
 */
export function taskCgroupsPath(
  host: Pick<HostFacts, "cgroupVersion">,
  namespace: string,
  containerId: string,
  cpusetCgroup: string,
): string {
  return nomadCgroup(host, cpusetCgroup) ?? `/${namespace}/${containerId}`;
}
