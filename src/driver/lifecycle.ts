/**
 * Starting and recovering tasks: the ordered steps from Nomad's TaskConfig to a running containerd
 * task, with every created thing undone when a later step fails.
 *
 * Start: decode and validate the config (every option the spec can judge without the image) → image
 * (`load`: imported from the archive in the task dir; then the coordinator: shared pulls, progress events) → host
 * files (/etc/hosts, resolv.conf) → OCI spec → snapshot → container → task with Nomad's own log FIFOs
 * as stdout/stderr (no copying through this process, so logs flow while the plugin is down) → start.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type { TaskConfig as NomadTaskConfig } from "../gen/nomad/driver.ts";
import type { Containerd } from "../containerd/connection.ts";
import { ContainerdError } from "../containerd/connection.ts";
import { createContainer, deleteContainer, getContainer } from "../containerd/containers.ts";
import { createTask, deleteTask, startTask, TaskStatus } from "../containerd/tasks.ts";
import { prepareSnapshot, removeSnapshot } from "../containerd/snapshots.ts";
import { createLease, deleteLease } from "../containerd/leases.ts";
import type { ImageCoordinator, PullProgress } from "../image/coordinator.ts";
import type { ImageInfo } from "../image/pull.ts";
import type { Mount } from "../gen/containerd/types/mount.ts";
import type { Logger } from "../log/hclog.ts";
import { registerSecret } from "../log/hclog.ts";
import { decodeTaskConfigValue, type PluginConfig } from "./config.ts";
import { readTaskConfig, type TaskConfig } from "../spec/task_config.ts";
import { buildSpec, checkSpecInput } from "../spec/build.ts";
import { containerLabels } from "../spec/labels.ts";
import { hostnameFile, hostsFile, resolvConf } from "../spec/files.ts";
import { specJson } from "../spec/oci.ts";
import { nomadCgroup, taskCgroupsPath } from "../spec/cgroups.ts";
import { effectiveUser, resolveUser } from "../spec/opts/user.ts";
import { resolveGroups } from "../spec/opts/groups.ts";
import { loadArchive, LoadError } from "../image/load.ts";
import { wantedDevicePaths } from "../spec/opts/devices.ts";
import type { HostFacts, HostFiles, NomadTask, SpecInput } from "../spec/input.ts";
import { ConfigError, show } from "../schema/values.ts";
import { type ImageRef, InvalidReferenceError, parseReference } from "../image/reference.ts";
import { containerId as makeContainerId, parseTaskId } from "./ids.ts";
import { toNomadTask } from "./nomad_task.ts";
import { type DriverState, KEPT_LABEL, TaskHandle } from "./handle.ts";
import { checkPathAllowed, EXTRA_PATHS_ENV } from "./permissions.ts";
import { RpcError } from "../plugin/rpc.ts";
import { readImageFile } from "./user.ts";
import { allHostDevices, checkHostFile, statDevices } from "./devices.ts";
import { confined, labelRootfsMounts, relabelPlan, taskSelinux } from "../spec/selinux.ts";
import { relabel, type Selinux } from "./selinux.ts";
import { checkRuntime, chooseRuntime, type RuntimeChoice, taskCreateError } from "./runtime.ts";
import { restoreNomadCgroup } from "./cgroup.ts";

/** What starting a task needs from the driver. */
export interface StartContext {
  conn: Containerd;
  config: PluginConfig;
  images: ImageCoordinator;
  host: HostFacts;
  /** SELinux on the host, and the MCS levels allocations hold */
  selinux: Selinux;
  logger: Logger;
  /** publishes a task event (pull progress etc.) */
  event: (taskId: string, message: string, annotations?: Record<string, string>) => void;
}

/** Undo steps, run in reverse when a start fails. */
class Undo {
  #steps: { what: string; fn: () => Promise<unknown> }[] = [];
  push(what: string, fn: () => Promise<unknown>): void {
    this.#steps.push({ what, fn });
  }
  async run(logger: Logger): Promise<void> {
    for (const s of this.#steps.reverse()) {
      try {
        await s.fn();
      } catch (e) {
        logger.warn("cleanup after failed start: step failed", { step: s.what, error: (e as Error).message });
      }
    }
    this.#steps = [];
  }
}

