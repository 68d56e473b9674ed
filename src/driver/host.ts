/**
 * Facts of the host the spec and the stats depend on, read once at start-up.
 *
 * @module
 */
import { cpus } from "node:os";
import type { HostFacts } from "../spec/input.ts";

const ARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };

/**
 * Reads the architecture, kernel release, cgroup version and CPU speed. Each falls back to a safe
 * value when the sandbox does not allow the look-up.
 *
 * @example
 * ```ts ignore
 * const { facts, mhzPerCore } = readHostFacts();
 * ```
 */
export function readHostFacts(): { facts: HostFacts; mhzPerCore: number } {
  let kernel = "";
  try {
    kernel = Deno.osRelease();
  } catch { /* not allowed */ }
  let cgroupVersion: 1 | 2 = 1;
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    cgroupVersion = 2;
  } catch { /* v1 or hybrid */ }
  let mhzPerCore = 1000;
  let ncpu = navigator.hardwareConcurrency || 1;
  try {
    const c = cpus();
    if (c.length > 0) ncpu = c.length;
    if (c.length > 0 && c[0].speed > 0) mhzPerCore = c[0].speed;
  } catch { /* not allowed */ }
  // /proc/sys/kernel/cap_last_cap would tell the kernel's last capability, but Deno only opens /proc
  // with --allow-all; the spec then assumes every capability it knows.
  const lastCap: number | undefined = undefined;
  let swapAccounting = cgroupVersion === 2;
  if (cgroupVersion === 1) {
    try {
      Deno.statSync("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
      swapAccounting = true;
    } catch { /* no swap accounting */ }
  }
  return {
    facts: {
      arch: ARCH[Deno.build.arch] ?? Deno.build.arch,
      kernel,
      cgroupVersion,
      cpus: ncpu,
      lastCap,
      swapAccounting,
    },
    mhzPerCore,
  };
}
