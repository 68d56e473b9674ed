/**
 * Reads /etc/passwd and /etc/group of an image straight from its snapshot's layer directories (the top
 * layer that has the file wins), so the spec can resolve user names as Docker and containerd's
 * WithUser do, without mounting anything.
 *
 * @module
 */
import type { Mount } from "../containerd/snapshots.ts";
import { ConfigError } from "../schema/values.ts";

/** The directories of a snapshot's rootfs, top first. */
export function layerDirs(mounts: Mount[]): string[] {
  const dirs: string[] = [];
  for (const m of mounts) {
    if (m.type === "overlay") {
      for (const o of m.options) {
        if (o.startsWith("upperdir=")) dirs.unshift(o.slice(9));
        if (o.startsWith("lowerdir=")) dirs.push(...o.slice(9).split(":"));
      }
    } else if (m.type === "bind" || m.options.includes("bind") || m.options.includes("rbind")) {
      dirs.push(m.source);
    }
  }
  return dirs;
}

/**
 * Reads one file of the image's rootfs; "" when no layer has it.
 *
 * @example
 * ```ts ignore
 * const passwd = await readImageFile(mounts, "/etc/passwd");
 * ```
 */
export async function readImageFile(mounts: Mount[], path: string): Promise<string> {
  for (const d of layerDirs(mounts)) {
    try {
      return await Deno.readTextFile(`${d}${path}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new ConfigError(
          "task",
          "user",
          `the image's ${path} cannot be read under the plugin's permissions (layer dir ${d}); ` +
            `give a numeric user such as "1000:1000", or add containerd's root to CONTAINERD_DRIVER_EXTRA_PATHS`,
        );
      }
      throw e;
    }
  }
  return "";
}
