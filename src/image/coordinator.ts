/**
 * Image pull coordination, the way Nomad's docker driver does it (coordinator.go): pulls are futures
 * keyed by the normalized reference, so concurrent starts of one image share one pull; an image that is
 * present and unpacked is used without any registry request (unless `forcePull`); each task holding an
 * image is counted, and with `gc.image` on, an image nobody holds is removed after `gc.imageDelayMs`.
 *
 * GC only removes images this driver pulled (they carry {@linkcode MANAGED_LABEL}); an image an operator
 * pulled by hand into the namespace is used but never removed. containerd's own collector then drops
 * blobs and snapshots no other image or container references.
 *
 * @module
 */
import { compactHeapSoon } from "./heap.ts";
import { sleep } from "../util/sleep.ts";
import type { Containerd } from "../containerd/connection.ts";
import { deleteImage, getImage } from "../containerd/images.ts";
import type { Logger } from "../log/hclog.ts";
import { PullError } from "./errors.ts";
import {
  type ImageInfo,
  localImage,
  MANAGED_LABEL,
  type Platform,
  pullImage,
  type PullProgress,
} from "./pull.ts";
import { formatReference, type ImageRef, InvalidReferenceError, parseReference } from "./reference.ts";

export type { ImageInfo, PullProgress };
export { PullError };

/** Options of {@linkcode ImageCoordinator}. */
export interface CoordinatorOptions {
  snapshotter: string;
  /** containerd-style registry hosts dir ("" for none). */
  hostsDir: string;
  /** Plugin-level credentials: used when a task has none; `helper` runs `docker-credential-<helper>`. */
  auth: { username?: string; password?: string; helper?: string };
  gc: { image: boolean; imageDelayMs: number };
  logger: Logger;
  /** Platform to pull (default: this machine's). */
  platform?: Platform;
  /** Parallel layer downloads per pull (default 3). */
  concurrency?: number;
}

/** Options of one {@linkcode ImageCoordinator.acquire}. */
export interface AcquireOptions {
  auth?: { username?: string; password?: string };
  forcePull?: boolean;
  timeoutMs: number;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /**
   * Puts the image into containerd some other way first (a task's `load` archive), once the holder is
   * counted and a pending GC of the same image is over, so GC cannot remove it before it is used. Its
   * errors are thrown as they are.
   */
  load?: () => Promise<void>;
}

interface InFlight {
  promise: Promise<ImageInfo>;
  controller: AbortController;
  waiters: number;
  listeners: Set<(p: PullProgress) => void>;
}

interface Entry {
  holders: Set<string>;
  pull?: InFlight;
  gcTimer?: ReturnType<typeof setTimeout>;
  deleting?: Promise<void>;
}

/**
 * Pull coordination, holder counting and image GC for one containerd namespace.
 *
 * @example
 * ```ts ignore
 * const images = new ImageCoordinator(conn, { snapshotter: "overlayfs", hostsDir: "/etc/containerd/certs.d",
 *   auth: {}, gc: { image: true, imageDelayMs: 180_000 }, logger });
 * const info = await images.acquire("busybox:1.36", taskId, { timeoutMs: 300_000 });
 * // ... task runs on info.chainId ...
 * images.release("busybox:1.36", taskId);
 * ```
 */
export class ImageCoordinator {
  readonly #entries = new Map<string, Entry>();
  readonly #log: Logger;
  #closed = false;

  constructor(readonly conn: Containerd, readonly opts: CoordinatorOptions) {
    this.#log = opts.logger.named("image");
  }

