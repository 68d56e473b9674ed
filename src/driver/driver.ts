/**
 * The BasePlugin and Driver gRPC services: each handler maps one RPC onto the driver's state and task
 * handles and stays short; the work lives in handle.ts, lifecycle.ts, exec.ts and the modules they call.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { BasePluginService, PluginType } from "../gen/nomad/base.ts";
import {
  DriverCapabilities_FSIsolation as FSIsolation,
  DriverCapabilities_MountConfigs as MountConfigs,
  DriverService,
  type DriverTaskEvent,
  type ExecTaskStreamingRequest,
  type ExecTaskStreamingResponse,
  type ExitResult,
  type FingerprintResponse,
  FingerprintResponse_HealthState as Health,
  NetworkIsolationSpec_NetworkIsolationMode as NetMode,
  StartTaskResponse_Result,
  type TaskConfig as NomadTaskConfig,
  TaskState,
  type TaskStats,
} from "../gen/nomad/driver.ts";
import type { Duration } from "../gen/google/protobuf/duration.ts";
import type { Logger } from "../log/hclog.ts";
import { registerSecret } from "../log/hclog.ts";
import { RpcError, serverStream, unary } from "../plugin/rpc.ts";
import { sleep, Ticker } from "../util/sleep.ts";
import type { Service } from "../plugin/goplugin.ts";
import { decodePluginConfig, type PluginConfig, pluginSpec, taskSpec } from "./config.ts";
import { toProtoSpec } from "../plugin/hclspec_proto.ts";
import type { HostFacts } from "../spec/input.ts";
import { fingerprint, FINGERPRINT_PERIOD_MS, sameFingerprint } from "./fingerprint.ts";
import { Containerd, ContainerdError } from "../containerd/connection.ts";
import { subscribeTaskEvents } from "../containerd/events.ts";
import { removeSnapshot } from "../containerd/snapshots.ts";
import { deleteTask } from "../containerd/tasks.ts";
import { deleteContainer } from "../containerd/containers.ts";
import { ImageCoordinator, PullError } from "../image/coordinator.ts";
import { checkPathAllowed } from "./permissions.ts";
import { PLUGIN_NAME, PLUGIN_VERSION } from "../version.ts";
import type { DriverState, Exit, TaskHandle } from "./handle.ts";
import { recoverNomadTask, startNomadTask } from "./lifecycle.ts";
import { signalNumber } from "./signals.ts";
import { containerId, parseTaskId } from "./ids.ts";
import { execOnce } from "./exec.ts";
import { durMs, ts, ZERO_TIME } from "./proto_time.ts";
import { toNomadStats } from "./nomad_stats.ts";
import { streamExec } from "./exec_stream.ts";
import { Selinux } from "./selinux.ts";

function exitResult(e: Exit | undefined): ExitResult {
  return { exitCode: e?.exitCode ?? 0, signal: e?.signal ?? 0, oomKilled: e?.oomKilled ?? false };
}

/** The driver's state shared by all RPCs: config, containerd connection, task handles. */
export class Driver {
  config?: PluginConfig;
  conn?: Containerd;
  images?: ImageCoordinator;
  readonly tasks = new Map<string, TaskHandle>();
  /** "change" when the config changes or the containerd event stream breaks: the fingerprint looks again. */
  #configChanged = new EventTarget();
  #events = new EventTarget();
  #eventsAbort?: AbortController;
  /** The shared timers of the stats streams. */
  #ticks = new Ticker();

  constructor(
    readonly logger: Logger,
    readonly host: HostFacts,
    readonly mhzPerCore: number,
    readonly selinux: Selinux = new Selinux(false),
  ) {}

