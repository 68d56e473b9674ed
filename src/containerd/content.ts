/**
 * containerd's Content service: blob info, read, delete, label updates, and the Write stream.
 *
 * Write protocol as containerd 1.6 speaks it (services/content/service.go): the first message carries
 * the ingest `ref` (a STAT with `total` and `expected`); containerd answers every message with a
 * status; WRITE messages carry `offset` + `data` (we send at most 1 MiB per message, containerd's
 * receive limit is 16 MiB); a first WRITE at offset 0 truncates a stale ingest of the same ref; COMMIT
 * carries `total`, `expected` and the blob's `labels` (gc labels go here). containerd verifies size and
 * digest on commit too, answers, and ends the stream: read until the end. A digest that already exists in
 * the namespace ends the stream with ALREADY_EXISTS, which is success (and adds the blob to the lease).
 *
 * @module
 */
import { concatBytes } from "../util/bytes.ts";
import type * as grpc from "@grpc/grpc-js";
import { createHash, type Hash } from "node:crypto";
import {
  ContentClient,
  type ReadContentResponse,
  WriteAction,
  type WriteContentRequest,
  type WriteContentResponse,
} from "../gen/containerd/services/content/v1/content.ts";
import { type CallOpts, type Containerd, ContainerdError } from "./connection.ts";
import { LEASE_HEADER, type LeaseCallOpts } from "./leases.ts";

/** Largest data payload of one WRITE message. */
export const WRITE_CHUNK = 1024 * 1024;

/** A blob in the content store. */
export interface ContentInfo {
  digest: string;
  size: number;
  labels: Record<string, string>;
}

/** The written bytes did not match the expected digest or size; nothing was committed. */
export class ContentMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly expectedSize: number,
    readonly actualSize: number,
  ) {
    super(
      actualSize !== expectedSize
        ? `content size mismatch for ${expected}: expected ${expectedSize} bytes, got ${
          actualSize > expectedSize ? "more" : actualSize
        }`
        : `content digest mismatch: expected ${expected}, got ${actual}`,
    );
    this.name = "ContentMismatchError";
  }
}

/**
 * Info about one blob, or undefined when the namespace does not have it.
 *
 * @example
 * ```ts ignore
 * const info = await contentInfo(conn, "sha256:…");
 * ```
 */
export async function contentInfo(
  conn: Containerd,
  digest: string,
  opts: CallOpts = {},
): Promise<ContentInfo | undefined> {
  const c = conn.client(ContentClient);
  try {
    const res = await conn.unary("Content.Info", c.info.bind(c), { digest }, opts);
    return res.info
      ? { digest: res.info.digest, size: Number(res.info.size), labels: res.info.labels }
      : undefined;
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return undefined;
    throw e;
  }
}

/**
 * Replaces the labels of a blob named in `fields` (e.g. `["labels.containerd.io/gc.ref.content.config"]`)
 * or all labels when `fields` is empty.
 *
 * @example
 * ```ts ignore
 * await updateContentLabels(conn, digest, { "containerd.io/uncompressed": diffId }, ["labels.containerd.io/uncompressed"]);
 * ```
 */
export async function updateContentLabels(
  conn: Containerd,
  digest: string,
  labels: Record<string, string>,
  fields: string[],
  opts: CallOpts = {},
): Promise<void> {
  const c = conn.client(ContentClient);
  await conn.unary(
    "Content.Update",
    c.update.bind(c),
    { info: { digest, size: 0n, createdAt: undefined, updatedAt: undefined, labels }, updateMask: fields },
    opts,
  );
}

/**
 * Deletes a blob; absent blobs are not an error.
 *
 * @example
 * ```ts ignore
 * await deleteContent(conn, "sha256:…");
 * ```
 */
export async function deleteContent(conn: Containerd, digest: string, opts: CallOpts = {}): Promise<void> {
  const c = conn.client(ContentClient);
  try {
    await conn.unary("Content.Delete", c.delete.bind(c), { digest }, opts);
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return;
    throw e;
  }
}

/**
 * Lists blobs, optionally filtered (containerd filter syntax, e.g. `labels."cdrv"==1`).
 *
 * @example
 * ```ts ignore
 * const blobs = await listContent(conn);
 * ```
 */
