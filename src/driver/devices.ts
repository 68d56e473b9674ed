/**
 * Looks up host device nodes for the spec (type, major/minor, mode, owner), and host files the plugin
 * may not open itself (the init binary). Deno refuses to stat anything under /dev without its all-permissions flag,
 * and the launcher grants reads of few paths, so the plugin asks `stat(1)` (allowed by name in the
 * launcher) instead.
 *
 * @module
 */
import type { HostDevice } from "../spec/input.ts";
import { ConfigError } from "../schema/values.ts";

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
 * Every device node under /dev, in subdirectories too (/dev/net/tun, /dev/dri/*, /dev/cpu/0/cpuid), as
 * Docker gives a privileged task; /dev/pts, /dev/shm and /dev/mqueue are skipped (the container has its
 * own).
 *
 * @example
 * ```ts ignore
 * const all = await allHostDevices();
 * ```
 */
export async function allHostDevices(): Promise<HostDevice[]> {
  const ls = await new Deno.Command("ls", { args: ["-1", "-R", "/dev"], stdout: "piped", stderr: "null" })
    .output();
  const found = await statDevices(devPaths(new TextDecoder().decode(ls.stdout)), "privileged", {
    skipOthers: true,
  });
  return Object.values(found);
}

const SKIPPED_DEV_DIRS = ["/dev/pts", "/dev/shm", "/dev/mqueue"];

/**
 * The paths in `ls -1 -R /dev` output (directory headers end in ":"), without the skipped subtrees.
 *
 * @example
 * ```ts
 * devPaths("/dev:\nnull\nnet\n\n/dev/net:\ntun\n"); // ["/dev/null", "/dev/net", "/dev/net/tun"]
 * ```
 */
export function devPaths(lsOutput: string): string[] {
  const out: string[] = [];
  let dir = "/dev";
  for (const line of lsOutput.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("/") && line.endsWith(":")) {
      dir = line.slice(0, -1);
      continue;
    }
    const path = `${dir}/${line}`;
    const skipped = (d: string) => SKIPPED_DEV_DIRS.some((s) => d === s || d.startsWith(`${s}/`));
    if (!skipped(dir) && !skipped(path)) out.push(path);
  }
  return out;
}

/**
 * Checks that a host path the container will have bound in is a regular file (followed through links);
 * a ConfigError naming `option` otherwise, before anything is created.
 *
 * @example
 * ```ts ignore
 * await checkHostFile("/usr/bin/tini-static", "init_path");
 * ```
 */
export async function checkHostFile(path: string, option: string): Promise<void> {
  const res = await new Deno.Command("stat", {
    args: ["-L", "-c", "%F", "--", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const kind = new TextDecoder().decode(res.stdout).trim();
  if (!res.success) {
    throw new ConfigError(
      "task config",
      option,
      `"${path}" does not exist on this host; give the path of a file`,
    );
  }
  if (kind !== "regular file" && kind !== "regular empty file") {
    throw new ConfigError(
      "task config",
      option,
      `"${path}" is not a file (it is a ${kind}); give the path of a file`,
    );
  }
}