  /** Applies a new plugin config (SetConfig). */
  setConfig(config: PluginConfig): void {
    registerSecret(config.auth.password);
    checkPathAllowed("plugin config", "containerd_address", config.containerdAddress);
    const old = this.config;
    this.config = config;
    if (
      !this.conn || old?.containerdAddress !== config.containerdAddress || old?.namespace !== config.namespace
    ) {
      this.#eventsAbort?.abort();
      this.conn?.close();
      this.conn = new Containerd(config.containerdAddress, config.namespace);
      this.#eventsAbort = new AbortController();
      subscribeTaskEvents(this.conn, config.namespace, (e) => {
        if (e.topic !== "/tasks/oom") return;
        for (const h of this.tasks.values()) if (h.containerId === e.containerId) h.noteOom();
      }, () => {
        for (const h of this.tasks.values()) h.recheck();
        // containerd went away (or restarted): the fingerprint looks again now, not at its next period.
        this.#configChanged.dispatchEvent(new Event("change"));
      }, this.#eventsAbort.signal);
    }
    this.images?.close();
    this.images = new ImageCoordinator(this.conn, {
      snapshotter: config.snapshotter,
      hostsDir: config.registryHostsDir,
      auth: config.auth,
      gc: config.gc,
      logger: this.logger.named("image"),
    });
    for (const h of this.tasks.values()) this.images.adopt(h.state.imageRef, h.taskId);
    this.logger.info("plugin config set", {
      containerd_address: config.containerdAddress,
      namespace: config.namespace,
      runtime: config.runtime,
      snapshotter: config.snapshotter,
    });
    this.#configChanged.dispatchEvent(new Event("change"));
  }

  /** The parts every task RPC needs; an error before SetConfig. */
  ready(): { config: PluginConfig; conn: Containerd; images: ImageCoordinator } {
    if (!this.config || !this.conn || !this.images) {
      throw new RpcError(grpc.status.FAILED_PRECONDITION, "containerd-driver has no plugin config yet");
    }
    return { config: this.config, conn: this.conn, images: this.images };
  }

  /** The handle of a task, or a NOT_FOUND error naming it. */
  handle(taskId: string): TaskHandle {
    const h = this.tasks.get(taskId);
    if (!h) throw new RpcError(grpc.status.NOT_FOUND, `task ${taskId} is not known to containerd-driver`);
    return h;
  }

  /** Publishes a task event to every TaskEvents stream. */
  event(taskId: string, message: string, annotations: Record<string, string> = {}): void {
    const ids = parseTaskId(taskId);
    const ev: DriverTaskEvent = {
      taskId,
      allocId: ids?.allocId ?? "",
      taskName: ids?.taskName ?? "",
      timestamp: ts(Date.now()),
      message,
      annotations,
    };
    this.#events.dispatchEvent(new CustomEvent("event", { detail: ev }));
  }

  /** Streams task events until the client leaves. */
  async streamEvents(send: (e: DriverTaskEvent) => void, signal: AbortSignal): Promise<void> {
    const on: EventListener = (e) => send((e as CustomEvent<DriverTaskEvent>).detail);
    this.#events.addEventListener("event", on);
    await sleep(2 ** 31 - 1, signal);
    this.#events.removeEventListener("event", on);
  }

  /** Sends a fingerprint at once, then again whenever it changes, until the client leaves. */
  async streamFingerprints(send: (fp: FingerprintResponse) => void, signal: AbortSignal): Promise<void> {
    let last: FingerprintResponse | undefined;
    while (!signal.aborted) {
      const fp = await fingerprint(this.config, this.conn);
      if (!sameFingerprint(last, fp)) {
        if (last?.health !== fp.health) {
          this.logger.info("fingerprint", { health: fp.health, description: fp.healthDescription });
        }
        send(fp);
        last = fp;
      }
      const wake = new AbortController();
      const onChange = () => wake.abort();
      this.#configChanged.addEventListener("change", onChange, { once: true });
      signal.addEventListener("abort", onChange, { once: true });
      // While containerd is away, look again every second: Nomad sees it back as soon as it is.
      await sleep(fp.health === Health.UNHEALTHY ? 1000 : FINGERPRINT_PERIOD_MS, wake.signal);
      this.#configChanged.removeEventListener("change", onChange);
      signal.removeEventListener("abort", onChange);
    }
  }

  /** StartTask. */
  async start(cfg: NomadTaskConfig) {
    const { config, conn, images } = this.ready();
    if (!config.enabled) throw new RpcError(grpc.status.FAILED_PRECONDITION, "containerd-driver is disabled");
    if (this.tasks.has(cfg.id)) {
      throw new RpcError(grpc.status.ALREADY_EXISTS, `task ${cfg.id} is already started`);
    }
    let h: TaskHandle;
    try {
      h = await startNomadTask({
        conn,
        config,
        images,
        host: this.host,
        selinux: this.selinux,
        logger: this.logger,
        event: (id, msg, ann) => this.event(id, msg, ann),
      }, cfg);
    } catch (e) {
      if (transient(e)) throw new RpcError(grpc.status.FAILED_PRECONDITION, (e as Error).message, true);
      throw e;
    }
    this.tasks.set(cfg.id, h);
    return {
      result: StartTaskResponse_Result.SUCCESS,
      driverErrorMsg: "",
      handle: {
        version: 1,
        config: cfg,
        state: TaskState.RUNNING,
        driverState: new TextEncoder().encode(JSON.stringify(h.state)),
      },
      networkOverride: undefined,
    };
  }

  /** RecoverTask: the id is in handle.config.id (Nomad leaves task_id empty). */
  async recover(handle: { config?: NomadTaskConfig; driverState: Uint8Array } | undefined): Promise<void> {
    const { conn, images } = this.ready();
    const cfg = handle?.config;
    if (!cfg) throw new RpcError(grpc.status.INVALID_ARGUMENT, "RecoverTask without a task config");
    if (this.tasks.has(cfg.id)) return;
    let state: DriverState;
    try {
      state = JSON.parse(new TextDecoder().decode(handle.driverState));
    } catch {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `task ${cfg.id}: driver state is not readable`);
    }
    const h = await recoverNomadTask(conn, cfg.id, state, cfg, images, this.logger);
    if (state.selinuxLevel) this.selinux.holdLevel(cfg.allocId, state.selinuxLevel);
    this.tasks.set(cfg.id, h);
  }

