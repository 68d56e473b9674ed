/**
 * The cgroup Nomad made for a task (cgroup v2, src/spec/cgroups.ts), kept for Nomad after the task is
 * gone. runc removes a container's cgroup when the task is deleted, Nomad's too; but Nomad's client waits
 * for that cgroup to exist before it starts the task again in the same allocation (a restart), and only
 * makes it when an allocation is added. So, as Nomad's exec driver does (its `resetCgroup`), DestroyTask
 * makes it again, empty, and so does a failed StartTask (runc removes the cgroup of a failed create too);
 * Nomad removes it when the allocation ends (it removes its scopes that hold no process). Deno touches nothing under /sys without its all-permissions flag: mkdir(1), allowed by name in
 * the launcher, makes it.
 *
 * @module
 */
import type { Logger } from "../log/hclog.ts";

/**
 * Makes the cgroup directory `path` again if it is gone (its parent must exist: only the task's own
 * scope is made, never Nomad's slice). Never throws: a failure is logged.
 *
 * @example
 * ```ts ignore
 * await restoreNomadCgroup("/sys/fs/cgroup/nomad.slice/a1.web.scope", logger);
 * ```
 */
export async function restoreNomadCgroup(path: string, logger: Logger): Promise<void> {
  try {
    const out = await new Deno.Command("mkdir", { args: ["--", path], stdout: "null", stderr: "piped" })
      .output();
    const err = new TextDecoder().decode(out.stderr).trim();
    if (!out.success && !err.includes("File exists")) {
      logger.warn("could not make Nomad's cgroup for the task again", { path, error: err });
    }
  } catch (e) {
    logger.warn("could not make Nomad's cgroup for the task again", { path, error: (e as Error).message });
  }
}
