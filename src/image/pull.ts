/**
 * Client-side image pull into containerd 1.6 (which has no Transfer service), the way `ctr image pull`
 * does it, inside the driver:
 *
 * 1. resolve the reference on the endpoints from hosts.toml (tag → root manifest or index);
 * 2. pick the platform manifest from an index (OCI index or Docker manifest list);
 * 3. fetch the config, then the layers in parallel (limit 3 by default) straight into Content.Write,
 *    every byte hashed and checked against its digest before COMMIT; blobs already in the namespace are
 *    not fetched again;
 * 4. unpack while later layers still download: Snapshots.Prepare on the parent chain id → Diff.Apply
 *    (diff id checked against the config) → Snapshots.Commit as the layer's chain id; chains already
 *    committed are skipped;
 * 5. write config, manifest and index with containerd's gc labels (`containerd.io/gc.ref.content.*`,
 *    `containerd.io/gc.ref.snapshot.<snapshotter>` on the config), then Images.Create/Update.
 *
 * Everything happens under one lease (with a `containerd.io/gc.expire` safety net). On success the
 * image record takes over and the lease is dropped; on any failure, timeout or cancellation, open
 * writers are cancelled, ingests aborted, active snapshots removed and the lease deleted with a
 * synchronous GC, so nothing partial stays behind.
 *
 * @module
 */
import { concatBytes } from "../util/bytes.ts";
import { sleep } from "../util/sleep.ts";
import { createHash } from "node:crypto";
import type { Containerd } from "../containerd/connection.ts";
import { ContainerdError } from "../containerd/connection.ts";
import {
  abortIngest,
  contentInfo,
  ContentMismatchError,
  ContentWriter,
  readContent,
  updateContentLabels,
} from "../containerd/content.ts";
import { applyDiff } from "../containerd/diff.ts";
import { type Descriptor, getImage, putImage } from "../containerd/images.ts";
import { createLease, deleteLease } from "../containerd/leases.ts";
import { commitSnapshot, prepareSnapshot, removeSnapshot, statSnapshot } from "../containerd/snapshots.ts";
import type { Logger } from "../log/hclog.ts";
import { type CredentialSources, resolveCredentials } from "./auth.ts";
import { PullError } from "./errors.ts";
import { resolveHosts } from "./hosts.ts";
import { formatReference, type ImageRef, InvalidReferenceError, parseReference } from "./reference.ts";
import { MEDIA_TYPES, RegistryClient } from "./registry.ts";

/**
 * The `config` object of an OCI image configuration (what a container runs with), as the image holds it.
 * The field names are the image-spec's.
 */
export interface OciImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown>;
}

/** What the driver gets for a present, unpacked image. */
export interface ImageInfo {
  /** Normalized reference, e.g. "docker.io/library/busybox:latest". */
  name: string;
  /** The image's target descriptor as stored in containerd (index or manifest). */
  target: { mediaType: string; digest: string; size: number };
  /** The platform manifest chosen. */
  manifestDigest: string;
  /** The OCI config's `.config` object. */
  config: OciImageConfig;
  /** Chain id of the top layer: the committed snapshot to use as parent, in `snapshotter`. */
  chainId: string;
  snapshotter: string;
}

/** Progress of one pull, for task events. */
export interface PullProgress {
  ref: string;
  layers: { digest: string; size: number; done: number }[];
  phase: "resolve" | "fetch" | "unpack" | "done";
}

/** An OS/architecture pair (plus variant). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Options of {@linkcode pullImage}. */
export interface PullOptions {
  /** containerd snapshotter to unpack into, e.g. "overlayfs". */
  snapshotter: string;
  /** containerd-style registry hosts dir ("" for defaults only). */
  hostsDir: string;
  credentials: CredentialSources;
  /** Defaults to {@linkcode defaultPlatform}. */
  platform?: Platform;
  /** Parallel blob downloads (default 3, like containerd). */
  concurrency?: number;
  /** The whole pull, resolve to image record. */
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
  logger?: Logger;
  /** Labels on the image record. */
  labels?: Record<string, string>;
}

