/**
 * One task's handle: everything about one running container — its wait loop, its exit result (with
 * the OOM flag), stop and destroy, and its stats samples. driver.ts only maps RPCs onto handles.
 *
 * @module
 */
import type { Containerd } from "../containerd/connection.ts";
import { ContainerdError } from "../containerd/connection.ts";
import {
  batchedTaskMetrics,
  deleteTask,
  getTask,
  killTask,
  type ProcessState,
  taskMetrics,
  TaskStatus,
  waitTask,
} from "../containerd/tasks.ts";
import { deleteContainer } from "../containerd/containers.ts";
import { metricsCgroupVersion } from "../containerd/metrics.ts";
import { newStatsState, statsFromMetrics, type StatsResult } from "../wasm/stats.ts";
import type { Logger } from "../log/hclog.ts";
import { sleep } from "../util/sleep.ts";
import { restoreNomadCgroup } from "./cgroup.ts";

/** How a task ended, as Nomad's ExitResult wants it. */
export interface Exit {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  /** a driver-side error, when the exit could not be known */
  err?: string;
  exitedAtMs: number;
}

/** What RecoverTask needs to reattach: stored by Nomad verbatim in TaskHandle.driver_state. */
export interface DriverState {
  v: 1;
  containerId: string;
  namespace: string;
  imageRef: string;
  imageName: string;
  snapshotKey: string;
  snapshotter: string;
  startedAtMs: number;
  /** gc.container = false when started: DestroyTask keeps the container and its snapshot */
  keepContainer?: boolean;
  /** the MCS level of a task confined by SELinux ("s0:c12,c700"), its allocation's; held until DestroyTask */
  selinuxLevel?: string;
  /**
   * the absolute path of the cgroup Nomad made for the task (cgroup v2), when the container runs in it:
   * made again after DestroyTask (src/driver/cgroup.ts)
   */
  nomadCgroup?: string;
}

/** Label of containers started with gc.container = false (kept after DestroyTask). */
export const KEPT_LABEL = "io.containerd-driver.gc.keep";

/** One Nomad stats sample, computed by the stats-delta function. */
export interface TaskStatsSample {
  timestampMs: number;
  result: StatsResult;
  cgroupVersion: 1 | 2;
}

/** Removes a snapshot; the image module owns snapshots, so the driver passes this in. */
export type SnapshotRemover = (key: string, snapshotter: string) => Promise<void>;

/** Owns one task. */
export class TaskHandle {
  /** Resolves once, when the task has exited (or its exit could not be known). */
  readonly exited: Promise<Exit>;
  exit?: Exit;
  #resolveExit!: (e: Exit) => void;
  #oomSeen = false;
  #oomBaseline = 0;
  /** the last stats sample (statsFromMetrics keeps it up to date) */
  readonly #stats = newStatsState();
  readonly #stop = new AbortController();
  #destroyed = false;

