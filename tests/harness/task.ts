/**
 * Plays the parts of Nomad's client around one task: the alloc directory tree, logmon's stdout/stderr
 * FIFOs (read continuously, like logmon, reopened when a writer goes away), and the TaskConfig message
 * with the task's `config {}` encoded as cty msgpack.
 *
 * @module
 */
import type { Device, DNSConfig, Mount, TaskConfig } from "../../src/gen/nomad/driver.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import { taskConfigType } from "../../src/spec/task_config.ts";
import { shortTempDir } from "./services.ts";
import { concatBytes } from "../../src/util/bytes.ts";

/** Reads a FIFO the way logmon does: keeps it open, reopens after EOF, collects everything. */
export class FifoReader {
  readonly chunks: Uint8Array[] = [];
  #stopped = false;
  #file?: Deno.FsFile;
  readonly done: Promise<void>;

  constructor(readonly path: string) {
    this.done = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.#file = await Deno.open(this.path, { read: true });
        for await (const c of this.#file.readable) this.chunks.push(c);
      } catch {
        if (this.#stopped) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Everything read so far, as text. */
  text(): string {
    return new TextDecoder().decode(concatBytes(this.chunks));
  }

  /** Complete lines read so far. */
  lines(): string[] {
    const t = this.text();
    const parts = t.split("\n");
    parts.pop();
    return parts;
  }

  /** Stops reading (unblocks a pending open by opening the FIFO read-write). */
  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      const f = await Deno.open(this.path, { read: true, write: true });
      f.close();
    } catch { /* gone */ }
    try {
      this.#file?.close();
    } catch { /* closed */ }
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 1000))]);
  }
}

/** Options for {@linkcode makeTask}. */
export interface TaskOptions {
  /** the task's `config {}` block, as HCL would decode it (image required) */
  config: Record<string, CtyValue>;
  name?: string;
  env?: Record<string, string>;
  user?: string;
  memoryMb?: number;
  memoryMaxMb?: number;
  cpuShares?: number;
  /**
   * Nomad's network isolation (mode: 0 host, 1 group, 2 task, 3 none) with the group network's hostname
   * and address for /etc/hosts; none from Nomad when absent (the driver then gives the task a netns of its
   * own).
   */
  network?: { mode: number; path: string; hostname?: string; address?: string };
  /** Nomad's volume_mount mounts (propagationMode and selinuxLabel default to "private" and "") */
  mounts?: (Pick<Mount, "taskPath" | "hostPath" | "readonly"> & Partial<Mount>)[];
  /** devices Nomad's device plugins allocated */
  devices?: Device[];
  /** a task of this allocation (its id and alloc dir are shared; this task gets a task dir beside it) */
  sameAllocAs?: PreparedTask;
  /** DNS from the group network block */
  dns?: DNSConfig;
  /** Nomad's LinuxResources beyond shares and memory */
  linux?: {
    cpusetCpus?: string;
    percentTicks?: number;
    cpuPeriod?: number;
    cpuQuota?: number;
    oomScoreAdj?: number;
    /** LinuxResources.CpusetCgroupPath: the cgroup Nomad's client made for the task (cgroup v2) */
    cpusetCgroup?: string;
  };
}

/** A task prepared as Nomad's client would prepare it. */
export interface PreparedTask {
  config: TaskConfig;
  allocDir: string;
  /** the task dir (`<allocDir>/<name>`), holding local/, secrets/ and tmp/ */
  taskDir: string;
  stdout: FifoReader;
  stderr: FifoReader;
  /** Stops the log readers and removes the alloc dir. */
  cleanup(): Promise<void>;
}

/** Where a task's files are, as Nomad's client laid them out. */
export interface TaskPlace {
  allocId: string;
  name: string;
  allocDir: string;
  stdoutPath: string;
  stderrPath: string;
}

/**
 * The TaskConfig message Nomad's client would send for these options and this place, with the task's
 * `config {}` encoded as cty msgpack.
 *
 * @example
 * ```ts ignore
 * const cfg = nomadTaskConfig({ config: { image } }, { allocId, name, allocDir, stdoutPath, stderrPath });
 * ```
 */