/** The label our image records carry: the coordinator's GC removes only images that have it. */
export const MANAGED_LABEL = "io.containerd-driver.managed";

const LAYER_TYPES = new Set([
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);

/**
 * The platform this process runs on, in OCI terms (linux/amd64 on x86_64, linux/arm64/v8 on aarch64).
 *
 * @example
 * ```ts
 * defaultPlatform(); // { os: "linux", architecture: "amd64" } on x86_64
 * ```
 */
export function defaultPlatform(): Platform {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  return arch === "arm64"
    ? { os: "linux", architecture: arch, variant: "v8" }
    : { os: "linux", architecture: arch };
}

function normVariant(p: { architecture: string; variant?: string }): string {
  if (p.architecture === "arm64" && (!p.variant || p.variant === "v8")) return "v8";
  return p.variant ?? "";
}

/**
 * How well `candidate` fits `want`: -1 for no match, higher is better (exact variant beats none).
 *
 * @example
 * ```ts
 * platformScore({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }); // -1
 * ```
 */
export function platformScore(want: Platform, candidate: Platform | undefined): number {
  if (!candidate) return -1;
  if (candidate.os !== want.os || candidate.architecture !== want.architecture) return -1;
  const wv = normVariant(want);
  const cv = normVariant(candidate);
  if (wv === cv) return 2;
  if (cv === "") return 1;
  return -1;
}

/**
 * The chain ids of a layer stack: chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i]).
 *
 * @example
 * ```ts
 * chainIds(["sha256:a"]); // ["sha256:a"]
 * ```
 */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    out.push(
      out.length === 0
        ? d
        : "sha256:" + createHash("sha256").update(`${out[out.length - 1]} ${d}`).digest("hex"),
    );
  }
  return out;
}

interface IndexJson {
  manifests?: (Descriptor & { platform?: Platform })[];
}
interface ManifestJson {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
}
interface ConfigJson {
  os?: string;
  architecture?: string;
  variant?: string;
  config?: OciImageConfig;
  rootfs?: { type?: string; diff_ids?: string[] };
}

function json<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

function desc(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: Number(d.size) };
}

/**
 * Picks the platform manifest of an index (OCI index or Docker manifest list); returns it and its
 * position, or undefined when no entry fits.
 *
 * @example
 * ```ts
 * const index = { manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:…", size: 1,
 *   platform: { os: "linux", architecture: "amd64" } }] };
 * selectManifest(index, { os: "linux", architecture: "amd64" })?.position; // 0
 * ```
 */
export function selectManifest(
  index: IndexJson,
  want: Platform,
): { desc: Descriptor; position: number } | undefined {
  let best: { desc: Descriptor; position: number; score: number } | undefined;
  (index.manifests ?? []).forEach((m, i) => {
    if (INDEX_TYPES.has(m.mediaType)) return; // nested indexes are not followed
    const score = platformScore(want, m.platform);
    if (score > (best?.score ?? -1)) best = { desc: desc(m), position: i, score };
  });
  return best && { desc: best.desc, position: best.position };
}

/** Bounded parallelism. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** State shared by the steps of one pull (or one local unpack), for cleanup. */
class PullContext {
  readonly ingests = new Set<string>();
  readonly writers = new Set<ContentWriter>();
  readonly activeSnapshots = new Set<string>();
  readonly id = crypto.randomUUID();
  lease = "";
  constructor(
    readonly conn: Containerd,
    readonly refName: string,
    /** where the content comes from (the endpoint that resolved the reference, once known) */
    public registry: string,
    readonly snapshotter: string,
    readonly signal: AbortSignal,
  ) {}

  async begin(expireMs: number): Promise<void> {
    this.lease = await createLease(this.conn, {
      id: `cdrv-pull-${this.id}`,
      labels: { "containerd-driver/ref": this.refName.slice(0, 200) },
      expireMs,
    });
  }

