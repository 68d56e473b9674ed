/**
 * Facts of the host the spec and the stats depend on, read once at start-up.
 *
 * @module
 */
import { cpus } from "node:os";
import type { HostFacts } from "../spec/input.ts";
import { capabilitiesFromMask } from "../spec/capabilities.ts";

/** Set by the launcher: CapEff of /proc/self/status, hex (the capabilities the plugin's root holds). */
export const CAPS_ENV = "CONTAINERD_DRIVER_CAPS";

const ARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };

/**
 * Reads the architecture, kernel release, cgroup version, swap accounting, CPU speed and the capabilities
 * the runtime can grant. Each falls back to a safe value when the sandbox does not allow the look-up.
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
  const cgroupVersion: 1 | 2 = exists("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
  let mhzPerCore = 1000;
  let ncpu = navigator.hardwareConcurrency || 1;
  try {
    const c = cpus();
    if (c.length > 0) ncpu = c.length;
    if (c.length > 0 && c[0].speed > 0) mhzPerCore = c[0].speed;
  } catch { /* not allowed */ }
  // /proc/sys/kernel/cap_last_cap would tell the kernel's last capability, but Deno only opens /proc
  // with its all-permissions flag; the spec then assumes every capability it knows. For the same reason the launcher
  // passes the effective capabilities root has here (what runc can grant) in CAPS_ENV.
  const lastCap: number | undefined = undefined;
  let grantableCaps: string[] | undefined;
  try {
    grantableCaps = capabilitiesFromMask(Deno.env.get(CAPS_ENV) ?? "");
  } catch { /* not allowed */ }
  const swapAccounting = cgroupVersion === 2 || exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  return {
    facts: {
      arch: ARCH[Deno.build.arch] ?? Deno.build.arch,
      kernel,
      cgroupVersion,
      cpus: ncpu,
      lastCap,
      grantableCaps,
      swapAccounting,
    },
    mhzPerCore,
  };
}

/**
 * Whether a path exists. Deno stats nothing under /sys or /proc without its all-permissions flag, which the plugin
 * never has, so stat(1) (allowed by name in the launcher) answers when Deno may not.
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
  }
  try {
    return new Deno.Command("stat", { args: ["--", path], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false; // stat(1) not allowed either
  }
}
