/**
 * linux.devices and the device cgroup: deny all, then containerd's default allow list (null, zero, full,
 * random, urandom, tty, console, ptmx, pts, tun); Nomad's device-plugin devices and the task's `devices`
 * added with their permissions. Privileged: every host device and an allow-all rule.
 * The driver stats the device nodes ({@linkcode wantedDevicePaths}) and passes them as input.devices.
 *
 * @module
 */
import type { HostDevice, SpecInput, SpecOpt } from "../input.ts";
import type { OciDevice, OciDeviceRule } from "../oci.ts";
import { ConfigError, show } from "../../schema/values.ts";

/** containerd's default device cgroup rules. */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 7, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
  { allow: true, type: "c", major: 136, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" },
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" },
];

/**
 * Host device paths the driver must stat for this task (Nomad's and the task config's).
 *
 * @example
 * ```ts
 * wantedDevicePaths(input); // ["/dev/fuse"]
 * ```
 */
export function wantedDevicePaths(input: Pick<SpecInput, "task" | "nomad">): string[] {
  return [
    ...new Set([...input.nomad.devices.map((d) => d.hostPath), ...input.task.devices.map((d) => d.hostPath)]),
  ];
}

function node(d: HostDevice, containerPath: string): OciDevice {
  const out: OciDevice = { path: containerPath, type: d.type, major: d.major, minor: d.minor };
  if (d.fileMode !== undefined) out.fileMode = d.fileMode;
  out.uid = d.uid ?? 0;
  out.gid = d.gid ?? 0;
  return out;
}

/** Sets linux.devices and linux.resources.devices. */
export const withDevices: SpecOpt = (spec, input) => {
  const devices: OciDevice[] = [];
  const rules: OciDeviceRule[] = [];
  const add = (d: HostDevice, containerPath: string, access: string) => {
    devices.push(node(d, containerPath));
    if (d.type === "c" || d.type === "b") {
      rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access });
    }
  };
  if (input.task.privileged) {
    for (const d of input.hostDevices ?? []) devices.push(node(d, d.path));
    rules.push({ allow: true, access: "rwm" });
  } else rules.push(...DEFAULT_DEVICE_RULES.map((r) => ({ ...r })));
  const lookup = (path: string, option: string, scope: string): HostDevice => {
    const d = input.devices?.[path];
    if (!d) throw new ConfigError(scope, option, `${show(path)} is not a device node on this host`);
    return d;
  };
  input.nomad.devices.forEach((nd, i) => {
    const d = lookup(nd.hostPath, `devices[${i}]`, "task resources");
    add(d, nd.taskPath || nd.hostPath, nd.cgroupPermissions || "rwm");
  });
  input.task.devices.forEach((td, i) => {
    const d = lookup(td.hostPath, `devices[${i}]`, "task config");
    add(d, td.containerPath, td.permissions);
  });
  const byPath = new Map<string, OciDevice>();
  for (const d of devices) byPath.set(d.path, d);
  if (byPath.size > 0) spec.linux.devices = [...byPath.values()];
  spec.linux.resources = { ...spec.linux.resources, devices: rules };
};