/** One start in progress: what each step reads, and the undo steps of what was made so far. */
interface Start {
  ctx: StartContext;
  cfg: NomadTaskConfig;
  log: Logger;
  task: TaskConfig;
  nomad: NomadTask;
  /** the container id */
  cid: string;
  /** the task's image reference, parsed once */
  ref: ImageRef;
  /**
   * The spec input, built once: checked in `prepare` with no image and a stand-in SELinux level, then
   * completed with the image, the allocation's level, the host files and the resolved user.
   */
  input: SpecInput;
  /** whether the task runs confined by SELinux (with its allocation's MCS level) */
  confine: boolean;
  /** the allocation's MCS level, held from completeInput on */
  selinuxLevel?: string;
  /** the runtime (shim) and the option that chose it */
  runtime: RuntimeChoice;
  undo: Undo;
}

/**
 * Starts a task; returns its handle (already following the task). On failure nothing is left behind.
 * The steps: {@linkcode prepare} (validate everything before anything is made) → {@linkcode acquireImage}
 * → {@linkcode completeInput} → {@linkcode createInContainerd} → {@linkcode launch}.
 */
export async function startNomadTask(ctx: StartContext, cfg: NomadTaskConfig): Promise<TaskHandle> {
  const s = await prepare(ctx, cfg);
  try {
    const image = await acquireImage(s);
    await completeInput(s, image);
    await createInContainerd(s, image);
    return await launch(s, image);
  } catch (e) {
    await s.undo.run(s.log);
    // runc removes the cgroup of a failed create or a deleted task, Nomad's too: Nomad's next try waits for it.
    const scope = nomadCgroupPath(s);
    if (scope) await restoreNomadCgroup(scope, s.log);
    if (e instanceof ContainerdError && e.alreadyExists) {
      throw new Error(
        `container ${s.cid} already exists in namespace "${ctx.config.namespace}"; is another agent using it?`,
      );
    }
    throw e;
  }
}

/**
 * 1. Everything the user wrote is validated before anything is created: the task config, the image
 * reference, the seccomp profile file, devices, and every option and combination the spec can judge
 * without the image (the image's own part is judged by buildSpec later); system paths a label would
 * relabel too; a runtime the daemon's containerd version removed.
 */
async function prepare(ctx: StartContext, cfg: NomadTaskConfig): Promise<Start> {
  const { config } = ctx;
  const task = readTaskConfig(decodeTaskConfigValue(cfg.msgpackDriverConfig));
  registerSecret(task.auth?.password);
  const ref = checkImageReference(task.image);
  const nomad = toNomadTask(cfg);
  const ids = parseTaskId(cfg.id);
  const cid = makeContainerId(nomad.name, ids?.allocId ?? cfg.allocId);
  const plugin = {
    allowPrivileged: config.allowPrivileged,
    volumesEnabled: config.volumes.enabled,
    selinuxLabel: config.volumes.selinuxLabel,
  };
  // SELinux (when on): a confined task gets its allocation's MCS level in completeInput; the level does not
  // change what is refused, so the checks use a stand-in.
  const confine = ctx.selinux.enabled && confined({ task, plugin });
  if (task.init) await checkHostFile(task.initPath, "init_path");
  const input: SpecInput = {
    id: cid,
    task,
    nomad,
    image: {},
    plugin,
    host: ctx.host,
    files: {},
    seccompProfile: await readSeccompProfile(task.seccompProfile, nomad.dirs.task),
    devices: await statDevices(wantedDevicePaths({ task, nomad }), "devices"),
    hostDevices: task.privileged && config.allowPrivileged ? await allHostDevices() : undefined,
    // Nomad's own cgroup for the task on v2, else as containerd's default spec: grouped by namespace.
    cgroupsPath: taskCgroupsPath(ctx.host, config.namespace, cid, nomad.resources.cpusetCgroup ?? ""),
    selinux: ctx.selinux.enabled ? taskSelinux(ctx.selinux.contexts, confine ? "s0" : undefined) : undefined,
  };
  checkSpecInput(input);
  relabelPlan(input);
  const runtime = chooseRuntime(task.runtime, config.runtime);
  await checkRuntime(ctx.conn, runtime);
  const log = ctx.logger.with({ task_id: cfg.id });
  return { ctx, cfg, log, task, nomad, cid, ref, input, confine, runtime, undo: new Undo() };
}