export function listContent(
  conn: Containerd,
  filters: string[] = [],
  opts: CallOpts = {},
): Promise<ContentInfo[]> {
  const c = conn.client(ContentClient);
  const out: ContentInfo[] = [];
  return new Promise((resolve, reject) => {
    const stream = c.list({ filters }, conn.metadata(opts.namespace), conn.callOptions(opts));
    stream.on("data", (r: { info: { digest: string; size: bigint; labels: Record<string, string> }[] }) => {
      for (const i of r.info) out.push({ digest: i.digest, size: Number(i.size), labels: i.labels });
    });
    stream.on(
      "error",
      (e: grpc.ServiceError) => reject(new ContainerdError("Content.List", e.code, e.details)),
    );
    stream.on("end", () => resolve(out));
  });
}

/**
 * Ingests in progress (partial writes), by ref.
 *
 * @example
 * ```ts ignore
 * const refs = await listIngests(conn);
 * ```
 */
export async function listIngests(
  conn: Containerd,
  opts: CallOpts = {},
): Promise<{ ref: string; offset: number; expected: string }[]> {
  const c = conn.client(ContentClient);
  const res = await conn.unary("Content.ListStatuses", c.listStatuses.bind(c), { filters: [] }, opts);
  return res.statuses.map((s) => ({ ref: s.ref, offset: Number(s.offset), expected: s.expected }));
}

/**
 * Drops a partial ingest; absent refs are not an error.
 *
 * @example
 * ```ts ignore
 * await abortIngest(conn, "cdrv-pull-1-sha256:…");
 * ```
 */
export async function abortIngest(conn: Containerd, ref: string, opts: CallOpts = {}): Promise<void> {
  const c = conn.client(ContentClient);
  try {
    await conn.unary("Content.Abort", c.abort.bind(c), { ref }, opts);
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return;
    throw e;
  }
}

/**
 * Reads a whole blob (meant for manifests and configs, which are small).
 *
 * @example
 * ```ts ignore
 * const bytes = await readContent(conn, manifestDigest);
 * ```
 */
export function readContent(conn: Containerd, digest: string, opts: CallOpts = {}): Promise<Uint8Array> {
  const c = conn.client(ContentClient);
  const parts: Uint8Array[] = [];
  let total = 0;
  return new Promise((resolve, reject) => {
    const stream = c.read(
      { digest, offset: 0n, size: 0n },
      conn.metadata(opts.namespace),
      conn.callOptions(opts),
    );
    const onAbort = () => stream.cancel();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (r: ReadContentResponse) => {
      parts.push(r.data);
      total += r.data.length;
    });
    stream.on("error", (e: grpc.ServiceError) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new ContainerdError("Content.Read", e.code, e.details));
    });
    stream.on("end", () => {
      opts.signal?.removeEventListener("abort", onAbort);
      resolve(concatBytes(parts));
    });
  });
}

/** What {@linkcode ContentWriter.open} needs. */
export interface WriterOpts extends LeaseCallOpts {
  /** Ingest ref; unique per writer (a second writer of one ref gets "locked"). */
  ref: string;
  /** Expected digest (`sha256:…`): verified here before COMMIT and by containerd on commit. */
  expected: string;
  /** Expected size in bytes. */
  total: number;
}

function req(p: Partial<WriteContentRequest>): WriteContentRequest {
  return {
    action: WriteAction.STAT,
    ref: "",
    total: 0n,
    expected: "",
    offset: 0n,
    data: new Uint8Array(0),
    labels: {},
    ...p,
  };
}

/**
 * One Content.Write stream. {@linkcode ContentWriter.open} returns `undefined` when the blob already
 * exists in the namespace (nothing to write). Bytes are hashed while written; a digest or size mismatch
 * cancels the stream before COMMIT with a {@linkcode ContentMismatchError}.
 *
 * @example
 * ```ts ignore
 * const w = await ContentWriter.open(conn, { ref, expected: desc.digest, total: desc.size, lease });
 * if (w) {
 *   for await (const chunk of body) await w.write(chunk);
 *   await w.commit({ "containerd.io/gc.ref.content.config": configDigest });
 * }
 * ```
 */
export class ContentWriter {
  #call: grpc.ClientDuplexStream<WriteContentRequest, WriteContentResponse>;
  #opts: WriterOpts;
  #hash: Hash;
  #offset = 0;
  #buf: Uint8Array;
  #bufLen = 0;
  #done: Promise<void>;
  #failed: ContainerdError | undefined;
  #firstResponse: Promise<void>;
  #closed = false;