  /** DestroyTask: idempotent; with no handle, cleans what the id's container name points at. */
  async destroy(taskId: string, force: boolean): Promise<void> {
    const { conn, config } = this.ready();
    const h = this.tasks.get(taskId);
    if (h) {
      await h.destroy(force, (key, snapshotter) => removeSnapshot(conn, snapshotter, key));
      this.tasks.delete(taskId);
      this.images?.release(h.state.imageRef, taskId);
      if (h.state.selinuxLevel) this.selinux.releaseLevel((h.nomadConfig as NomadTaskConfig).allocId);
      return;
    }
    const ids = parseTaskId(taskId);
    if (!ids) return;
    const cid = containerId(ids.taskName, ids.allocId);
    await deleteTask(conn, cid).catch(() => {});
    await deleteContainer(conn, cid).catch(() => {});
    await removeSnapshot(conn, config.snapshotter, cid).catch(() => {});
  }

  /** TaskStats stream: one sample per interval (at least the plugin's stats_interval). */
  async streamStats(
    taskId: string,
    intervalMs: number,
    send: (s: { stats: TaskStats }) => void,
    signal: AbortSignal,
  ) {
    const h = this.handle(taskId);
    const every = Math.max(intervalMs, this.config?.statsIntervalMs ?? 1000);
    this.logger.debug("stats stream opened", { task_id: taskId, interval_ms: every });
    // The first sample at once; then one per tick of the shared timer of this interval, so that every
    // stream of the same interval samples together (one batched containerd call) and no stream keeps a
    // timer of its own. Only the first tick may be skipped: when it comes less than half an interval
    // after the first sample (a later tick, even one late under load, always samples).
    let samples = 0;
    while (!signal.aborted && h.running) {
      const at = Date.now();
      try {
        const s = await h.sample(this.mhzPerCore);
        if (s) send({ stats: toNomadStats(taskId, s.timestampMs, s.result, s.cgroupVersion) });
      } catch (e) {
        this.logger.debug("stats sample failed", { task_id: taskId, error: (e as Error).message });
        // containerd away (a restart): try again soon, so stats resume as soon as it answers.
        await sleep(Math.min(every, 250), signal);
        continue;
      }
      await this.#ticks.next(every, signal);
      if (++samples === 1 && Date.now() - at < every / 2) await this.#ticks.next(every, signal);
    }
  }

  /** Closes connections; running tasks keep running in containerd. */
  close(): void {
    this.#eventsAbort?.abort();
    this.#ticks.close();
    for (const h of this.tasks.values()) h.detach();
    this.images?.close();
    this.conn?.close();
  }
}

/** Failures a later attempt may not meet: the registry or containerd unreachable, a pull timeout. */
function transient(e: unknown): boolean {
  if (e instanceof PullError) return ["unreachable", "timeout", "registry", "containerd"].includes(e.kind);
  return e instanceof ContainerdError && e.unavailable;
}

/** The BasePlugin and Driver services bound to one {@linkcode Driver}, in the order of services.ts. */
export function driverServices(d: Driver): Service[] {
  return [
    { definition: BasePluginService, implementation: basePluginService(d) },
    { definition: DriverService, implementation: driverService(d) },
  ];
}

/** BasePlugin: what the plugin is, its config schema, its config. */
function basePluginService(d: Driver) {
  const log = d.logger;
  return {
    pluginInfo: unary(log, "PluginInfo", () => ({
      type: PluginType.DRIVER,
      pluginApiVersions: ["0.1.0"],
      pluginVersion: PLUGIN_VERSION,
      name: PLUGIN_NAME,
    })),
    configSchema: unary(log, "ConfigSchema", () => ({ spec: toProtoSpec(pluginSpec) })),
    setConfig: unary(log, "SetConfig", (req: { msgpackConfig: Uint8Array }) => {
      d.setConfig(decodePluginConfig(req.msgpackConfig));
      return {};
    }),
  };
}