/** `seccomp_profile`: the JSON file, relative to the task dir unless absolute; undefined when not set. */
async function readSeccompProfile(file: string | undefined, taskDir: string): Promise<unknown> {
  if (!file) return undefined;
  const path = file.startsWith("/") ? file : `${taskDir}/${file}`;
  checkPathAllowed("task config", "seccomp_profile", path, "read");
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new ConfigError(
      "task config",
      "seccomp_profile",
      `"${path}" cannot be read as JSON: ${(e as Error).message}`,
    );
  }
}

/**
 * 2. The image: one pull shared by concurrent starts; none when present (unless force_pull). With `load`,
 * imported from the archive first (inside acquire, once this task holds the image, so its GC cannot race
 * the import), and then found present: nothing is pulled.
 */
async function acquireImage(s: Start): Promise<ImageInfo> {
  const { ctx, cfg, task } = s;
  const t0 = performance.now();
  const image = await ctx.images.acquire(s.ref, cfg.id, {
    auth: task.auth,
    forcePull: task.forcePull,
    timeoutMs: task.imagePullTimeoutMs,
    onProgress: progressReporter(ctx, cfg.id),
    load: task.load
      ? () => loadTaskArchive(ctx, cfg.id, s.nomad.dirs.task, task.load!, task.image)
      : undefined,
  });
  s.undo.push("release image", () => Promise.resolve(ctx.images.release(s.ref, cfg.id)));
  s.log.debug("image ready", { image: image.name, ms: Math.round(performance.now() - t0) });
  return image;
}

/**
 * 3. The spec input completed: the image config, the allocation's SELinux level, the host files the spec
 * mounts (written into the task dir), bind sources relabelled before runc mounts them (runc does not act
 * on z/Z).
 */
async function completeInput(s: Start, image: ImageInfo): Promise<void> {
  const { ctx, cfg, input } = s;
  input.image = image.config;
  s.selinuxLevel = s.confine ? ctx.selinux.takeLevel(cfg.allocId) : undefined;
  if (s.selinuxLevel) {
    s.undo.push("release SELinux level", () => Promise.resolve(ctx.selinux.releaseLevel(cfg.allocId)));
  }
  input.selinux = ctx.selinux.enabled ? taskSelinux(ctx.selinux.contexts, s.selinuxLevel) : undefined;
  input.files = await writeHostFiles(input);
  await relabel(relabelPlan(input), s.log);
}

/**
 * 4–6. A writable snapshot on the image's top layer, the user resolved from the image's files, the spec
 * (pure, from everything gathered), the container record (which holds the snapshot from then on) and the
 * task with Nomad's own log FIFOs as stdout/stderr. All under a lease, so nothing is collected meanwhile.
 */
async function createInContainerd(s: Start, image: ImageInfo): Promise<void> {
  const { ctx, cfg, cid, input, undo } = s;
  const { conn, config } = ctx;
  const snapshotter = config.snapshotter;
  await removeKeptContainer(ctx, cid);
  const lease = await createLease(conn, { id: `cdrv-start-${cid}-${Date.now()}`, expireMs: 10 * 60_000 });
  try {
    const mounts = await prepareSnapshot(conn, snapshotter, cid, image.chainId, { lease });
    undo.push("remove snapshot", () => removeSnapshot(conn, snapshotter, cid));
    await resolveImageUser(s, mounts);
    const spec = buildSpec(input);
    const runtimeOptions = config.runtimeOptions[s.runtime.name];
    const annotations = runtimeOptions?.annotations ?? {};
    if (Object.keys(annotations).length > 0) spec.annotations = { ...spec.annotations, ...annotations };
    await createContainer(conn, {
      id: cid,
      image: image.name,
      labels: { ...containerLabels(input), ...(config.gc.container ? {} : { [KEPT_LABEL]: "true" }) },
      spec: specJson(spec),
      snapshotter,
      snapshotKey: cid,
      runtime: s.runtime.name,
      runtimeOptions,
    }, {});
    undo.push("delete container", () => deleteContainer(conn, cid));
    // A confined task sees its rootfs with its mount label: the snapshot's files carry the runtime's.
    const rootfs = spec.linux.mountLabel ? labelRootfsMounts(mounts, spec.linux.mountLabel) : mounts;
    try {
      await createTask(conn, cid, rootfs, { stdout: cfg.stdoutPath, stderr: cfg.stderrPath });
    } catch (e) {
      throw await taskCreateError(conn, e, s.runtime);
    }
    undo.push("delete task", () => deleteTask(conn, cid));
  } finally {
    await deleteLease(conn, lease).catch(() => {});
  }
}

