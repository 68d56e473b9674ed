/**
 * `group_add`: supplementary groups appended to process.user.additionalGids (after the user's own, no
 * repeats). Numbers are taken as they are; names are looked up in the image's /etc/group by the driver
 * with {@linkcode resolveGroups} (pure: it reads the file and passes its text) and handed in as
 * `resolvedGroups`.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";
import { ConfigError, show } from "../../schema/values.ts";

const NUM = /^\d{1,10}$/;

/**
 * The gids of `group_add` entries, names looked up in /etc/group text.
 *
 * @throws {ConfigError} (option `group_add[i]`) when a name is not in the file.
 *
 * @example
 * ```ts
 * resolveGroups(["audio", "1234"], "audio:x:29:\n"); // [29, 1234]
 * ```
 */
export function resolveGroups(groups: readonly string[], groupFile: string): number[] {
  const entries = groupFile.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
  return groups.map((g, i) => {
    if (NUM.test(g)) return Number(g);
    const e = entries.find((x) => x[0] === g);
    if (!e || !NUM.test(e[2] ?? "")) {
      throw new ConfigError(
        "task config",
        `group_add[${i}]`,
        `${show(g)} is not in the image's /etc/group; use a group the image has, or a numeric gid`,
      );
    }
    return Number(e[2]);
  });
}

/** Adds `group_add` to process.user.additionalGids; runs after user. */
export const withGroupAdd: SpecOpt = (spec, input) => {
  const want = input.task.groupAdd;
  if (want.length === 0) return;
  let gids = input.resolvedGroups;
  if (!gids) {
    const name = want.findIndex((g) => !NUM.test(g));
    if (name >= 0) {
      throw new ConfigError(
        "task config",
        `group_add[${name}]`,
        `${
          show(want[name])
        } is a name, which needs the image's /etc/group; the driver must resolve it (or use a numeric gid)`,
      );
    }
    gids = want.map(Number);
  }
  const user = spec.process.user;
  const out = [...(user.additionalGids ?? [])];
  for (const g of gids) if (g !== user.gid && !out.includes(g)) out.push(g);
  if (out.length > 0) user.additionalGids = out;
};
