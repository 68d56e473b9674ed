/**
 * SELinux on the host: whether it is on, the policy's container contexts, the MCS categories of the
 * tasks this plugin runs, and relabelling host paths (chcon(1), allowed by name in the launcher; Deno
 * cannot write security xattrs). Pure parts (labels, what to relabel) live in src/spec/selinux.ts.
 *
 * @module
 */
import type { Logger } from "../log/hclog.ts";
import { ConfigError } from "../schema/values.ts";
import {
  DEFAULT_CONTEXTS,
  MCS_CATEGORIES,
  mcsLevel,
  parseLxcContexts,
  type Relabel,
  type SelinuxContexts,
} from "../spec/selinux.ts";
import { exists } from "./host.ts";

/**
 * What the plugin knows of SELinux on its host, and the MCS levels its allocations hold. The tasks of one
 * allocation share a level, as the containers of a pod do: what one writes to /alloc the others can read,
 * while other allocations are kept out by their own categories.
 */
export class Selinux {
  readonly #byAlloc = new Map<string, { level: string; tasks: number }>();

  /**
   * @param enabled SELinux is on (enforcing or permissive): selinuxfs is mounted
   * @param contexts the policy's container contexts
   */
  constructor(readonly enabled: boolean, readonly contexts: SelinuxContexts = DEFAULT_CONTEXTS) {}

  /**
   * Looks at the host: /sys/fs/selinux/enforce, then the policy named by /etc/selinux/config and its
   * contexts/lxc_contexts (container-selinux's file; refpolicy's container module uses the same types
   * without the file, so the defaults stand then).
   */
  static async detect(logger: Logger): Promise<Selinux> {
    if (!exists("/sys/fs/selinux/enforce")) return new Selinux(false);
    const read = async (p: string) => {
      try {
        return await Deno.readTextFile(p);
      } catch {
        return "";
      }
    };
    const type = /^\s*SELINUXTYPE\s*=\s*(\S+)/m.exec(await read("/etc/selinux/config"))?.[1] ?? "targeted";
    const found = parseLxcContexts(await read(`/etc/selinux/${type}/contexts/lxc_contexts`));
    const contexts = { ...DEFAULT_CONTEXTS, ...found };
    logger.info("SELinux is on", { policy: type, process: contexts.process, file: contexts.file });
    return new Selinux(true, contexts);
  }

  /**
   * The MCS level of an allocation's next task: the one its running tasks hold, or a fresh one (two random
   * categories) no other allocation of this plugin holds.
   */
  takeLevel(allocId: string): string {
    const held = this.#byAlloc.get(allocId);
    if (held) {
      held.tasks++;
      return held.level;
    }
    const inUse = new Set([...this.#byAlloc.values()].map((h) => h.level));
    const r = new Uint32Array(2);
    for (;;) {
      crypto.getRandomValues(r);
      const a = r[0] % MCS_CATEGORIES;
      const b = r[1] % MCS_CATEGORIES;
      if (a === b) continue;
      const level = mcsLevel(a, b);
      if (inUse.has(level)) continue;
      this.#byAlloc.set(allocId, { level, tasks: 1 });
      return level;
    }
  }

  /** Marks a recovered task's level as held by its allocation. */
  holdLevel(allocId: string, level: string): void {
    const held = this.#byAlloc.get(allocId);
    if (held) held.tasks++;
    else this.#byAlloc.set(allocId, { level, tasks: 1 });
  }

  /** A task gives its allocation's level back (destroyed, or its start failed); the last one frees it. */
  releaseLevel(allocId: string): void {
    const held = this.#byAlloc.get(allocId);
    if (held && --held.tasks <= 0) this.#byAlloc.delete(allocId);
  }

  /** The level an allocation holds now, if any. */
  levelOf(allocId: string): string | undefined {
    return this.#byAlloc.get(allocId)?.level;
  }
}

/**
 * Relabels each path, recursively, without following symlinks (`chcon -R -h`). A path whose top already
 * has the context is left alone, as podman does: relabelling a large volume at every start would be
 * slow, and what was labelled once keeps its label. A failure is a ConfigError naming the option.
 *
 * @example
 * ```ts ignore
 * await relabel([{ path: "/srv/data", context: "system_u:object_r:container_file_t:s0", scope: "task config", option: "mounts[0].source" }], log);
 * ```
 */
export async function relabel(plan: Relabel[], logger: Logger): Promise<void> {
  for (const r of plan) {
    const current = await run("stat", ["-c", "%C", "--", r.path]);
    if (!current.ok && /No such file/i.test(current.err)) {
      // A missing source is the mount's own error later (runc names it); nothing to label here.
      logger.debug("SELinux relabel: path not found", { path: r.path });
      continue;
    }
    if (current.out === r.context) {
      logger.debug("SELinux relabel: already labelled", { path: r.path, context: r.context });
      continue;
    }
    const t0 = performance.now();
    const res = await run("chcon", ["-R", "-h", "--", r.context, r.path]);
    if (!res.ok) {
      throw new ConfigError(
        r.scope,
        r.option,
        `relabelling "${r.path}" to ${r.context} failed: ${res.err}`,
      );
    }
    logger.debug("SELinux relabel", {
      path: r.path,
      from: current.out,
      to: r.context,
      ms: Math.round(performance.now() - t0),
    });
  }
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const res = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: res.success, out: dec.decode(res.stdout).trim(), err: dec.decode(res.stderr).trim() };
  } catch (e) {
    // NotCapable: the launcher did not allow the command.
    return { ok: false, out: "", err: `${cmd}: ${(e as Error).message}` };
  }
}
