/**
 * A complete, plausible {@linkcode SpecInput} for tests and the browser playground: a redis task in a
 * group network on an amd64 cgroup v1 node. Override what a test is about.
 *
 * @module
 */
import type { SpecInput } from "./input.ts";
import { readTaskConfig } from "./task_config.ts";
import type { CtyValue } from "../schema/values.ts";

/**
 * An example input; `config` is the task `config {}` block (read with readTaskConfig), `over` replaces
 * top-level parts. Table-like: one example value per field (the playground shows them as they are).
 *
 * @example
 * ```ts
 * const input = exampleInput({ image: "redis:7", privileged: true });
 * input.task.privileged; // true
 * ```
 */
export function exampleInput(
  config: Record<string, CtyValue> = {},
  over: Partial<SpecInput> = {},
): SpecInput {
  const allocId = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
  const taskDir = `/var/lib/nomad/alloc/${allocId}/redis`;
  return {
    id: `redis-${allocId}`,
    task: readTaskConfig({ image: "docker.io/library/redis:7", ...config }),
    nomad: {
      id: `${allocId}/redis/1a2b3c4d`,
      name: "redis",
      allocId,
      jobName: "cache",
      groupName: "cache",
      namespace: "default",
      env: { NOMAD_TASK_NAME: "redis", NOMAD_ALLOC_DIR: "/alloc", NOMAD_TASK_DIR: "/local" },
      user: "",
      resources: {
        cpuShares: 500,
        memoryMb: 256,
        memoryMaxMb: 0,
        cpusetCpus: "",
        cpuPeriod: 0,
        cpuQuota: 0,
        percentTicks: 500 / 4000,
      },
      dirs: {
        alloc: `/var/lib/nomad/alloc/${allocId}/alloc`,
        local: `${taskDir}/local`,
        secrets: `${taskDir}/secrets`,
        task: taskDir,
      },
      mounts: [],
      devices: [],
      network: { mode: "group", path: `/var/run/netns/${allocId}`, hostname: "", address: "172.26.64.10" },
    },
    image: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "REDIS_VERSION=7.2.4"],
      Entrypoint: ["docker-entrypoint.sh"],
      Cmd: ["redis-server"],
      WorkingDir: "/data",
    },
    plugin: { allowPrivileged: true, volumesEnabled: true },
    host: {
      arch: "amd64",
      kernel: "6.1.0-18-amd64",
      cgroupVersion: 1,
      cpus: 2,
      lastCap: 40,
      swapAccounting: true,
    },
    files: {
      hosts: `${taskDir}/hosts`,
      resolvConf: `${taskDir}/resolv.conf`,
      hostname: `${taskDir}/hostname`,
    },
    resolvedUser: { uid: 0, gid: 0, additionalGids: [], home: "/root" },
    ...over,
  };
}