  /** Removes everything partial; never throws. */
  async cleanup(logger?: Logger): Promise<void> {
    const opts = { timeoutMs: 30_000 };
    for (const w of this.writers) w.cancel();
    const errs: unknown[] = [];
    for (const ref of this.ingests) await abortIngest(this.conn, ref, opts).catch((e) => errs.push(e));
    for (const key of this.activeSnapshots) {
      await removeSnapshot(this.conn, this.snapshotter, key, opts).catch((e) => errs.push(e));
    }
    if (this.lease) {
      await deleteLease(this.conn, this.lease, { ...opts, sync: true }).catch((e) => errs.push(e));
    }
    if (errs.length) {
      logger?.warn("image pull cleanup incomplete", { ref: this.refName, error: String(errs[0]) });
    }
  }

  /** Drops the lease after success: the image record now keeps everything. */
  async finish(): Promise<void> {
    if (this.lease) await deleteLease(this.conn, this.lease, { timeoutMs: 30_000 });
  }
}

/**
 * Unpacks layers into `snapshotter`, skipping chains already committed; returns the top chain id.
 * Each layer waits for `ready(i)` (its blob in the content store) so unpacking overlaps downloads.
 */
async function unpack(
  ctx: PullContext,
  layers: Descriptor[],
  diffIds: string[],
  ready: (i: number) => Promise<void>,
  onLayer?: (i: number) => void,
): Promise<string> {
  const chain = chainIds(diffIds);
  // Find the highest committed chain: everything below it is present too.
  let start = 0;
  for (let i = chain.length - 1; i >= 0; i--) {
    const info = await statSnapshot(ctx.conn, ctx.snapshotter, chain[i], { signal: ctx.signal });
    if (info?.kind === "committed") {
      start = i + 1;
      break;
    }
  }
  for (let i = start; i < chain.length; i++) {
    await ready(i);
    const key = `cdrv-extract-${ctx.id}-${chain[i]}`;
    const parent = i === 0 ? "" : chain[i - 1];
    const lease = { lease: ctx.lease, signal: ctx.signal };
    ctx.activeSnapshots.add(key);
    const mounts = await prepareSnapshot(ctx.conn, ctx.snapshotter, key, parent, lease);
    const applied = await applyDiff(ctx.conn, layers[i], mounts, { signal: ctx.signal });
    if (applied.digest !== diffIds[i]) {
      throw new PullError(
        "digest",
        ctx.refName,
        ctx.registry,
        `layer ${layers[i].digest} unpacks to ${applied.digest}, but the image config says ${diffIds[i]}`,
      );
    }
    try {
      await commitSnapshot(ctx.conn, ctx.snapshotter, chain[i], key, lease);
      ctx.activeSnapshots.delete(key);
    } catch (e) {
      // Someone else committed the same chain meanwhile: theirs is as good as ours.
      if (!(e instanceof ContainerdError && e.alreadyExists)) throw e;
      await removeSnapshot(ctx.conn, ctx.snapshotter, key, { signal: ctx.signal });
      ctx.activeSnapshots.delete(key);
    }
    onLayer?.(i);
  }
  return chain[chain.length - 1];
}

/** Writes a small blob we already hold in memory, with labels (updated when it already exists). */
async function putBlob(
  ctx: PullContext,
  d: Descriptor,
  bytes: Uint8Array,
  labels: Record<string, string>,
): Promise<void> {
  const ref = `cdrv-${ctx.id}-${d.digest}`;
  const w = await ContentWriter.open(ctx.conn, {
    ref,
    expected: d.digest,
    total: bytes.length,
    lease: ctx.lease,
    signal: ctx.signal,
  });
  if (!w) {
    if (Object.keys(labels).length) {
      await updateContentLabels(ctx.conn, d.digest, labels, Object.keys(labels).map((k) => `labels.${k}`), {
        signal: ctx.signal,
      });
    }
    return;
  }
  ctx.ingests.add(ref);
  ctx.writers.add(w);
  await w.write(bytes);
  await w.commit(labels);
  ctx.writers.delete(w);
  ctx.ingests.delete(ref);
}

