/**
 * The BasePlugin and Driver gRPC services: each handler maps one RPC onto the driver's state and task
 * handles and stays short; the work lives in the modules it calls.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { BasePluginService, PluginType } from "../gen/nomad/base.ts";
import {
  DriverCapabilities_FSIsolation as FSIsolation,
  DriverCapabilities_MountConfigs as MountConfigs,
  DriverService,
  type FingerprintResponse,
  NetworkIsolationSpec_NetworkIsolationMode as NetMode,
} from "../gen/nomad/driver.ts";
import type { Logger } from "../log/hclog.ts";
import { registerSecret } from "../log/hclog.ts";
import { RpcError, serverStream, sleep, unary } from "../plugin/rpc.ts";
import type { Service } from "../plugin/goplugin.ts";
import { decodePluginConfig, type PluginConfig, pluginSpec, taskSpec } from "./config.ts";
import { toProtoSpec } from "../spec/hclspec.ts";
import { FINGERPRINT_PERIOD_MS, fingerprint, sameFingerprint } from "./fingerprint.ts";
import { Containerd } from "../containerd/connection.ts";
import { checkPathAllowed } from "./permissions.ts";
import { PLUGIN_NAME, PLUGIN_VERSION } from "../version.ts";

/** The driver's state shared by all RPCs: config, containerd connection. */
export class Driver {
  config?: PluginConfig;
  conn?: Containerd;
  /** Wakes fingerprint streams when the config changes. */
  #configChanged = new EventTarget();

  constructor(readonly logger: Logger) {}

  /** Applies a new plugin config (SetConfig). */
  setConfig(config: PluginConfig): void {
    registerSecret(config.auth.password);
    checkPathAllowed("plugin config", "containerd_address", config.containerdAddress);
    const old = this.config;
    this.config = config;
    if (!this.conn || old?.containerdAddress !== config.containerdAddress || old?.namespace !== config.namespace) {
      this.conn?.close();
      this.conn = new Containerd(config.containerdAddress, config.namespace);
    }
    this.logger.info("plugin config set", {
      containerd_address: config.containerdAddress,
      namespace: config.namespace,
      runtime: config.runtime,
      snapshotter: config.snapshotter,
    });
    this.#configChanged.dispatchEvent(new Event("change"));
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
      await sleep(FINGERPRINT_PERIOD_MS, wake.signal);
      this.#configChanged.removeEventListener("change", onChange);
      signal.removeEventListener("abort", onChange);
    }
  }

  /** Closes connections; running tasks keep running in containerd. */
  close(): void {
    this.conn?.close();
  }
}

function notYet(name: string): never {
  throw new RpcError(grpc.status.UNIMPLEMENTED, `containerd-driver: ${name} is not implemented yet`);
}

/** The BasePlugin and Driver services bound to one {@linkcode Driver}. */
export function driverServices(d: Driver): Service[] {
  const log = d.logger;
  const base = {
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
  const driver = {
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
    recoverTask: unary(log, "RecoverTask", () => notYet("RecoverTask")),
    startTask: unary(log, "StartTask", () => notYet("StartTask")),
    waitTask: unary(log, "WaitTask", () => notYet("WaitTask")),
    stopTask: unary(log, "StopTask", () => notYet("StopTask")),
    destroyTask: unary(log, "DestroyTask", () => notYet("DestroyTask")),
    inspectTask: unary(log, "InspectTask", () => notYet("InspectTask")),
    taskStats: serverStream(log, "TaskStats", () => notYet("TaskStats")),
    taskEvents: serverStream(log, "TaskEvents", (_req, _send, signal) => sleep(2 ** 31 - 1, signal)),
    signalTask: unary(log, "SignalTask", () => notYet("SignalTask")),
    execTask: unary(log, "ExecTask", () => notYet("ExecTask")),
    execTaskStreaming: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
      call.destroy(Object.assign(new Error("ExecTaskStreaming is not implemented yet"), {
        code: grpc.status.UNIMPLEMENTED,
      })),
    createNetwork: unary(log, "CreateNetwork", () => notYet("CreateNetwork")),
    destroyNetwork: unary(log, "DestroyNetwork", () => notYet("DestroyNetwork")),
  };
  return [
    { definition: BasePluginService, implementation: base },
    { definition: DriverService, implementation: driver },
  ];
}
