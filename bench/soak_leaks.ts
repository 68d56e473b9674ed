/**
 * What the soak may leave behind, counted in containerd (through `ctr`) and on the host: taken once
 * before the first job and once after every job is stopped, purged and garbage-collected; any growth
 * is a leak.
 *
 * @module
 */
import { sh } from "./soak_env.ts";

/** Counts per kind. */
export type Inventory = Record<string, number>;

/** Where to look. */
export interface LeakScope {
  /** containerd's socket and root (the loop mount). */
  sock: string;
  ctdRoot: string;
  namespace: string;
  /** The soak's directory (agent data dir, containerd state, job files). */
  dir: string;
  /** Every allocation id the soak saw: Nomad names cgroups and netns after them. */
  allocIds: Set<string>;
}

async function ctrCount(s: LeakScope, ...args: string[]): Promise<number> {
  const out = await sh("ctr", "--address", s.sock, "-n", s.namespace, ...args).catch(() => "");
  return out.split("\n").map((l) => l.trim()).filter(Boolean).length;
}

async function lines(cmd: string, ...args: string[]): Promise<string[]> {
  const out = await sh(cmd, ...args).catch((e) => e instanceof Error ? "" : "");
  return out.split("\n").filter(Boolean);
}

/** Counts every kind once. */
export async function inventory(s: LeakScope): Promise<Inventory> {
  // containerd puts a task's cgroup at /<namespace>/<container id> (the namespace dir itself stays, as
  // containerd leaves it; teardown removes it); Nomad names its own after the allocation.
  const mine = (p: string) => p.includes(`/${s.namespace}/`) || [...s.allocIds].some((id) => p.includes(id));
  const mounts = (await sh("cat", "/proc/self/mounts")).split("\n").map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${s.dir}/`) && m !== s.ctdRoot);
  const cgroups = (await lines("find", "/sys/fs/cgroup", "-mindepth", "2", "-maxdepth", "5", "-type", "d"))
    .filter(mine);
  const netns = (await lines("ls", "/run/netns")).filter((n) => [...s.allocIds].some((id) => n.includes(id)));
  const shims = (await lines("pgrep", "-f", `containerd-shim-runc-v2 .*-address ${s.sock}`)).length;
  return {
    containers: await ctrCount(s, "containers", "ls", "-q"),
    tasks: await ctrCount(s, "tasks", "ls", "-q"),
    snapshots: Math.max(0, (await ctrCount(s, "snapshots", "ls")) - 1),
    leases: await ctrCount(s, "leases", "ls", "-q"),
    content: Math.max(0, (await ctrCount(s, "content", "ls")) - 1),
    content_ingests: Math.max(0, (await ctrCount(s, "content", "active")) - 1) +
      (await lines(
        "find",
        `${s.ctdRoot}/io.containerd.content.v1.content/ingest`,
        "-mindepth",
        "1",
        "-maxdepth",
        "1",
      ))
        .length,
    images: await ctrCount(s, "images", "ls", "-q"),
    mounts: mounts.length,
    fifos: (await lines("find", s.dir, "-type", "p")).length,
    cgroup_dirs: cgroups.length,
    netns: netns.length,
    shims,
  };
}

/** Growth per kind from `before` to `after` (never negative). */
export function leaks(before: Inventory, after: Inventory): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(after)) out[k] = Math.max(0, after[k] - (before[k] ?? 0));
  return out;
}