  constructor(
    readonly taskId: string,
    readonly state: DriverState,
    /** Nomad's TaskConfig as it came (echoed back in handles and InspectTask) */
    readonly nomadConfig: unknown,
    readonly conn: Containerd,
    readonly logger: Logger,
  ) {
    this.exited = new Promise((r) => this.#resolveExit = r);
  }

  get containerId(): string {
    return this.state.containerId;
  }

  /** Whether the task has not exited yet. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** Marks an OOM kill seen on containerd's event stream. */
  noteOom(): void {
    this.#oomSeen = true;
  }

  /** Records the OOM-kill counter at start, so that only kills after it count. */
  async recordOomBaseline(): Promise<void> {
    this.#oomBaseline = (await this.#oomKills()) ?? 0;
  }

  async #oomKills(): Promise<number | undefined> {
    try {
      const [m] = await taskMetrics(this.conn, [this.containerId], { timeoutMs: 2000 });
      const version = m && metricsCgroupVersion(m.typeUrl);
      return version ? statsFromMetrics(version, m.value, 0, undefined, 0).oomKills : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Follows the task until it exits: Tasks.Wait, retried across containerd restarts (the shim keeps the
   * task alive meanwhile). Starts at once; call once.
   */
  startWaitLoop(): void {
    (async () => {
      let backoff = 100;
      while (!this.#stop.signal.aborted) {
        try {
          const st = await waitTask(this.conn, this.containerId, "", { signal: this.#stop.signal });
          await this.#finish(st.exitStatus, st.exitedAtMs);
          return;
        } catch (e) {
          if (this.#stop.signal.aborted) return;
          if (e instanceof ContainerdError && e.notFound) {
            // The task is gone (deleted behind our back, or containerd lost it): report what we can.
            this.#settle({
              exitCode: 0,
              signal: 0,
              oomKilled: false,
              err: "task no longer exists in containerd",
              exitedAtMs: Date.now(),
            });
            return;
          }
          this.logger.debug("wait interrupted; retrying", {
            container: this.containerId,
            error: (e as Error).message,
          });
          await sleep(backoff, this.#stop.signal);
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    })();
  }

  /** After a gap in the event stream (containerd restart), re-check state instead of trusting events. */
  async recheck(): Promise<void> {
    if (!this.running) return;
    try {
      const st = await getTask(this.conn, this.containerId);
      if (st.status === TaskStatus.STOPPED) await this.#finish(st.exitStatus, st.exitedAtMs);
    } catch { /* the wait loop will see it */ }
  }

  async #finish(exitStatus: number, exitedAtMs: number): Promise<void> {
    if (!this.running) return;
    let oom = this.#oomSeen;
    if (!oom && exitStatus === 137) {
      // The OOM event may trail the exit; the cgroup's counter does not (the task is not deleted yet).
      const kills = await this.#oomKills();
      oom = kills !== undefined && kills > this.#oomBaseline;
    }
    const signal = exitStatus > 128 && exitStatus <= 128 + 64 ? exitStatus - 128 : 0;
    this.#settle({ exitCode: exitStatus, signal, oomKilled: oom, exitedAtMs: exitedAtMs || Date.now() });
  }

  #settle(exit: Exit): void {
    if (this.exit) return;
    this.exit = exit;
    this.logger.info("task exited", {
      task_id: this.taskId,
      container: this.containerId,
      exit_code: exit.exitCode,
      signal: exit.signal,
      oom_killed: exit.oomKilled,
    });
    this.#resolveExit(exit);
  }

  /** Current containerd state, or undefined when the task is gone. */
  async status(): Promise<ProcessState | undefined> {
    try {
      return await getTask(this.conn, this.containerId);
    } catch (e) {
      if (e instanceof ContainerdError && e.notFound) return undefined;
      throw e;
    }
  }

  /** Sends a signal to the task's init process. */
  async signal(sig: number): Promise<void> {
    if (!this.running) return;
    try {
      await killTask(this.conn, this.containerId, sig);
    } catch (e) {
      if (e instanceof ContainerdError && e.notFound) return;
      throw e;
    }
  }

  /**
   * Sends `sig`; returns as soon as the task exits; after `timeoutMs`, SIGKILLs every process of it.
   */
  async stop(sig: number, timeoutMs: number): Promise<Exit> {
    if (!this.running) return this.exit!;
    await this.signal(sig);
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      sleep(timeoutMs).then(() => true),
    ]);
    if (timedOut && this.running) {
      this.logger.info("task did not stop in time; killing", { task_id: this.taskId, timeout_ms: timeoutMs });
      await this.kill();
    }
    return await this.exited;
  }

  /** SIGKILLs every process of the task and waits for the exit. */
  async kill(): Promise<Exit> {
    if (this.running) {
      try {
        await killTask(this.conn, this.containerId, 9, { all: true });
      } catch (e) {
        if (!(e instanceof ContainerdError && e.notFound)) throw e;
      }
    }
    return await this.exited;
  }

  /**
   * Removes the task, the container and its snapshot; idempotent. With `force`, a running task is
   * killed first; without, a running task is an error.
   *
   * Started with gc.container = false (`state.keepContainer`): only the containerd task goes (the exited
   * process, its shim and cgroup); the container record (spec, labels) and its snapshot (the root
   * filesystem as the task left it) stay for inspection with `ctr containers info` and
   * `ctr snapshots mounts`, until the task starts again in the same alloc (which removes them) or an
   * operator runs `ctr containers rm` (the snapshot goes with it).
   */
  async destroy(force: boolean, removeSnapshot: SnapshotRemover): Promise<void> {
    if (this.running) {
      if (!force) {
        throw new Error(`task ${this.taskId} is still running; stop it first or destroy with force`);
      }
      await this.kill();
    }
    this.#destroyed = true;
    this.#stop.abort();
    await deleteTask(this.conn, this.containerId);
    if (this.state.nomadCgroup) await restoreNomadCgroup(this.state.nomadCgroup, this.logger);
    if (this.state.keepContainer) {
      this.logger.info("container kept for inspection (gc.container = false)", {
        container: this.containerId,
      });
      return;
    }
    await deleteContainer(this.conn, this.containerId);
    await removeSnapshot(this.state.snapshotKey, this.state.snapshotter);
  }

  /** Whether destroy() completed. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Takes one stats sample and computes the delta against the previous one. */
  async sample(mhzPerCore: number): Promise<TaskStatsSample | undefined> {
    // Batched: with many tasks streaming stats, one Tasks.Metrics call serves all samples due together.
    const m = await batchedTaskMetrics(this.conn, this.containerId, { timeoutMs: 5000 });
    if (!m) return undefined;
    const version = metricsCgroupVersion(m.typeUrl);
    if (!version) return undefined;
    const now = Date.now();
    const s = statsFromMetrics(version, m.value, now * 1e6, this.#stats, mhzPerCore);
    return { timestampMs: now, result: s.result, cgroupVersion: s.cgroupVersion };
  }

  /** Stops the handle's loops without touching containerd (plugin shutdown). */
  detach(): void {
    this.#stop.abort();
  }
}