function manifestLabels(m: ManifestJson): Record<string, string> {
  const labels: Record<string, string> = { "containerd.io/gc.ref.content.config": m.config!.digest };
  (m.layers ?? []).forEach((l, i) => labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest);
  return labels;
}

function checkManifest(
  m: ManifestJson,
  fail: (d: string) => PullError,
): { config: Descriptor; layers: Descriptor[] } {
  if (!m.config?.digest || !Array.isArray(m.layers)) throw fail("the manifest has no config or no layers");
  for (const l of m.layers) {
    if (!LAYER_TYPES.has(l.mediaType)) {
      throw fail(`layer ${l.digest} has unsupported media type ${JSON.stringify(l.mediaType)}`);
    }
  }
  return { config: desc(m.config), layers: m.layers.map(desc) };
}

function checkConfig(c: ConfigJson, layers: number, fail: (d: string) => PullError): string[] {
  const diffIds = c.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== layers) {
    throw fail(`the image config lists ${diffIds?.length ?? 0} diff ids for ${layers} layers`);
  }
  return diffIds;
}

/**
 * Maps anything thrown during a pull to a {@linkcode PullError}, telling timeout from cancellation.
 */
function toPullError(
  e: unknown,
  refName: string,
  registry: string,
  timedOut: boolean,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): PullError {
  if (timedOut) {
    return new PullError(
      "timeout",
      refName,
      registry,
      `the pull did not finish within ${timeoutMs / 1000}s (image_pull_timeout)`,
      {
        cause: e,
      },
    );
  }
  if (callerSignal?.aborted) {
    return new PullError("canceled", refName, registry, "the pull was canceled", { cause: e });
  }
  if (e instanceof PullError) return e;
  if (e instanceof ContentMismatchError) {
    return new PullError(
      "digest",
      refName,
      registry,
      `downloaded ${e.message}; the registry sent corrupted content`,
      { cause: e },
    );
  }
  if (e instanceof ContainerdError) {
    return new PullError(e.unavailable ? "containerd" : "containerd", refName, registry, e.message, {
      cause: e,
    });
  }
  return new PullError("registry", refName, registry, (e as Error)?.message ?? String(e), { cause: e });
}

/** Reads a blob from containerd, undefined when absent. */
async function readIfPresent(
  conn: Containerd,
  digest: string,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  try {
    return await readContent(conn, digest, { signal });
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return undefined;
    throw e;
  }
}

/** One pull in progress: what every step reads (the pull's context, its registry, its progress). */
interface PullRun {
  conn: Containerd;
  ref: ImageRef;
  opts: PullOptions;
  platform: Platform;
  /** what is made so far, for cleanup; its `registry` is the endpoint that resolved the reference */
  ctx: PullContext;
  registry: RegistryClient;
  progress: PullProgress;
  /** reports progress (at most every 100 ms unless forced) */
  emit(force?: boolean): void;
  /** aborts every request of the pull */
  abort(reason: unknown): void;
}

/** The manifest the pull resolved to, and the root it came from (an index, or the manifest itself). */
interface ResolvedManifest {
  root: { mediaType: string; digest: string; size: number; bytes: Uint8Array };
  desc: Descriptor;
  bytes: Uint8Array;
  manifest: ManifestJson;
  config: Descriptor;
  layers: Descriptor[];
  /** the index's gc label for the chosen manifest */
  indexLabels?: Record<string, string>;
}

/**
 * Pulls `ref` into containerd and unpacks it; see the module doc for the steps and guarantees. A string
 * is parsed here; a caller that parsed it already passes the {@linkcode ImageRef}. Throws
 * {@linkcode PullError}.
 *
 * @example
 * ```ts ignore
 * const info = await pullImage(conn, "127.0.0.1:5000/cdrv/busybox:1", {
 *   snapshotter: "overlayfs", hostsDir: "/etc/containerd/certs.d", credentials: {}, timeoutMs: 300_000,
 * });
 * ```
 */
