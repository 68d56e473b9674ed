/**
 * mounts, in the order runc mounts them (a parent before what lies under it):
 * 1. the standard filesystems: /proc, /dev, /dev/pts, /dev/shm (`shm_size`, default 64M; the host's with
 *    ipc_mode "host"), /dev/mqueue (an mqueue mount: the host's queues with ipc_mode "host"), /sys and /sys/fs/cgroup (read-only unless privileged);
 * 2. Nomad's task dirs at /alloc, /local, /secrets; Nomad's volume_mount mounts (read-only and propagation
 *    honoured); the task's `mounts` (bind/volume/tmpfs) — sorted by depth; a target that repeats is an error
 *    and a standard mount at the same target is replaced;
 * 3. /etc/hosts, /etc/resolv.conf, /etc/hostname from the files the driver wrote (files.ts), unless the
 *    task mounts something there.
 *
 * A mount with shared propagation (volume_mount "bidirectional", or `rshared` in `options`) makes the
 * root rshared, as Docker does: otherwise the mount would receive from the host but never send back.
 *
 * `volumes` entries (the podman driver's `"/host:/container[:ro]"`) are binds like `mounts` of type bind,
 * under the same policy, blamed as `volumes[i]`.
 *
 * `volume` mounts behave as the Roblox driver's did: a host path bound into the container. A relative
 * source is relative to the task dir (Roblox's `local/...`). With the plugin's volumes.enabled = false,
 * a bind/volume source outside the task and alloc dirs is an error.
 *
 * @module
 */
import type { SpecInput, SpecOpt } from "../input.ts";
import type { OciMount } from "../oci.ts";
import { cleanPath, isWithin, pathDepth } from "../checks.ts";
import { ConfigError, show } from "../../schema/values.ts";

const DEFAULT_SHM = 64 * 1024 * 1024;

/** The standard filesystems of a task. */
export function standardMounts(input: Pick<SpecInput, "task">): OciMount[] {
  const { task } = input;
  const ro = task.privileged ? [] : ["ro"];
  const shm: OciMount = task.ipcMode === "host"
    ? {
      destination: "/dev/shm",
      type: "bind",
      source: "/dev/shm",
      options: ["rbind", "nosuid", "noexec", "nodev"],
    }
    : {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: [
        "nosuid",
        "noexec",
        "nodev",
        "mode=1777",
        `size=${Math.ceil((task.shmSize ?? DEFAULT_SHM) / 1024)}k`,
      ],
    };
  // An mqueue filesystem shows the queues of the IPC namespace that mounts it, so the same mount gives the
  // host's queues with ipc_mode "host" — and needs no /dev/mqueue on the host, which many hosts lack.
  const mqueue: OciMount = {
    destination: "/dev/mqueue",
    type: "mqueue",
    source: "mqueue",
    options: ["nosuid", "noexec", "nodev"],
  };
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    shm,
    mqueue,
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...ro] },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", ...ro],
    },
  ];
}

const PROPAGATION: Record<string, string> = {
  "": "rprivate",
  private: "rprivate",
  "host-to-task": "rslave",
  bidirectional: "rshared",
};

const PROPAGATION_OPTS = [
  "private",
  "rprivate",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "unbindable",
  "runbindable",
];

/** The host path a task mount's source names (relative sources are under the task dir). */
export function mountSource(source: string, taskDir: string): string {
  return cleanPath(source.startsWith("/") ? source : `${taskDir}/${source}`);
}

interface Tagged {
  mount: OciMount;
  /** the option to blame when the target repeats */
  option: string;
  what: string;
}

/** Every mount a task gets besides the base ones: Nomad's dirs and volume_mounts, then `mounts`, `volumes`. */
function taskMounts(input: SpecInput): Tagged[] {
  return [...nomadMounts(input), ...configMounts(input)];
}