/**
 * The user and groups from the image's /etc/passwd and /etc/group. Names need them, and so does a bare
 * uid: as Docker and containerd do, a uid listed in /etc/passwd runs with that entry's gid (and groups).
 * Only "uid:gid" is taken as it stands.
 */
async function resolveImageUser(s: Start, mounts: Mount[]): Promise<void> {
  const { input, task } = s;
  const user = effectiveUser(s.nomad, input.image);
  if (user !== "" && !/^\d+:\d+$/.test(user)) {
    const passwd = await readImageFile(mounts, "/etc/passwd");
    input.resolvedUser = resolveUser(user, passwd, await readImageFile(mounts, "/etc/group"));
  }
  if (task.groupAdd.some((g) => !/^\d+$/.test(g))) {
    input.resolvedGroups = resolveGroups(task.groupAdd, await readImageFile(mounts, "/etc/group"));
  }
}

/** The absolute path of the cgroup Nomad made for the task, when the container runs in it (cgroup v2). */
function nomadCgroupPath(s: Start): string | undefined {
  const given = s.nomad.resources.cpusetCgroup ?? "";
  return nomadCgroup(s.ctx.host, given) ? given : undefined;
}

/** 7. The handle (its wait loop follows the task from before the start, so no exit is missed), then start. */
async function launch(s: Start, image: ImageInfo): Promise<TaskHandle> {
  const { ctx, cfg, cid } = s;
  const { config } = ctx;
  const scope = nomadCgroupPath(s);
  const state: DriverState = {
    v: 1,
    containerId: cid,
    namespace: config.namespace,
    imageRef: s.task.image,
    imageName: image.name,
    snapshotKey: cid,
    snapshotter: config.snapshotter,
    startedAtMs: Date.now(),
    ...(config.gc.container ? {} : { keepContainer: true }),
    ...(s.selinuxLevel ? { selinuxLevel: s.selinuxLevel } : {}),
    ...(scope ? { nomadCgroup: scope } : {}),
  };
  const handle = new TaskHandle(cfg.id, state, cfg, ctx.conn, s.log);
  // Only Nomad's scope outlives a run of the task (an alloc restart reuses it), so only there can the
  // OOM-kill counter start above 0: a cgroup of our own is new, made by runc at task create. Asking the shim
  // for metrics costs a round trip through containerd on every start; skipped where the answer is 0.
  if (scope) await handle.recordOomBaseline();
  handle.startWaitLoop();
  await startTask(ctx.conn, cid);
  s.log.info("task started", { container: cid, image: image.name });
  return handle;
}

/**
 * gc.container = false keeps a task's container and snapshot after DestroyTask. Nomad reuses the
 * container id when it restarts the task in the same alloc: the kept one of the earlier run (marked with
 * {@linkcode KEPT_LABEL}, no task left) is removed first. Anything else with the id is left alone, and
 * the start fails as "already exists".
 */
async function removeKeptContainer(ctx: StartContext, cid: string): Promise<void> {
  let labels: Record<string, string>;
  try {
    labels = (await getContainer(ctx.conn, cid)).labels;
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return;
    throw e;
  }
  if (labels[KEPT_LABEL] !== "true") return;
  try {
    await deleteTask(ctx.conn, cid);
  } catch (e) {
    if (!(e instanceof ContainerdError && e.notFound)) return; // a task still there: not ours to remove
  }
  await deleteContainer(ctx.conn, cid);
  await removeSnapshot(ctx.conn, ctx.config.snapshotter, cid).catch(() => {});
  ctx.logger.info("removed the kept container of an earlier run", { container: cid });
}

/**
 * `load`: imports the archive (a path in the task dir) into containerd. A missing or unreadable archive,
 * or one that does not hold `image`, is a config error naming `load`.
 */
async function loadTaskArchive(
  ctx: StartContext,
  taskId: string,
  taskDir: string,
  load: string,
  image: string,
): Promise<void> {
  const path = `${taskDir}/${load}`;
  checkPathAllowed("task config", "load", path, "read");
  ctx.event(taskId, `Loading image ${image} from ${load}`, { image, phase: "load" });
  const t0 = performance.now();
  try {
    await loadArchive(ctx.conn, path, image, { snapshotter: ctx.config.snapshotter, logger: ctx.logger });
  } catch (e) {
    if (e instanceof LoadError) {
      throw new ConfigError(
        "task config",
        "load",
        `"${load}" cannot be loaded: ${e.message}; use an archive made by "docker save" or "skopeo copy ... oci-archive:<file>:<image>" that holds "image"`,
      );
    }
    throw e;
  }
  ctx.event(taskId, `Loaded ${image} from ${load} in ${((performance.now() - t0) / 1000).toFixed(1)} s`, {
    image,
    phase: "done",
  });
}