export function nomadTaskConfig(o: TaskOptions, place: TaskPlace): TaskConfig {
  const { allocId, name, allocDir, stdoutPath, stderrPath } = place;
  return {
    id: `${allocId}/${name}/${crypto.randomUUID().slice(0, 8)}`,
    name,
    msgpackDriverConfig: encodeCty(o.config, taskConfigType),
    env: {
      NOMAD_ALLOC_DIR: "/alloc",
      NOMAD_TASK_DIR: "/local",
      NOMAD_SECRETS_DIR: "/secrets",
      NOMAD_TASK_NAME: name,
      NOMAD_ALLOC_ID: allocId,
      ...o.env,
    },
    deviceEnv: {},
    resources: {
      allocatedResources: {
        cpu: { cpuShares: BigInt(o.cpuShares ?? 100) },
        memory: { memoryMb: BigInt(o.memoryMb ?? 128), memoryMaxMb: BigInt(o.memoryMaxMb ?? 0) },
        networks: [],
      },
      linuxResources: {
        cpuPeriod: BigInt(o.linux?.cpuPeriod ?? 0),
        cpuQuota: BigInt(o.linux?.cpuQuota ?? 0),
        cpuShares: BigInt(o.cpuShares ?? 100),
        memoryLimitBytes: BigInt((o.memoryMb ?? 128) * 1024 * 1024),
        oomScoreAdj: BigInt(o.linux?.oomScoreAdj ?? 0),
        cpusetCpus: o.linux?.cpusetCpus ?? "",
        cpusetCgroup: o.linux?.cpusetCgroup ?? "",
        PercentTicks: o.linux?.percentTicks ?? 0,
      },
      ports: [],
    },
    mounts: (o.mounts ?? []).map((m) => ({ propagationMode: "private", selinuxLabel: "", ...m })),
    devices: o.devices ?? [],
    user: o.user ?? "",
    allocDir,
    stdoutPath,
    stderrPath,
    taskGroupName: "group",
    jobName: "job",
    allocId,
    networkIsolationSpec: o.network
      ? {
        mode: o.network.mode,
        path: o.network.path,
        labels: {},
        hostsConfig: o.network.hostname || o.network.address
          ? { hostname: o.network.hostname ?? "", address: o.network.address ?? "" }
          : undefined,
      }
      : undefined,
    dns: o.dns,
    jobId: "job",
    namespace: "default",
    nodeName: "test-node",
    nodeId: "node-1",
    parentJobId: "",
  };
}

let seq = 0;

/**
 * Makes the alloc dir, the log FIFOs (with readers), and the TaskConfig.
 *
 * @example
 * ```ts ignore
 * const t = await makeTask({ config: { image: "127.0.0.1:15000/cdrv/busybox:1", command: "/bin/echo", args: ["hi"] } });
 * ```
 */
export async function makeTask(o: TaskOptions): Promise<PreparedTask> {
  const allocId = o.sameAllocAs?.config.allocId ?? crypto.randomUUID();
  const name = o.name ?? `t${++seq}`;
  const allocDir = o.sameAllocAs?.allocDir ?? await shortTempDir("cdrv-alloc-");
  const taskDir = `${allocDir}/${name}`;
  for (
    const d of [
      `${allocDir}/alloc/logs`,
      `${allocDir}/alloc/data`,
      `${allocDir}/alloc/tmp`,
      `${taskDir}/local`,
      `${taskDir}/secrets`,
      `${taskDir}/tmp`,
    ]
  ) {
    await Deno.mkdir(d, { recursive: true });
  }
  const stdoutPath = `${allocDir}/alloc/logs/.${name}.stdout.fifo`;
  const stderrPath = `${allocDir}/alloc/logs/.${name}.stderr.fifo`;
  const mk = await new Deno.Command("mkfifo", { args: [stdoutPath, stderrPath] }).output();
  if (!mk.success) throw new Error("mkfifo failed");
  const stdout = new FifoReader(stdoutPath);
  const stderr = new FifoReader(stderrPath);
  const config = nomadTaskConfig(o, { allocId, name, allocDir, stdoutPath, stderrPath });
  return {
    config,
    allocDir,
    taskDir,
    stdout,
    stderr,
    async cleanup() {
      await stdout.stop();
      await stderr.stop();
      // A second task of an allocation leaves the alloc dir to the first.
      const mine = o.sameAllocAs ? [taskDir, stdoutPath, stderrPath] : [allocDir];
      for (const p of mine) await Deno.remove(p, { recursive: true }).catch(() => {});
    },
  };
}