/** Nomad's alloc, local and secrets dirs and its volume_mounts. */
function nomadMounts({ nomad }: SpecInput): Tagged[] {
  const dir = (destination: string, source: string, what: string): Tagged => ({
    mount: { destination, type: "bind", source, options: ["rbind", "rw", "rprivate"] },
    option: "",
    what,
  });
  const volumes = nomad.mounts.map((m): Tagged => {
    const prop = PROPAGATION[m.propagationMode ?? ""];
    if (prop === undefined) {
      throw new Error(`volume_mount ${m.taskPath}: unknown propagation mode ${show(m.propagationMode)}`);
    }
    const options = ["rbind", m.readonly ? "ro" : "rw", prop];
    return {
      mount: { destination: cleanPath(m.taskPath), type: "bind", source: m.hostPath, options },
      option: "",
      what: `Nomad's volume_mount at ${m.taskPath}`,
    };
  });
  return [
    dir("/alloc", nomad.dirs.alloc, "Nomad's alloc directory"),
    dir("/local", nomad.dirs.local, "Nomad's task directory"),
    dir("/secrets", nomad.dirs.secrets, "Nomad's secrets directory"),
    ...volumes,
  ];
}

/** The task config's `mounts` blocks and podman-style `volumes`, their sources checked against the policy. */
function configMounts({ nomad, task, plugin }: SpecInput): Tagged[] {
  const checkSource = (option: string, written: string): string => {
    const source = mountSource(written, nomad.dirs.task);
    if (!plugin.volumesEnabled && !isWithin(source, nomad.dirs.task) && !isWithin(source, nomad.dirs.alloc)) {
      throw new ConfigError(
        "task config",
        option,
        `${
          show(written)
        } is outside the task and alloc directories, which the plugin allows only with volumes.enabled = true; use a path under the task directory`,
      );
    }
    return source;
  };
  const mounts = task.mounts.map((m, i): Tagged => {
    const option = `mounts[${i}]`;
    if (m.type === "tmpfs") {
      return {
        mount: { destination: m.target, type: "tmpfs", source: "tmpfs", options: [...m.options] },
        option,
        what: option,
      };
    }
    const source = checkSource(`${option}.source`, m.source);
    const options = [...m.options];
    if (!options.includes("bind") && !options.includes("rbind")) options.unshift("rbind");
    if (!options.some((o) => PROPAGATION_OPTS.includes(o))) options.push("rprivate");
    return { mount: { destination: m.target, type: "bind", source, options }, option, what: option };
  });
  const volumes = task.volumes.map((v, i): Tagged => {
    const option = `volumes[${i}]`;
    const options = ["rbind", v.readonly ? "ro" : "rw", "rprivate"];
    return {
      mount: { destination: v.target, type: "bind", source: checkSource(option, v.source), options },
      option,
      what: option,
    };
  });
  return [...mounts, ...volumes];
}

/** Sets mounts. */
export const withMounts: SpecOpt = (spec, input) => {
  const extra = taskMounts(input);
  const seen = new Map<string, Tagged>();
  for (const t of extra) {
    const prev = seen.get(t.mount.destination);
    if (prev) {
      const blame = t.option || prev.option;
      throw new ConfigError(
        "task config",
        blame.startsWith("volumes") ? blame : `${blame}.target`,
        `${show(t.mount.destination)} is already mounted (${
          t.option ? prev.what : t.what
        }); use another target`,
      );
    }
    seen.set(t.mount.destination, t);
  }
  const standard = standardMounts(input).filter((m) => !seen.has(m.destination));
  const sorted = extra.map((t, i) => ({ t, i, d: pathDepth(t.mount.destination) }))
    .sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.t.mount);
  const ro = input.task.readonlyRootfs ? "ro" : "rw";
  const files: OciMount[] = [];
  const file = (destination: string, source: string | undefined) => {
    if (source && !seen.has(destination)) {
      files.push({ destination, type: "bind", source, options: ["rbind", "rprivate", ro] });
    }
  };
  file("/etc/hosts", input.files.hosts);
  file("/etc/resolv.conf", input.files.resolvConf);
  file("/etc/hostname", input.files.hostname);
  spec.mounts = [...standard, ...sorted, ...files, ...spec.mounts];
  // runc makes the container's view of the host's mounts rslave before it binds anything, so a bind
  // asked to be rshared would only receive: as Docker does, the root keeps shared propagation then.
  const has = (names: string[]) => sorted.some((m) => m.options?.some((o) => names.includes(o)));
  if (has(["shared", "rshared"])) spec.linux.rootfsPropagation = "rshared";
  else if (has(["slave", "rslave"])) spec.linux.rootfsPropagation = "rslave";
};