export async function pullImage(
  conn: Containerd,
  refInput: string | ImageRef,
  opts: PullOptions,
): Promise<ImageInfo> {
  const ref = parseOrThrow(refInput);
  const refName = formatReference(ref);
  let timedOut = false;
  const inner = new AbortController();
  const timer = setTimeout(() => {
    timedOut = true;
    inner.abort(new Error("image pull timeout"));
  }, opts.timeoutMs);
  const onCallerAbort = () => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onCallerAbort();
  opts.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const ctx = new PullContext(conn, refName, ref.domain, opts.snapshotter, inner.signal);
  let run: PullRun | undefined;
  const started = Date.now();
  const steps = async () => {
    run = await openPull(conn, ref, opts, ctx, (r) => inner.abort(r));
    const m = await resolveManifest(run);
    const { config, configBytes, diffIds } = await fetchConfig(run, m);
    const chainId = await fetchAndUnpack(run, m.layers, diffIds);
    return await commitImage(run, m, configBytes, config, chainId);
  };
  try {
    // Once the pull is aborted (timeout, caller, a failed layer) it ends at once, whatever call of a step
    // is still waiting: the cleanup below cancels what is left. (A step that never noticed the abort once
    // held a timed-out pull for good.)
    const info = await Promise.race([steps(), abortedWith(inner.signal)]);
    opts.logger?.debug("image pulled", {
      ref: refName,
      registry: ctx.registry,
      manifest: info.manifestDigest,
      duration_ms: Date.now() - started,
    });
    return info;
  } catch (e) {
    const err = toPullError(e, refName, ctx.registry, timedOut, opts.signal, opts.timeoutMs);
    inner.abort(err);
    await ctx.cleanup(opts.logger);
    opts.logger?.warn("image pull failed", { ref: refName, kind: err.kind, error: err.message });
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onCallerAbort);
    run?.registry.close();
  }
}

/** Rejects with the signal's reason once it aborts (observed: never an unhandled rejection). */
function abortedWith(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  p.catch(() => {});
  return p;
}

function parseOrThrow(refInput: string | ImageRef): ImageRef {
  try {
    return typeof refInput === "string" ? parseReference(refInput) : refInput;
  } catch (e) {
    if (e instanceof InvalidReferenceError) {
      throw new PullError("invalid", String(refInput), "(none)", e.reason, { cause: e });
    }
    throw e;
  }
}

/** The registry client on the endpoints hosts.toml gives, progress reporting, and the pull's lease. */
async function openPull(
  conn: Containerd,
  ref: ImageRef,
  opts: PullOptions,
  ctx: PullContext,
  abort: (reason: unknown) => void,
): Promise<PullRun> {
  const signal = ctx.signal;
  const hosts = await resolveHosts(opts.hostsDir, ref.domain).catch((e) => {
    throw new PullError("config", ctx.refName, ref.domain, (e as Error).message, { cause: e });
  });
  const registry = new RegistryClient(ref, hosts, {
    refName: ctx.refName,
    signal,
    credentials: () => resolveCredentials(ref.domain, opts.credentials, { signal }),
  });
  const progress: PullProgress = { ref: ctx.refName, layers: [], phase: "resolve" };
  let lastEmit = 0;
  const emit = (force = false) => {
    if (!opts.onProgress) return;
    const now = Date.now();
    if (!force && now - lastEmit < 100) return;
    lastEmit = now;
    try {
      opts.onProgress(structuredClone(progress));
    } catch { /* a listener's bug must not break the pull */ }
  };
  const run = {
    conn,
    ref,
    opts,
    platform: opts.platform ?? defaultPlatform(),
    ctx,
    registry,
    progress,
    emit,
    abort,
  };
  emit(true);
  await ctx.begin(opts.timeoutMs + 10 * 60_000);
  return run;
}

