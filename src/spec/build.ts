/**
 * buildSpec: the OCI runtime spec of a task, composed from SpecOpts. Their order is written down here
 * once; each lives in src/spec/opts/<concern>.ts with a test beside it.
 *
 * @module
 */
import type { SpecInput, SpecOpt } from "./input.ts";
import type { OciSpec } from "./oci.ts";
import { baseSpec } from "./opts/base.ts";
import { withProcess } from "./opts/process.ts";
import { withEnv } from "./opts/env.ts";
import { withUser } from "./opts/user.ts";
import { withCwd } from "./opts/cwd.ts";
import { withHostname } from "./opts/hostname.ts";
import { withCapabilities } from "./opts/capabilities.ts";
import { withPrivileged } from "./opts/privileged.ts";
import { withNamespaces } from "./opts/namespaces.ts";
import { withRootfs } from "./opts/rootfs.ts";
import { withMounts } from "./opts/mounts.ts";
import { withDevices } from "./opts/devices.ts";
import { withResources } from "./opts/resources.ts";
import { withSysctl } from "./opts/sysctl.ts";
import { withRlimits } from "./opts/rlimits.ts";
import { withOomScoreAdj } from "./opts/oom.ts";
import { withSeccomp } from "./opts/seccomp.ts";
import { withInit } from "./opts/init.ts";
import { withSecurityOpt } from "./opts/security_opt.ts";
import { withGroupAdd } from "./opts/groups.ts";
import { withSelinux } from "./opts/selinux.ts";

/**
 * The SpecOpts in the order they run. Order matters in three places: seccomp after capabilities (its
 * rules depend on the final bounding set), init after process and mounts (it wraps the args and adds a
 * mount), resources after devices (both write linux.resources); groups after user (it appends to the
 * user's groups), security_opt after privileged (it may turn no_new_privileges back on).
 */
export const SPEC_OPTS: readonly [string, SpecOpt][] = [
  ["process", withProcess],
  ["env", withEnv],
  ["user", withUser],
  ["groups", withGroupAdd],
  ["cwd", withCwd],
  ["hostname", withHostname],
  ["capabilities", withCapabilities],
  ["privileged", withPrivileged],
  ["security_opt", withSecurityOpt],
  ["selinux", withSelinux],
  ["namespaces", withNamespaces],
  ["rootfs", withRootfs],
  ["mounts", withMounts],
  ["devices", withDevices],
  ["resources", withResources],
  ["sysctl", withSysctl],
  ["rlimits", withRlimits],
  ["oom", withOomScoreAdj],
  ["seccomp", withSeccomp],
  ["init", withInit],
];

/**
 * Builds a task's OCI spec. Throws ConfigError for combinations the task config reader cannot see alone
 * (privileged vs. policy, mounts vs. volumes.enabled, memory_swap vs. the limit...), before anything is
 * created.
 *
 * @example
 * ```ts
 * const spec = buildSpec(exampleInput({ image: "redis:7" }));
 * spec.process.args; // ["docker-entrypoint.sh", "redis-server"]
 * ```
 */
export function buildSpec(input: SpecInput): OciSpec {
  const spec = baseSpec();
  if (input.cgroupsPath) spec.linux.cgroupsPath = input.cgroupsPath;
  for (const [, opt] of SPEC_OPTS) opt(spec, input);
  return spec;
}

/** The SpecOpts that read the image (its config, or the user looked up in its files). */
export const IMAGE_OPTS: ReadonlySet<string> = new Set(["process", "env", "user", "groups", "cwd"]);

/**
 * Runs every SpecOpt that does not need the image on a scratch spec and throws what they throw: the
 * driver calls it before pulling the image or creating anything, so a refused option (privileged against
 * the policy, a mount outside the task dir, memory_swap below the limit...) leaves nothing behind.
 * {@linkcode buildSpec} later runs them all again with the image.
 *
 * @example
 * ```ts
 * checkSpecInput(exampleInput({ privileged: true })); // ConfigError when the policy refuses it
 * ```
 */
export function checkSpecInput(input: Omit<SpecInput, "image" | "resolvedUser">): void {
  const spec = baseSpec();
  const full: SpecInput = { ...input, image: {} };
  for (const [name, opt] of SPEC_OPTS) if (!IMAGE_OPTS.has(name)) opt(spec, full);
}