/** A malformed image reference is the user's config error (INVALID_ARGUMENT), found before any pull. */
function checkImageReference(image: string): ImageRef {
  try {
    return parseReference(image);
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
    throw new ConfigError(
      "task config",
      "image",
      `${show(image)} is not an image reference: ${e.reason}; use one such as "docker.io/library/redis:7"`,
    );
  }
}

/**
 * Turns pull progress into task events Nomad shows: each phase once, byte progress at most every 2 s
 * (Nomad keeps only the last few events per task, and each is an RPC), and a final summary.
 */
function progressReporter(ctx: StartContext, taskId: string): (p: PullProgress) => void {
  let phase = "";
  let lastFetch = 0;
  const t0 = Date.now();
  return (p) => {
    const total = p.layers.reduce((a: number, l: { size: number }) => a + l.size, 0);
    const done = p.layers.reduce((a: number, l: { done: number }) => a + l.done, 0);
    const ann = { image: p.ref, phase: p.phase };
    const changed = p.phase !== phase;
    phase = p.phase;
    if (p.phase === "resolve" && changed) ctx.event(taskId, `Resolving ${p.ref}`, ann);
    else if (p.phase === "fetch" && (changed || Date.now() - lastFetch >= 2000)) {
      lastFetch = Date.now();
      ctx.event(taskId, `Pulling ${p.ref}: ${mb(done)} of ${mb(total)} MB`, ann);
    } else if (p.phase === "unpack" && changed) ctx.event(taskId, `Unpacking ${p.ref}`, ann);
    else if (p.phase === "done" && changed) {
      ctx.event(
        taskId,
        `Pulled ${p.ref}: ${mb(total)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        ann,
      );
    }
  };
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

/** Writes /etc/hosts, /etc/hostname and resolv.conf for the task into its dir; returns their paths. */
async function writeHostFiles(input: SpecInput): Promise<HostFiles> {
  const dir = `${input.nomad.dirs.task}/.cdrv`;
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    // Deno's own text ends "run again with the --allow-write flag", which an operator cannot do: say
    // where the grant comes from instead, and keep what the sandbox said.
    if (e instanceof Deno.errors.NotCapable) {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `Nomad's task dir "${input.nomad.dirs.task}" is outside the paths the plugin may write; the Deno ` +
          `sandbox refused: ${e.message.replace(/, run again with .*$/, "")}; add Nomad's data_dir to ` +
          `${EXTRA_PATHS_ENV} (colon-separated) in the Nomad agent's environment`,
      );
    }
    throw e;
  }
  const read = async (p: string) => {
    try {
      return await Deno.readTextFile(p);
    } catch {
      return "";
    }
  };
  const files: HostFiles = { hosts: `${dir}/hosts`, hostname: `${dir}/hostname` };
  await Deno.writeTextFile(files.hosts!, hostsFile(input, await read("/etc/hosts")));
  await Deno.writeTextFile(files.hostname!, hostnameFile(input));
  const resolv = resolvConf(input, await read("/etc/resolv.conf"));
  if (resolv !== undefined) {
    files.resolvConf = `${dir}/resolv.conf`;
    await Deno.writeTextFile(files.resolvConf, resolv);
  }
  return files;
}

/**
 * Reattaches to a task after a plugin restart, from the state Nomad kept. A task that exited meanwhile
 * reports its real exit status.
 */
export async function recoverNomadTask(
  conn: Containerd,
  taskId: string,
  state: DriverState,
  cfg: NomadTaskConfig,
  images: ImageCoordinator,
  logger: Logger,
): Promise<TaskHandle> {
  const handle = new TaskHandle(taskId, state, cfg, conn, logger.with({ task_id: taskId }));
  const st = await handle.status();
  if (!st) {
    throw new Error(`task ${taskId}: container ${state.containerId} has no task in containerd any more`);
  }
  images.adopt(state.imageRef, taskId);
  handle.startWaitLoop();
  logger.info("task recovered", {
    task_id: taskId,
    container: state.containerId,
    running: st.status !== TaskStatus.STOPPED,
  });
  return handle;
}
