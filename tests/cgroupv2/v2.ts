/**
 * What the cgroup v2 tests share: the check that the host is cgroup v2 (these tests run in the modern leg,
 * a guest with only the unified hierarchy; anywhere else they fail with the reason, never skip), and
 * reading a task's cgroup from the host side: its path from /proc/<pid>/cgroup, its files under
 * /sys/fs/cgroup. Deno opens /proc and /sys only with its all-permissions flag: cat(1) reads them.
 *
 * @module
 */
import type { TestDriver } from "../harness/driver.ts";

/** The v2 mount. */
export const CGROUP_ROOT = "/sys/fs/cgroup";

/** Runs a command; its stdout (throws with stderr on failure). */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr).trim()}`);
  return dec.decode(out.stdout);
}

/**
 * Fails (with what this host has instead) unless /sys/fs/cgroup is the cgroup v2 unified hierarchy
 * with the controllers the tests read enabled for child cgroups.
 */
export async function requireCgroupV2(): Promise<void> {
  const fs = (await sh("stat", "-fc", "%T", CGROUP_ROOT)).trim();
  if (fs !== "cgroup2fs") {
    throw new Error(
      `tests/cgroupv2 need a cgroup v2 host (/sys/fs/cgroup a cgroup2 mount, as the modern leg's guest has); ` +
        `this host has ${fs} there (cgroup v1 or hybrid): run them in the v2 guest, not here`,
    );
  }
  const enabled = (await sh("cat", `${CGROUP_ROOT}/cgroup.subtree_control`)).trim().split(/\s+/);
  const missing = ["cpu", "cpuset", "memory", "pids"].filter((c) => !enabled.includes(c));
  if (missing.length) {
    throw new Error(
      `cgroup v2 controllers ${
        missing.join(", ")
      } are not enabled in ${CGROUP_ROOT}/cgroup.subtree_control ` +
        `(it has "${enabled.join(" ")}"): echo "+cpu +cpuset +io +memory +pids" into it first`,
    );
  }
}

/** The PID (on the host) of a container's init, from `ctr tasks ls`. */
export async function taskPid(d: TestDriver, containerId: string): Promise<number> {
  const line = (await d.ctr("tasks", "ls")).split("\n").find((l) => l.split(/\s+/)[0] === containerId);
  const pid = Number(line?.split(/\s+/)[1]);
  if (!pid) throw new Error(`no running task ${containerId} in ctr tasks ls`);
  return pid;
}

/** The v2 cgroup of a process ("/nomad.slice/x.scope"), from its single "0::" line in /proc/<pid>/cgroup. */
export async function cgroupOf(pid: number | "self"): Promise<string> {
  const text = (await sh("cat", `/proc/${pid}/cgroup`)).trim();
  if (!/^0::\//.test(text) || text.includes("\n")) {
    throw new Error(`/proc/${pid}/cgroup is not a cgroup v2 one ("0::<path>" alone): ${text}`);
  }
  return text.slice(3);
}

/** A file of a cgroup (path relative to the v2 mount), trimmed. */
export async function cgRead(cgroup: string, file: string): Promise<string> {
  return (await sh("cat", `${CGROUP_ROOT}${cgroup}/${file}`)).trim();
}

/** A flat keyed cgroup file (cpu.stat, memory.stat, memory.events) as numbers. */
export async function cgKeyed(cgroup: string, file: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const l of (await cgRead(cgroup, file)).split("\n")) {
    const [k, v] = l.split(/\s+/);
    if (k) out[k] = Number(v);
  }
  return out;
}

/** Whether a cgroup dir exists. */
export async function cgExists(cgroup: string): Promise<boolean> {
  return (await new Deno.Command("test", { args: ["-d", `${CGROUP_ROOT}${cgroup}`] }).output()).success;
}

/**
 * runc's conversion of CPU shares to cgroup v2 cpu.weight (github.com/opencontainers/cgroups
 * ConvertCPUSharesToCgroupV2Value, used by runc ≥ 1.3 and so 1.5.3): a quadratic in log2(shares) through
 * 2 → 1, 1024 → 100 and 262144 → 10000. (runc ≤ 1.2 mapped [2, 262144] linearly onto [1, 10000].)
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}
