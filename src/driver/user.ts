/**
 * Resolves a task's user ("redis", "1000", "app:staff", "1000:1000") to numeric ids from the image's
 * own /etc/passwd and /etc/group, read straight from the snapshot's layer directories (the top layer
 * that has the file wins), as Docker and containerd's WithUser do.
 *
 * @module
 */
import type { Mount } from "../containerd/snapshots.ts";
import { ConfigError } from "../spec/values.ts";

/** Numeric ids of the process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

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

async function readFromLayers(dirs: string[], path: string): Promise<string | undefined> {
  for (const d of dirs) {
    try {
      return await Deno.readTextFile(`${d}${path}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new ConfigError(
          "task config",
          "user",
          `the image's ${path} cannot be read under the plugin's permissions (layer dir ${d}); ` +
            `give a numeric user such as "1000:1000", or add containerd's root to CONTAINERD_DRIVER_EXTRA_PATHS`,
        );
      }
      throw e;
    }
  }
  return undefined;
}

function parseDb(text: string | undefined): string[][] {
  return (text ?? "").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}

/**
 * Resolves `user` against the image; "" means root. Unknown names give a ConfigError.
 *
 * @example
 * ```ts ignore
 * await resolveUser(mounts, "redis"); // { uid: 999, gid: 999, additionalGids: [999] }
 * ```
 */
export async function resolveUser(mounts: Mount[], user: string): Promise<ResolvedUser> {
  if (user === "") return { uid: 0, gid: 0, additionalGids: [] };
  const [u, g] = user.split(":", 2);
  const numeric = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);
  if (numeric(u) && (g === undefined || numeric(g))) {
    // Fully numeric: the image's files are only consulted for a missing gid, and may be absent.
    let gid = g !== undefined ? Number(g) : 0;
    if (g === undefined) {
      const dirs = layerDirs(mounts);
      const passwd = await readFromLayers(dirs, "/etc/passwd").catch(() => undefined);
      const entry = parseDb(passwd).find((e) => e[2] === u);
      if (entry) gid = Number(entry[3]);
    }
    return { uid: Number(u), gid, additionalGids: [] };
  }
  const dirs = layerDirs(mounts);
  const passwd = parseDb(await readFromLayers(dirs, "/etc/passwd"));
  const groups = parseDb(await readFromLayers(dirs, "/etc/group"));
  const entry = numeric(u) ? passwd.find((e) => e[2] === u) : passwd.find((e) => e[0] === u);
  if (!entry && !numeric(u)) {
    throw new ConfigError(
      "task config",
      "user",
      `"${u}" is not a user in the image's /etc/passwd; use a name it has or a numeric uid`,
    );
  }
  const uid = entry ? Number(entry[2]) : Number(u);
  let gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined) {
    if (numeric(g)) gid = Number(g);
    else {
      const grp = groups.find((e) => e[0] === g);
      if (!grp) {
        throw new ConfigError("task config", "user", `"${g}" is not a group in the image's /etc/group`);
      }
      gid = Number(grp[2]);
    }
  }
  const name = entry?.[0];
  const additionalGids = name
    ? groups.filter((e) => (e[3] ?? "").split(",").includes(name)).map((e) => Number(e[2])).filter((x) =>
      x !== gid
    )
    : [];
  return { uid, gid, additionalGids };
}