  /** The parsed reference (a string is parsed here, once) and the name containerd stores the image under. */
  #resolve(ref: string | ImageRef): { parsed: ImageRef; name: string } {
    try {
      const parsed = typeof ref === "string" ? parseReference(ref) : ref;
      return { parsed, name: formatReference(parsed) };
    } catch (e) {
      if (e instanceof InvalidReferenceError) {
        throw new PullError("invalid", String(ref), "(none)", e.reason, { cause: e });
      }
      throw e;
    }
  }

  #name(ref: string | ImageRef): string {
    return this.#resolve(ref).name;
  }

  #entry(name: string): Entry {
    let e = this.#entries.get(name);
    if (!e) this.#entries.set(name, e = { holders: new Set() });
    return e;
  }

  /**
   * Ensures the image is present and unpacked; concurrent callers for one ref share one pull; present
   * images are not pulled again unless `forcePull`. `holder` (a task id) is counted as a user until
   * {@linkcode release}.
   */
  async acquire(ref: string | ImageRef, holder: string, opts: AcquireOptions): Promise<ImageInfo> {
    if (this.#closed) throw new Error("image coordinator is closed");
    const { parsed, name } = this.#resolve(ref);
    const e = this.#entry(name);
    e.holders.add(holder);
    if (e.gcTimer !== undefined) {
      clearTimeout(e.gcTimer);
      e.gcTimer = undefined;
    }
    if (opts.load) {
      try {
        if (e.deleting) await e.deleting;
        await opts.load();
      } catch (err) {
        e.holders.delete(holder);
        this.#maybeForget(name, e);
        throw err;
      }
    }
    try {
      if (e.deleting) await e.deleting;
      if (!opts.forcePull && !e.pull) {
        const local = await localImage(this.conn, name, {
          snapshotter: this.opts.snapshotter,
          platform: this.opts.platform,
          signal: opts.signal,
          logger: this.#log,
        });
        if (local) {
          this.#log.debug("image present, not pulled", { ref: name, holder });
          return local;
        }
      }
      return await this.#join(parsed, name, e, opts);
    } catch (err) {
      e.holders.delete(holder);
      this.#maybeForget(name, e);
      if (err instanceof PullError) throw err;
      const registry = name.split("/")[0];
      if (opts.signal?.aborted) {
        throw new PullError("canceled", name, registry, "the pull was canceled", { cause: err });
      }
      throw new PullError("containerd", name, registry, (err as Error)?.message ?? String(err), {
        cause: err,
      });
    }
  }

  /** Joins the entry's pull (starting it when there is none) and waits for it, or for our own signal/timeout. */
  async #join(ref: ImageRef, name: string, e: Entry, opts: AcquireOptions): Promise<ImageInfo> {
    const pull = e.pull ??= this.#startPull(ref, name, e, opts);
    pull.waiters++;
    if (opts.onProgress) pull.listeners.add(opts.onProgress);
    const mine = callerLimit(name, opts);
    try {
      return await Promise.race([pull.promise, mine.reached]);
    } finally {
      mine.clear();
      if (opts.onProgress) pull.listeners.delete(opts.onProgress);
      pull.waiters--;
      // Nobody waits any more (all gave up): stop the pull, which cleans up after itself, and wait for that
      // (bounded), so that a failed start returns with nothing of its pull left in containerd.
      if (pull.waiters === 0 && e.pull === pull) {
        pull.controller.abort(new Error("no waiter left"));
        const settled = new AbortController();
        await Promise.race([Promise.allSettled([pull.promise]), sleep(CLEANUP_WAIT_MS, settled.signal)]);
        settled.abort(); // stops the sleep's timer
      }
    }
  }

  /** One pull for every caller of this image; each caller's progress listener hears it. */
  #startPull(ref: ImageRef, name: string, e: Entry, opts: AcquireOptions): InFlight {
    const controller = new AbortController();
    const listeners = new Set<(p: PullProgress) => void>();
    const promise = pullImage(this.conn, ref, {
      snapshotter: this.opts.snapshotter,
      hostsDir: this.opts.hostsDir,
      credentials: {
        task: opts.auth,
        plugin: { username: this.opts.auth.username, password: this.opts.auth.password },
        helper: this.opts.auth.helper,
      },
      platform: this.opts.platform,
      concurrency: this.opts.concurrency,
      timeoutMs: opts.timeoutMs,
      signal: controller.signal,
      logger: this.#log,
      onProgress: (p) => {
        for (const l of listeners) {
          try {
            l(p);
          } catch { /* a listener's bug must not break the pull */ }
        }
      },
    });
    const inflight: InFlight = { promise, controller, waiters: 0, listeners };
    promise.finally(() => {
      if (e.pull === inflight) e.pull = undefined;
      // The pull's garbage (manifests, buffers, gRPC writes) is freed now, not when V8 gets to it.
      compactHeapSoon();
    }).catch(() => {});
    this.#log.info("pulling image", { ref: name });
    return inflight;
  }

  /** The holder no longer uses the image; with gc.image, an image nobody holds is removed after the delay. */
  release(ref: string | ImageRef, holder: string): void {
    let name: string;
    try {
      name = this.#name(ref);
    } catch {
      return;
    }
    const e = this.#entries.get(name);
    if (!e) return;
    e.holders.delete(holder);
    if (e.holders.size > 0 || this.#closed) return;
    if (!this.opts.gc.image) {
      this.#maybeForget(name, e);
      return;
    }
    if (e.gcTimer !== undefined) clearTimeout(e.gcTimer);
    e.gcTimer = setTimeout(() => {
      e.gcTimer = undefined;
      if (e.holders.size > 0 || e.pull || this.#closed) return;
      e.deleting = this.#remove(name).finally(() => {
        e.deleting = undefined;
        this.#maybeForget(name, e);
      });
    }, this.opts.gc.imageDelayMs);
  }

  async #remove(name: string): Promise<void> {
    try {
      const img = await getImage(this.conn, name, { timeoutMs: 30_000 });
      if (!img) return;
      if (img.labels[MANAGED_LABEL] !== "true") {
        this.#log.debug("image unused but not pulled by this driver; kept", { ref: name });
        return;
      }
      await deleteImage(this.conn, name, { timeoutMs: 60_000, sync: false });
      this.#log.info("removed unused image", { ref: name });
    } catch (err) {
      this.#log.warn("could not remove unused image", { ref: name, error: String(err) });
    }
  }

  #maybeForget(name: string, e: Entry): void {
    if (e.holders.size === 0 && !e.pull && e.gcTimer === undefined && !e.deleting) this.#entries.delete(name);
  }

  /** Re-registers a holder after a plugin restart (RecoverTask) without pulling. */
  adopt(ref: string, holder: string): void {
    let name: string;
    try {
      name = this.#name(ref);
    } catch {
      return;
    }
    const e = this.#entry(name);
    e.holders.add(holder);
    if (e.gcTimer !== undefined) {
      clearTimeout(e.gcTimer);
      e.gcTimer = undefined;
    }
  }

  /** Holders of an image (for tests and diagnostics). */
  holders(ref: string): string[] {
    return [...(this.#entries.get(this.#name(ref))?.holders ?? [])];
  }

  /** Stops GC timers and aborts pulls in flight (each cleans up after itself). */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      if (e.gcTimer !== undefined) clearTimeout(e.gcTimer);
      e.gcTimer = undefined;
      e.pull?.controller.abort(new Error("coordinator closed"));
    }
  }
}

/** How long the last caller to give up on a pull waits for its cleanup (containerd calls, a synchronous GC). */
const CLEANUP_WAIT_MS = 15_000;

/**
 * One caller's own limits on a shared pull: its image_pull_timeout and its signal. `reached` rejects with
 * the PullError when either is hit; `clear` drops the timer and the listener.
 */
function callerLimit(name: string, opts: AcquireOptions): { reached: Promise<never>; clear(): void } {
  const registry = name.split("/")[0];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const reached = new Promise<never>((_, reject) => {
    const limit = `the pull did not finish within ${opts.timeoutMs / 1000}s (image_pull_timeout)`;
    timer = setTimeout(() => reject(new PullError("timeout", name, registry, limit)), opts.timeoutMs);
    onAbort = () => reject(new PullError("canceled", name, registry, "the pull was canceled"));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
  reached.catch(() => {});
  return {
    reached,
    clear() {
      clearTimeout(timer);
      if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
    },
  };
}