/** 1–2. Resolves the reference (tag → root), then picks the platform's manifest from an index. */
async function resolveManifest(run: PullRun): Promise<ResolvedManifest> {
  const { registry, ctx, platform } = run;
  const root = await registry.resolve();
  ctx.registry = registry.where();
  const fail = (d: string) => new PullError("registry", ctx.refName, ctx.registry, d);
  let desc: Descriptor = { mediaType: root.mediaType, digest: root.digest, size: root.size };
  let bytes = root.bytes;
  let indexLabels: Record<string, string> | undefined;
  if (INDEX_TYPES.has(root.mediaType)) {
    const index = json<IndexJson>(root.bytes);
    const chosen = selectManifest(index, platform);
    if (!chosen) throw noPlatform(run, index);
    desc = chosen.desc;
    indexLabels = { [`containerd.io/gc.ref.content.m.${chosen.position}`]: chosen.desc.digest };
    bytes = (await readIfPresent(run.conn, desc.digest, ctx.signal)) ??
      (await registry.fetchManifest(desc.digest)).bytes;
  }
  const manifest = json<ManifestJson>(bytes);
  const { config, layers } = checkManifest(manifest, fail);
  return { root, desc, bytes, manifest, config, layers, indexLabels };
}

function platformName(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? "/" + p.variant : ""}`;
}

function noPlatform(run: PullRun, index: IndexJson): PullError {
  const have = (index.manifests ?? []).map((m) => m.platform && platformName(m.platform)).filter(Boolean);
  return new PullError(
    "platform",
    run.ctx.refName,
    run.ctx.registry,
    `no manifest for ${platformName(run.platform)} (the index has ${have.join(", ") || "none"})`,
  );
}

/** 3. The image config (small: into memory, checked against its digest; written last, in commitImage). */
async function fetchConfig(
  run: PullRun,
  m: ResolvedManifest,
): Promise<{ config: ConfigJson; configBytes: Uint8Array; diffIds: string[] }> {
  const { ctx, platform } = run;
  const configBytes = await readIfPresent(run.conn, m.config.digest, ctx.signal) ??
    await downloadConfig(run, m.config);
  const config = json<ConfigJson>(configBytes);
  const fail = (d: string) => new PullError("registry", ctx.refName, ctx.registry, d);
  const diffIds = checkConfig(config, m.layers.length, fail);
  if (
    config.os && config.architecture && !INDEX_TYPES.has(m.root.mediaType) &&
    platformScore(platform, config as Platform) < 0
  ) {
    throw new PullError(
      "platform",
      ctx.refName,
      ctx.registry,
      `the image is for ${config.os}/${config.architecture}, not ${platform.os}/${platform.architecture}`,
    );
  }
  return { config, configBytes, diffIds };
}

async function downloadConfig(run: PullRun, d: Descriptor): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of await run.registry.fetchBlob(d)) {
    n += c.length;
    if (n > d.size) break;
    parts.push(c);
  }
  const out = concatBytes(parts);
  const digest = "sha256:" + createHash("sha256").update(out).digest("hex");
  if (digest !== d.digest || out.length !== d.size) {
    throw new PullError(
      "digest",
      run.ctx.refName,
      run.ctx.registry,
      `config ${d.digest} does not match its digest (got ${digest}, ${out.length} bytes); the registry sent corrupted content`,
    );
  }
  return out;
}

/**
 * 4–5. The layers, in parallel, each straight into the content store; unpacked in order as soon as each
 * is in (unpacking overlaps later downloads). Returns the top chain id.
 */
async function fetchAndUnpack(run: PullRun, layers: Descriptor[], diffIds: string[]): Promise<string> {
  const { progress, emit } = run;
  progress.phase = "fetch";
  progress.layers = layers.map((l) => ({ digest: l.digest, size: l.size, done: 0 }));
  emit(true);
  const limit = limiter(run.opts.concurrency ?? 3);
  const fetches = layers.map((_, i) => limit(() => fetchLayer(run, layers[i], diffIds[i], i)));
  const firstFailure = new Promise<never>((_, reject) => fetches.forEach((p) => p.catch(reject)));
  firstFailure.catch(() => {});
  try {
    const chainId = await unpack(run.ctx, layers, diffIds, async (i) => {
      await Promise.race([fetches[i], firstFailure]);
      if (progress.phase !== "unpack") {
        progress.phase = "unpack";
        emit(true);
      }
    });
    await Promise.race([Promise.all(fetches), firstFailure]);
    return chainId;
  } catch (e) {
    run.abort(e);
    // The other downloads end on the abort; a bounded wait, so that no stuck one holds the pull.
    await Promise.race([Promise.allSettled(fetches), sleep(5000)]);
    throw e;
  }
}

/** One layer blob into the content store, hashed on the way; nothing fetched when containerd has it. */
async function fetchLayer(run: PullRun, l: Descriptor, diffId: string, i: number): Promise<void> {
  const { ctx, progress } = run;
  const ingestRef = `cdrv-${ctx.id}-${l.digest}`;
  const w = await ContentWriter.open(run.conn, {
    ref: ingestRef,
    expected: l.digest,
    total: l.size,
    lease: ctx.lease,
    signal: ctx.signal,
  });
  if (!w) {
    progress.layers[i].done = l.size;
    run.emit();
    return;
  }
  ctx.ingests.add(ingestRef);
  ctx.writers.add(w);
  for await (const chunk of await run.registry.fetchBlob(l)) {
    await w.write(chunk);
    progress.layers[i].done = w.written;
    run.emit();
  }
  await w.commit({ "containerd.io/uncompressed": diffId });
  ctx.writers.delete(w);
  ctx.ingests.delete(ingestRef);
}

/**
 * 6. Metadata blobs with gc labels, children before parents (config → snapshot, manifest → config and
 * layers, index → manifest), then the image record; the lease goes, the record keeps everything.
 */
async function commitImage(
  run: PullRun,
  m: ResolvedManifest,
  configBytes: Uint8Array,
  config: ConfigJson,
  chainId: string,
): Promise<ImageInfo> {
  const { ctx, opts } = run;
  await putBlob(ctx, m.config, configBytes, {
    [`containerd.io/gc.ref.snapshot.${opts.snapshotter}`]: chainId,
  });
  await putBlob(ctx, m.desc, m.bytes, manifestLabels(m.manifest));
  const target: Descriptor = { mediaType: m.root.mediaType, digest: m.root.digest, size: m.root.size };
  if (m.indexLabels) await putBlob(ctx, target, m.root.bytes, m.indexLabels);
  const record = { name: ctx.refName, labels: { [MANAGED_LABEL]: "true", ...opts.labels }, target };
  await putImage(run.conn, record, { signal: ctx.signal });
  await ctx.finish();
  run.progress.phase = "done";
  run.emit(true);
  return {
    name: ctx.refName,
    target,
    manifestDigest: m.desc.digest,
    config: config.config ?? {},
    chainId,
    snapshotter: opts.snapshotter,
  };
}

/**
 * The image as containerd has it, without any registry request: image record → target → platform
 * manifest → config → chain id. When every blob is present but the top chain is not committed in
 * `snapshotter` (e.g. pulled for another snapshotter, or snapshots were pruned), it unpacks from the
 * content store under a lease. Returns undefined when a pull is needed.
 *
 * @example
 * ```ts ignore
 * const info = await localImage(conn, "docker.io/library/busybox:latest", { snapshotter: "overlayfs" });
 * ```
 */
export async function localImage(
  conn: Containerd,
  name: string,
  opts: { snapshotter: string; platform?: Platform; signal?: AbortSignal; logger?: Logger },
): Promise<ImageInfo | undefined> {
  const found = await localBlobs(conn, name, opts.platform ?? defaultPlatform(), opts.signal);
  if (!found) return undefined;
  const { img, manifestDigest, configDesc, config, layers } = found;
  const fail = (d: string) => new PullError("registry", name, "(local)", d);
  const diffIds = checkConfig(config, layers.length, fail);
  const chain = chainIds(diffIds);
  const top = chain[chain.length - 1];
  const info: ImageInfo = {
    name,
    target: { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size },
    manifestDigest,
    config: config.config ?? {},
    chainId: top,
    snapshotter: opts.snapshotter,
  };
  const snap = await statSnapshot(conn, opts.snapshotter, top, { signal: opts.signal });
  if (snap?.kind === "committed") return info;
  // Not unpacked here: unpack from the content store when every layer blob is present.
  for (const l of layers) {
    if (!(await contentInfo(conn, l.digest, { signal: opts.signal }))) return undefined;
  }
  await unpackLocal(conn, name, configDesc, layers, diffIds, opts);
  return info;
}

/** What an image's target resolves to for one platform: its manifest, config and layers. */
interface Resolved {
  manifestDigest: string;
  configDesc: Descriptor;
  config: ConfigJson;
  layers: Descriptor[];
}

/**
 * Targets resolved before, by target digest and platform. Content is addressed by its digest, so an entry
 * never goes stale: a start of an image already resolved reads the image record and the snapshot only, not
 * the index, manifest and config again (three content reads per StartTask). Frozen, as tasks share them.
 */
const resolvedTargets = new Map<string, Readonly<Resolved>>();
const RESOLVED_MAX = 64;

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The image record, its platform manifest and its config, read from the content store (or undefined). */
async function localBlobs(conn: Containerd, name: string, platform: Platform, signal?: AbortSignal) {
  const img = await getImage(conn, name, { signal });
  if (!img) return undefined;
  const key = `${img.target.digest} ${JSON.stringify(platform)}`;
  const known = resolvedTargets.get(key);
  if (known) return { img, ...known };
  const resolved = await resolveTarget(conn, name, img.target, platform, signal);
  if (!resolved) return undefined;
  if (resolvedTargets.size >= RESOLVED_MAX) resolvedTargets.delete(resolvedTargets.keys().next().value!);
  resolvedTargets.set(key, deepFreeze(resolved));
  return { img, ...resolved };
}

async function resolveTarget(
  conn: Containerd,
  name: string,
  target: Descriptor,
  platform: Platform,
  signal?: AbortSignal,
): Promise<Resolved | undefined> {
  const rootBytes = await readIfPresent(conn, target.digest, signal);
  if (!rootBytes) return undefined;
  let manifestDesc: Descriptor = target;
  let manifestBytes = rootBytes;
  if (INDEX_TYPES.has(target.mediaType)) {
    const chosen = selectManifest(json<IndexJson>(rootBytes), platform);
    if (!chosen) return undefined;
    manifestDesc = chosen.desc;
    const b = await readIfPresent(conn, manifestDesc.digest, signal);
    if (!b) return undefined;
    manifestBytes = b;
  }
  const fail = (d: string) => new PullError("registry", name, "(local)", d);
  const { config: configDesc, layers } = checkManifest(json<ManifestJson>(manifestBytes), fail);
  const configBytes = await readIfPresent(conn, configDesc.digest, signal);
  if (!configBytes) return undefined;
  return { manifestDigest: manifestDesc.digest, configDesc, config: json<ConfigJson>(configBytes), layers };
}

/** Unpacks present layer blobs under a lease and labels the config with the new snapshot chain. */
async function unpackLocal(
  conn: Containerd,
  name: string,
  configDesc: Descriptor,
  layers: Descriptor[],
  diffIds: string[],
  opts: { snapshotter: string; signal?: AbortSignal; logger?: Logger },
): Promise<void> {
  const signal = opts.signal ?? new AbortController().signal;
  const ctx = new PullContext(conn, name, "(local)", opts.snapshotter, signal);
  const label = `containerd.io/gc.ref.snapshot.${opts.snapshotter}`;
  try {
    await ctx.begin(60 * 60_000);
    const top = await unpack(ctx, layers, diffIds, () => Promise.resolve());
    await updateContentLabels(conn, configDesc.digest, { [label]: top }, [`labels.${label}`]);
    await ctx.finish();
  } catch (e) {
    await ctx.cleanup(opts.logger);
    throw e instanceof PullError
      ? e
      : new PullError("containerd", name, "(local)", `unpack failed: ${(e as Error).message}`, { cause: e });
  }
}
