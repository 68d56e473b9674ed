/**
 * Looks up host device nodes for the spec (type, major/minor, mode, owner). Deno refuses to stat
 * anything under /dev without --allow-all, so the plugin asks `stat(1)` (allowed by name in the
 * launcher) instead.
 *
 * @module
 */
import type { HostDevice } from "../spec/input.ts";
import { ConfigError } from "../spec/values.ts";

/**
 * Stats device paths; a path that is missing or not a device is a ConfigError naming `option`.
 *
 * @example
 * ```ts ignore
 * const devs = await statDevices(["/dev/fuse"], "devices"); // { "/dev/fuse": { type: "c", major: 10, minor: 229, ... } }
 * ```
 */
export async function statDevices(
  paths: string[],
  option: string,
  opts: { skipOthers?: boolean } = {},
): Promise<Record<string, HostDevice>> {
  const out: Record<string, HostDevice> = {};
  const unique = [...new Set(paths)];
  if (unique.length === 0) return out;
  const res = await new Deno.Command("stat", {
    args: ["-L", "-c", "%n|%F|%t|%T|%a|%u|%g", "--", ...unique],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(res.stdout).split("\n").filter(Boolean);
  for (const l of lines) {
    const [path, kind, maj, min, mode, uid, gid] = l.split("|");
    const type = kind === "character special file" ? "c" : kind === "block special file" ? "b" : undefined;
    if (!type) {
      if (opts.skipOthers) continue;
      throw new ConfigError("task config", option, `"${path}" is not a device node (it is a ${kind})`);
    }
    out[path] = {
      path,
      type,
      major: parseInt(maj, 16),
      minor: parseInt(min, 16),
      fileMode: parseInt(mode, 8),
      uid: Number(uid),
      gid: Number(gid),
    };
  }
  for (const p of unique) {
    if (!out[p] && !opts.skipOthers) {
      throw new ConfigError("task config", option, `"${p}" does not exist on this host`);
    }
  }
  return out;
}

/**
 * Every device node directly under /dev (what a privileged task gets), skipping pts, shm and mqueue.
 *
 * @example
 * ```ts ignore
 * const all = await allHostDevices();
 * ```
 */
export async function allHostDevices(): Promise<HostDevice[]> {
  const ls = await new Deno.Command("ls", { args: ["-1", "/dev"], stdout: "piped", stderr: "null" }).output();
  const names = new TextDecoder().decode(ls.stdout).split("\n").filter((n) =>
    n && !["pts", "shm", "mqueue"].includes(n)
  );
  const found = await statDevices(names.map((n) => `/dev/${n}`), "privileged", { skipOthers: true });
  return Object.values(found);
}
