/**
 * The spec every task starts from, before any SpecOpt: Docker's Linux defaults (masked and read-only
 * /proc and /sys paths, no new privileges as containerd's default spec has it, rootfs at `rootfs`).
 *
 * @module
 */
import type { OciSpec } from "../oci.ts";

/** Paths Docker masks (moby oci/defaults.go), without the per-CPU thermal_throttle entries. */
export const MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];

/** Paths Docker makes read-only. */
export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * A fresh base spec.
 *
 * @example
 * ```ts
 * baseSpec().root.path; // "rootfs"
 * ```
 */
export function baseSpec(): OciSpec {
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [],
      env: [],
      cwd: "/",
      noNewPrivileges: true,
    },
    root: { path: "rootfs" },
    mounts: [],
    linux: {
      namespaces: [],
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      resources: {},
    },
  };
}