/** Driver: one short handler per RPC, mapping it onto the driver and its task handles (table-like). */
function driverService(d: Driver) {
  const log = d.logger;
  return {
    taskConfigSchema: unary(log, "TaskConfigSchema", () => ({ spec: toProtoSpec(taskSpec) })),
    capabilities: unary(log, "Capabilities", () => ({
      capabilities: {
        sendSignals: true,
        exec: true,
        fsIsolation: FSIsolation.IMAGE,
        networkIsolationModes: [NetMode.HOST, NetMode.GROUP, NetMode.TASK, NetMode.NONE],
        mustCreateNetwork: false,
        mountConfigs: MountConfigs.ANY_MOUNTS,
        remoteTasks: false,
        disableLogCollection: false,
        dynamicWorkloadUsers: false,
      },
    })),
    fingerprint: serverStream(log, "Fingerprint", (_req, send, signal) => d.streamFingerprints(send, signal)),
    recoverTask: unary(
      log,
      "RecoverTask",
      async (req: { handle?: { config?: NomadTaskConfig; driverState: Uint8Array } }) => {
        await d.recover(req.handle);
        return {};
      },
    ),
    startTask: unary(log, "StartTask", (req: { task?: NomadTaskConfig }) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, "StartTask without a task config");
      return d.start(req.task);
    }),
    waitTask: unary(log, "WaitTask", async (req: { taskId: string }) => {
      const exit = await d.handle(req.taskId).exited;
      // Nomad shows `err` as the task's exit message; an OOM kill would otherwise read as a plain SIGKILL.
      return { result: exitResult(exit), err: exit.err ?? (exit.oomKilled ? "OOM Killed" : "") };
    }),
    stopTask: unary(log, "StopTask", async (req: { taskId: string; timeout?: Duration; signal: string }) => {
      const h = d.tasks.get(req.taskId);
      if (!h) return {}; // already gone: Nomad retries forever on errors here
      await h.stop(signalNumber(req.signal || "SIGTERM"), durMs(req.timeout, 5000));
      return {};
    }),
    destroyTask: unary(log, "DestroyTask", async (req: { taskId: string; force: boolean }) => {
      await d.destroy(req.taskId, req.force);
      return {};
    }),
    inspectTask: unary(log, "InspectTask", (req: { taskId: string }) => {
      const h = d.handle(req.taskId);
      return {
        task: {
          id: h.taskId,
          name: parseTaskId(h.taskId)?.taskName ?? "",
          state: h.running ? TaskState.RUNNING : TaskState.EXITED,
          startedAt: ts(h.state.startedAtMs),
          completedAt: h.exit ? ts(h.exit.exitedAtMs) : ZERO_TIME,
          result: exitResult(h.exit),
        },
        driver: { attributes: { container_id: h.containerId, image: h.state.imageName } },
        networkOverride: undefined,
      };
    }),
    taskStats: serverStream(
      log,
      "TaskStats",
      (req: { taskId: string; collectionInterval?: Duration }, send, signal) =>
        d.streamStats(req.taskId, durMs(req.collectionInterval, 1000), send, signal),
    ),
    taskEvents: serverStream(log, "TaskEvents", (_req, send, signal) => d.streamEvents(send, signal)),
    signalTask: unary(log, "SignalTask", async (req: { taskId: string; signal: string }) => {
      await d.handle(req.taskId).signal(signalNumber(req.signal));
      return {};
    }),
    execTask: unary(
      log,
      "ExecTask",
      async (req: { taskId: string; command: string[]; timeout?: Duration }) => {
        const { conn } = d.ready();
        const h = d.handle(req.taskId);
        const r = await execOnce(conn, h.containerId, req.command, durMs(req.timeout, 60_000));
        return {
          stdout: r.stdout,
          stderr: r.stderr,
          result: { exitCode: r.exitCode, signal: 0, oomKilled: false },
        };
      },
    ),
    execTaskStreaming: (call: grpc.ServerDuplexStream<ExecTaskStreamingRequest, ExecTaskStreamingResponse>) =>
      streamExec(
        log,
        (taskId) => ({ conn: d.ready().conn, containerId: d.handle(taskId).containerId }),
        call,
      ),
    createNetwork: unary(log, "CreateNetwork", () => {
      throw new RpcError(grpc.status.UNIMPLEMENTED, "containerd-driver does not create networks; Nomad does");
    }),
    destroyNetwork: unary(log, "DestroyNetwork", () => {
      throw new RpcError(grpc.status.UNIMPLEMENTED, "containerd-driver does not create networks; Nomad does");
    }),
  };
}
