/**
 * linux.namespaces: new mount, UTS, PID and IPC namespaces unless `pid_mode`/`ipc_mode` is "host"; the
 * network namespace by Nomad's isolation (host → none, group/task → join the path Nomad made, none → a new
 * empty one) or `host_network`; a cgroup namespace by `cgroupns` ("private" or "host"), by default on
 * cgroup v2 hosts only (Docker's default). The kernel gives cgroup namespaces on v1 hosts too: there a
 * private one makes /proc/self/cgroup show "/" for the container's own cgroups.
 * pid_mode "host" is refused when the plugin's allow_privileged is false.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import type { OciNamespace } from "../oci.ts";
import { ConfigError } from "../../schema/values.ts";

/** Sets linux.namespaces. */
export const withNamespaces: SpecOpt = (spec, input) => {
  const { task, nomad, plugin, host } = input;
  const ns: OciNamespace[] = [{ type: "mount" }, { type: "uts" }];
  if (task.pidMode === "host") {
    if (!plugin.allowPrivileged) {
      throw new ConfigError(
        "task config",
        "pid_mode",
        `"host" is not allowed on this node: the plugin's "allow_privileged" is false`,
      );
    }
  } else ns.push({ type: "pid" });
  if (task.ipcMode !== "host") ns.push({ type: "ipc" });
  const net = nomad.network;
  if (task.hostNetwork) {
    if (net.mode === "group" || net.mode === "task") {
      throw new ConfigError(
        "task config",
        "host_network",
        `true cannot be combined with the group's network namespace (network mode "${net.mode}"); use one of them`,
      );
    }
  } else if (net.mode === "group" || net.mode === "task") {
    if (!net.path) throw new Error(`network mode ${net.mode} without a namespace path`);
    ns.push({ type: "network", path: net.path });
  } else if (net.mode === "none") ns.push({ type: "network" });
  const cgroupns = task.cgroupns || (host.cgroupVersion === 2 ? "private" : "host");
  if (cgroupns === "private") ns.push({ type: "cgroup" });
  spec.linux.namespaces = ns;
};
