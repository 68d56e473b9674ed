/**
 * What the OCI spec is built from: the seam between the driver (which gathers it from Nomad's
 * TaskConfig, the image and the plugin config) and src/spec (which turns it into an OCI runtime spec,
 * purely). The browser playground fills it from a pasted config and example values.
 *
 * Everything that needs I/O is done by the driver and handed in here: the parsed seccomp profile file,
 * the user looked up in the image's /etc/passwd and /etc/group ({@linkcode resolveUser} parses them),
 * the stat of each device node, the host files it wrote (/etc/hosts, resolv.conf, hostname).
 *
 * @module
 */
import type { TaskConfig } from "./task_config.ts";
import type { OciSpec } from "./oci.ts";

/** One concern of the spec: edits `spec` in place from `input`; throws ConfigError on a bad combination. */
export type SpecOpt = (spec: OciSpec, input: SpecInput) => void;

/** The parts of an OCI image config the spec uses (field names as in the image config JSON). */
export interface ImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ExposedPorts?: Record<string, unknown>;
}

/** A volume_mount or other host mount Nomad asks for. */
export interface NomadMount {
  taskPath: string;
  hostPath: string;
  readonly: boolean;
  /** "private" (default), "host-to-task" (rslave) or "bidirectional" (rshared) */
  propagationMode: string;
  selinuxLabel: string;
}

/** A device Nomad's device plugins allocated. */
export interface NomadDevice {
  taskPath: string;
  hostPath: string;
  /** cgroup permissions such as "rwm" */
  cgroupPermissions: string;
}

/** Network isolation Nomad set up (or none). */
export interface NomadNetwork {
  mode: "host" | "group" | "task" | "none";
  /** netns path for group/task modes */
  path: string;
  /** hostname Nomad chose for the group network, if any */
  hostname?: string;
  /** the alloc's address in the group network, for /etc/hosts */
  address?: string;
}

/** Everything of Nomad's TaskConfig the spec needs, in plain types. */
export interface NomadTask {
  /** Nomad's task id (alloc id / task name / hash) */
  id: string;
  /** the task name */
  name: string;
  allocId: string;
  jobName: string;
  groupName: string;
  namespace: string;
  env: Record<string, string>;
  /** the task's `user` (name, uid, or uid:gid); "" for the image's */
  user: string;
  resources: {
    /** Nomad's relative CPU shares (MHz) */
    cpuShares: number;
    memoryMb: number;
    /** 0 unless memory_max (oversubscription) is set */
    memoryMaxMb: number;
    /** "0-1,3" or "" */
    cpusetCpus: string;
    /**
     * LinuxResources.CpusetCgroupPath: the absolute path of the cgroup Nomad's client made for the task
     * (cgroup v2: /sys/fs/cgroup/nomad.slice/<alloc id>.<task>.scope), or ""
     */
    cpusetCgroup?: string;
    /** from Nomad's LinuxResources: CFS period/quota when Nomad computed them (0 otherwise) */
    cpuPeriod: number;
    cpuQuota: number;
    /** Nomad's own percent-of-ticks figure (for cpu_hard_limit): cpu shares / node's usable compute */
    percentTicks: number;
    /** LinuxResources.OOMScoreAdj when Nomad set it */
    oomScoreAdj?: number;
  };
  /** host paths of the task directories: alloc (shared), local, secrets */
  dirs: { alloc: string; local: string; secrets: string; task: string };
  mounts: NomadMount[];
  devices: NomadDevice[];
  network: NomadNetwork;
  /** DNS from the group network block; undefined when none was given */
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

/** The plugin settings the spec depends on. */
export interface PluginPolicy {
  allowPrivileged: boolean;
  volumesEnabled: boolean;
  selinuxLabel?: "z" | "Z";
}

/** Facts of the host the spec must fit. */
export interface HostFacts {
  /** OCI/Go architecture: amd64, arm64, ... */
  arch: string;
  /** kernel release "6.1.0-18-amd64" (for seccomp minKernel) */
  kernel: string;
  cgroupVersion: 1 | 2;
  /** logical CPUs of the node (runtime.NumCPU()): cpu_hard_limit's quota is per core, times this */
  cpus: number;
  /** /proc/sys/kernel/cap_last_cap; all known capabilities when absent */
  lastCap?: number;
  /**
   * The capabilities the runtime can grant: root's effective set where containerd runs (containerd's
   * WithPrivileged uses its own the same way). Privileged and `cap_add = ["ALL"]` get these; naming another
   * in cap_add is an error. All (up to lastCap) when absent.
   */
  grantableCaps?: readonly string[];
  /** false when the kernel has no swap accounting (cgroup v1 without memory.memsw.*): no swap limit then */
  swapAccounting?: boolean;
}

/** A device node on the host, as the driver found it with stat(2). */
export interface HostDevice {
  /** host path, e.g. /dev/fuse */
  path: string;
  type: "c" | "b" | "u" | "p";
  major: number;
  minor: number;
  /** permission bits (st_mode & 0o7777) */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** The process user, looked up by the driver in the image's /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** home directory from /etc/passwd; HOME is set to it when the env has none */
  home?: string;
}

/** Everything the spec is built from. */
export interface SpecInput {
  /** the container id; the default hostname too (the driver uses `<task name>-<alloc id>` like the Roblox driver) */
  id: string;
  task: TaskConfig;
  nomad: NomadTask;
  image: ImageConfig;
  plugin: PluginPolicy;
  host: HostFacts;
  files: HostFiles;
  /** the parsed JSON of task.seccompProfile (the driver reads the file); the default profile when absent */
  seccompProfile?: unknown;
  /** the user resolved from the image; needed when the user (Nomad's or the image's) is a name */
  resolvedUser?: ResolvedUser;
  /** the gids of task.groupAdd, names looked up in the image's /etc/group (`resolveGroups`) */
  resolvedGroups?: number[];
  /** stat of each host device path named by task.devices and nomad.devices, keyed by host path */
  devices?: Record<string, HostDevice>;
  /** all host devices (a /dev walk), for privileged tasks */
  hostDevices?: HostDevice[];
  /** linux.cgroupsPath, when the driver places the container's cgroup itself */
  cgroupsPath?: string;
  /** the task's SELinux labels ({@linkcode taskSelinux}); absent when the host has SELinux off */
  selinux?: TaskSelinux;
}

/**
 * Host files the driver writes (I/O stays in the driver) and the spec mounts: their host paths.
 * Contents come from pure functions in src/spec (hostsFile, resolvConf).
 */
export interface HostFiles {
  /** host path of the generated /etc/hosts, when one is mounted */
  hosts?: string;
  /** host path of the resolv.conf to mount, when one is mounted */
  resolvConf?: string;
  /** host path of the generated /etc/hostname, when one is mounted */
  hostname?: string;
}

/** A task's labels, as SpecInput carries them (present only when the host enforces or audits SELinux). */
export interface TaskSelinux {
  /** content every container may use: what `z` relabels to */
  sharedLabel: string;
  /** the process label (process.selinuxLabel); absent when the task is not confined (privileged, no label) */
  processLabel?: string;
  /** the label of the task's private content and mounts (linux.mountLabel); what `Z` relabels to */
  mountLabel?: string;
}