  private constructor(conn: Containerd, opts: WriterOpts) {
    this.#opts = opts;
    this.#hash = createHash("sha256");
    this.#buf = new Uint8Array(Math.min(WRITE_CHUNK, Math.max(opts.total, 1)));
    const c = conn.client(ContentClient);
    const md = conn.metadata(opts.namespace);
    if (opts.lease) md.set(LEASE_HEADER, opts.lease);
    this.#call = c.write(md, conn.callOptions(opts));
    let gotFirst!: () => void;
    this.#firstResponse = new Promise((r) => gotFirst = r);
    this.#done = new Promise<void>((resolve, reject) => {
      this.#call.on("data", () => gotFirst());
      this.#call.on("error", (e: grpc.ServiceError) => {
        this.#failed = new ContainerdError("Content.Write", e.code, e.details || e.message);
        gotFirst();
        reject(this.#failed);
      });
      this.#call.on("end", () => resolve());
    });
    this.#done.catch(() => {});
    if (opts.signal?.aborted) this.#call.cancel();
    else opts.signal?.addEventListener("abort", () => this.#call.cancel(), { once: true });
  }

  /**
   * Opens the stream and sends the STAT; `undefined` when containerd already has the blob.
   */
  static async open(conn: Containerd, opts: WriterOpts): Promise<ContentWriter | undefined> {
    const w = new ContentWriter(conn, opts);
    w.#call.write(
      req({ action: WriteAction.STAT, ref: opts.ref, total: BigInt(opts.total), expected: opts.expected }),
    );
    await w.#firstResponse;
    if (w.#failed) {
      if (w.#failed.alreadyExists) return undefined;
      throw w.#failed;
    }
    return w;
  }

  /** Bytes accepted so far. */
  get written(): number {
    return this.#offset + this.#bufLen;
  }

  async #send(msg: WriteContentRequest): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (!this.#call.write(msg)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#call.off("drain", done);
          this.#call.off("error", done);
          resolve();
        };
        this.#call.on("drain", done);
        this.#call.on("error", done);
      });
    }
    if (this.#failed) throw this.#failed;
  }

  async #flush(): Promise<void> {
    if (this.#bufLen === 0) return;
    const data = this.#buf.slice(0, this.#bufLen);
    const offset = this.#offset;
    this.#offset += this.#bufLen;
    this.#bufLen = 0;
    await this.#send(req({ action: WriteAction.WRITE, ref: this.#opts.ref, offset: BigInt(offset), data }));
  }

  /** Appends bytes (buffered into messages of up to 1 MiB). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.written + chunk.length > this.#opts.total) {
      this.cancel();
      throw new ContentMismatchError(
        this.#opts.expected,
        "(unknown)",
        this.#opts.total,
        this.written + chunk.length,
      );
    }
    this.#hash.update(chunk);
    let pos = 0;
    while (pos < chunk.length) {
      const n = Math.min(this.#buf.length - this.#bufLen, chunk.length - pos);
      this.#buf.set(chunk.subarray(pos, pos + n), this.#bufLen);
      this.#bufLen += n;
      pos += n;
      if (this.#bufLen === this.#buf.length) await this.#flush();
    }
  }

  /**
   * Verifies size and digest, then commits with `labels`. An ALREADY_EXISTS answer (another writer
   * committed the same blob meanwhile) counts as success.
   */
  async commit(labels: Record<string, string> = {}): Promise<void> {
    const size = this.written;
    const actual = "sha256:" + this.#hash.digest("hex");
    if (
      size !== this.#opts.total ||
      (this.#opts.expected.startsWith("sha256:") && actual !== this.#opts.expected)
    ) {
      this.cancel();
      throw new ContentMismatchError(this.#opts.expected, actual, this.#opts.total, size);
    }
    await this.#flush();
    await this.#send(
      req({
        action: WriteAction.COMMIT,
        ref: this.#opts.ref,
        total: BigInt(this.#opts.total),
        expected: this.#opts.expected,
        offset: BigInt(this.#offset),
        labels,
      }),
    );
    this.#call.end();
    this.#closed = true;
    try {
      await this.#done;
    } catch (e) {
      if (e instanceof ContainerdError && e.alreadyExists) return;
      throw e;
    }
  }

  /** Cancels the stream; the ingest stays until {@linkcode abortIngest} (or the lease goes). */
  cancel(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#call.cancel();
  }
}
