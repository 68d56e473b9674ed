/**
 * The task `config {}` block: its hclspec tree (with a doc line per option), declared once. The typed
 * TaskConfig and its reader live beside it. Pure and browser compatible: the playground uses it.
 *
 * @module
 */
import { attr, block, blockList, impliedType, object, withDefault } from "./hclspec.ts";

const stringList = "list(string)";
const stringMaps = "list(map(string))";

/** The task `config {}` block's schema. Names follow the Roblox containerd driver where it has them. */
export const taskSpec = object({
  image: attr("string", "Image reference to run, e.g. `docker.io/library/redis:7`.", { required: true }),
  image_pull_timeout: withDefault(attr("string", "Time limit for pulling the image."), `"5m"`),
  force_pull: withDefault(attr("bool", "Pull the image even when it is present."), "false"),
  auth: block(
    object({ username: attr("string", "Registry username."), password: attr("string", "Registry password.") }),
    "Registry credentials for this task (win over the plugin's).",
  ),
  command: attr("string", "Command to run, replacing the image's CMD."),
  args: attr(stringList, "Arguments to `command` (or to the image's CMD)."),
  entrypoint: attr(stringList, "Replaces the image's ENTRYPOINT."),
  cwd: attr("string", "Working directory inside the container (created if missing)."),
  hostname: attr("string", "Container hostname."),
  privileged: withDefault(attr("bool", "All capabilities and devices, no seccomp."), "false"),
  cap_add: attr(stringList, "Capabilities to add (`ALL` for all)."),
  cap_drop: attr(stringList, "Capabilities to drop (`ALL` for all)."),
  seccomp: withDefault(attr("bool", "Apply the default seccomp profile."), "true"),
  seccomp_profile: attr("string", "Path of a Docker-format seccomp profile JSON file."),
  readonly_rootfs: withDefault(attr("bool", "Mount the root filesystem read-only."), "false"),
  pids_limit: attr("number", "Maximum number of processes in the container."),
  pid_mode: attr("string", "`host` to share the host's PID namespace."),
  ipc_mode: attr("string", "`host` to share the host's IPC namespace."),
  shm_size: attr("string", "Size of /dev/shm, e.g. `128M`."),
  sysctl: attr(stringMaps, "Namespaced sysctls, e.g. `{ \"net.core.somaxconn\" = \"1024\" }`."),
  ulimit: attr(stringMaps, "Resource limits, e.g. `{ nofile = \"4096:8192\" }`."),
  labels: attr(stringMaps, "Extra container labels."),
  runtime: attr("string", "containerd runtime for this task, e.g. `io.containerd.runc.v2`."),
  host_network: withDefault(attr("bool", "Run in the host's network namespace."), "false"),
  host_dns: withDefault(attr("bool", "Use the host's /etc/resolv.conf when Nomad gives no DNS config."), "true"),
  extra_hosts: attr(stringList, "Extra /etc/hosts lines as `host:ip`."),
  devices: attr(stringList, "Host device paths to expose, e.g. `/dev/fuse`."),
  init: withDefault(attr("bool", "Run an init (tini) as PID 1 that reaps zombies."), "false"),
  init_path: withDefault(attr("string", "Host path of the init binary."), `"/usr/bin/tini-static"`),
  memory_reservation: attr("string", "Memory soft limit, e.g. `256M`."),
  memory_swap: attr("string", "Memory + swap limit, e.g. `1G`."),
  memory_swappiness: attr("number", "Swappiness, 0 to 100."),
  cpu_hard_limit: withDefault(attr("bool", "Enforce the CPU share as a CFS quota."), "false"),
  cpu_cfs_period: attr("number", "CFS period in microseconds when `cpu_hard_limit` is set."),
  mounts: blockList(
    object({
      type: withDefault(attr("string", "`bind`, `volume` or `tmpfs`."), `"volume"`),
      target: attr("string", "Absolute path inside the container.", { required: true }),
      source: attr("string", "Host path (bind), volume name (volume) or ignored (tmpfs)."),
      options: attr(stringList, "Mount options, e.g. `[\"rbind\", \"ro\"]`."),
    }),
    "Extra mounts.",
  ),
});

/** The cty type Nomad encodes a task's `config {}` with. */
export const taskConfigType = impliedType(taskSpec);

