/**
 * process.user: Nomad's task `user` wins over the image's USER. The spec holds numbers only; names are
 * looked up by the driver in the image's /etc/passwd and /etc/group with {@linkcode resolveUser}
 * (pure: the driver reads the two files and passes their text) and handed in as `resolvedUser`.
 *
 * @module
 */
import type { ImageConfig, NomadTask, ResolvedUser, SpecOpt } from "../input.ts";
import { ConfigError, show } from "../../schema/values.ts";

/**
 * The user the process runs as, as written: Nomad's `user`, else the image's USER, else "" (root).
 *
 * @example
 * ```ts
 * effectiveUser({ user: "" }, { User: "redis" }); // "redis"
 * ```
 */
export function effectiveUser(nomad: Pick<NomadTask, "user">, image: ImageConfig): string {
  return nomad.user || image.User || "";
}

const NUM = /^\d{1,10}$/;

function parseEntries(text: string): string[][] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) =>
    l.split(":")
  );
}

/**
 * Resolves `user[:group]` (names or numbers) against /etc/passwd and /etc/group text, as Docker and runc
 * do: a numeric user missing from passwd is fine (gid 0, home "/"), a missing name is an error; with no
 * explicit group the user's primary gid is used and every group listing the user becomes an additional
 * gid. Empty user means root.
 *
 * @throws {ConfigError} (scope "task", option "user") when a name cannot be found.
 *
 * @example
 * ```ts
 * resolveUser("redis", "redis:x:999:999::/data:/bin/sh\n", "redis:x:999:\ndisk:x:6:redis\n");
 * // { uid: 999, gid: 999, additionalGids: [6], home: "/data" }
 * ```
 */
export function resolveUser(spec: string, passwd: string, group: string): ResolvedUser {
  const [userPart, groupPart, ...rest] = (spec === "" ? "0" : spec).split(":");
  const fail = (problem: string) => new ConfigError("task", "user", problem);
  if (rest.length > 0 || userPart === "") {
    throw fail(`${show(spec)} is not a user; use "name", "uid", "name:group" or "uid:gid"`);
  }
  const users = parseEntries(passwd);
  const byName = users.find((u) => u[0] === userPart);
  const byId = NUM.test(userPart) ? users.find((u) => u[2] === userPart) : undefined;
  const entry = byName ?? byId;
  let uid: number;
  let gid: number;
  let home = "/";
  let name: string | undefined;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || "/";
    name = entry[0];
  } else if (NUM.test(userPart)) {
    uid = Number(userPart);
    gid = 0;
  } else {
    throw fail(
      `${show(userPart)} is not in the image's /etc/passwd; use a user the image has, or a numeric uid`,
    );
  }
  if (!Number.isFinite(uid) || !Number.isFinite(gid)) {
    throw fail(`${show(spec)} has a malformed /etc/passwd entry`);
  }
  const groups = parseEntries(group);
  const additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== "") {
    const g = groups.find((x) => x[0] === groupPart) ??
      (NUM.test(groupPart) ? groups.find((x) => x[2] === groupPart) : undefined);
    if (g) gid = Number(g[2]);
    else if (NUM.test(groupPart)) gid = Number(groupPart);
    else {throw fail(
        `group ${
          show(groupPart)
        } is not in the image's /etc/group; use a group the image has, or a numeric gid`,
      );}
  } else if (name !== undefined) {
    for (const g of groups) {
      const members = (g[3] ?? "").split(",").map((s) => s.trim());
      const id = Number(g[2]);
      if (members.includes(name) && Number.isFinite(id) && id !== gid && !additionalGids.includes(id)) {
        additionalGids.push(id);
      }
    }
  }
  return { uid, gid, additionalGids, home };
}

/** Sets process.user from `resolvedUser`, or from a numeric user; a user name without resolution is an error. */
export const withUser: SpecOpt = (spec, input) => {
  const r = input.resolvedUser;
  if (r) {
    spec.process.user = { uid: r.uid, gid: r.gid };
    if (r.additionalGids.length > 0) spec.process.user.additionalGids = [...r.additionalGids];
    return;
  }
  const u = effectiveUser(input.nomad, input.image);
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(u);
  if (u === "") spec.process.user = { uid: 0, gid: 0 };
  else if (m) spec.process.user = { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
  else {
    throw new ConfigError(
      "task",
      "user",
      `${
        show(u)
      } is a name, which needs the image's /etc/passwd; the driver must resolve it (or use a numeric "uid:gid")`,
    );
  }
};
