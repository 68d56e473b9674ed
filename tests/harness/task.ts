/**
 * Plays the parts of Nomad's client around one task: the alloc directory tree, logmon's stdout/stderr
 * FIFOs (read continuously, like logmon, reopened when a writer goes away), and the TaskConfig message
 * with the task's `config {}` encoded as cty msgpack.
 *
 * @module
 */
import type { TaskConfig } from "../../src/gen/nomad/driver.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import type { CtyValue } from "../../src/spec/values.ts";
import { taskConfigType } from "../../src/spec/task_config.ts";

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
    return new TextDecoder().decode(concat(this.chunks));
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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
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
  /** Nomad's network isolation; host when absent */
  network?: { mode: number; path: string };
}

/** A task prepared as Nomad's client would prepare it. */
export interface PreparedTask {
  config: TaskConfig;
  allocDir: string;
  stdout: FifoReader;
  stderr: FifoReader;
  /** Stops the log readers and removes the alloc dir. */
  cleanup(): Promise<void>;
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
  const allocId = crypto.randomUUID();
  const name = o.name ?? `t${++seq}`;
  const allocDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-alloc-" });
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
  const config: TaskConfig = {
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
        cpuPeriod: 0n,
        cpuQuota: 0n,
        cpuShares: BigInt(o.cpuShares ?? 100),
        memoryLimitBytes: BigInt((o.memoryMb ?? 128) * 1024 * 1024),
        oomScoreAdj: 0n,
        cpusetCpus: "",
        cpusetCgroup: "",
        PercentTicks: 0,
      },
      ports: [],
    },
    mounts: [],
    devices: [],
    user: o.user ?? "",
    allocDir,
    stdoutPath,
    stderrPath,
    taskGroupName: "group",
    jobName: "job",
    allocId,
    networkIsolationSpec: o.network
      ? { mode: o.network.mode, path: o.network.path, labels: {}, hostsConfig: undefined }
      : undefined,
    dns: undefined,
    jobId: "job",
    namespace: "default",
    nodeName: "test-node",
    nodeId: "node-1",
    parentJobId: "",
  };
  return {
    config,
    allocDir,
    stdout,
    stderr,
    async cleanup() {
      await stdout.stop();
      await stderr.stop();
      await Deno.remove(allocDir, { recursive: true }).catch(() => {});
    },
  };
}
