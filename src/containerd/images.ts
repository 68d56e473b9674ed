/**
 * containerd's Images service: named image records pointing at a target descriptor (index or manifest).
 *
 * An image record is a garbage-collection root: containerd keeps its target blob and, through the gc
 * labels on the blobs, everything the target references.
 *
 * @module
 */
import { ImagesClient } from "../gen/containerd/services/images/v1/images.ts";
import { type CallOpts, type Containerd, ContainerdError } from "./connection.ts";

/** An OCI descriptor with a JS number size (images are far below 2^53 bytes). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An image record. */
export interface ImageRecord {
  name: string;
  labels: Record<string, string>;
  target: Descriptor;
}

function toWire(img: ImageRecord) {
  return {
    name: img.name,
    labels: img.labels,
    target: {
      mediaType: img.target.mediaType,
      digest: img.target.digest,
      size: BigInt(img.target.size),
      annotations: img.target.annotations ?? {},
    },
    createdAt: undefined,
    updatedAt: undefined,
  };
}

function fromWire(img: {
  name: string;
  labels: Record<string, string>;
  target?: { mediaType: string; digest: string; size: bigint; annotations: Record<string, string> };
}): ImageRecord {
  const t = img.target ?? { mediaType: "", digest: "", size: 0n, annotations: {} };
  return {
    name: img.name,
    labels: img.labels,
    target: { mediaType: t.mediaType, digest: t.digest, size: Number(t.size), annotations: t.annotations },
  };
}

/**
 * The image record of `name`, or undefined when there is none.
 *
 * @example
 * ```ts ignore
 * const img = await getImage(conn, "docker.io/library/busybox:latest");
 * ```
 */
export async function getImage(
  conn: Containerd,
  name: string,
  opts: CallOpts = {},
): Promise<ImageRecord | undefined> {
  const c = conn.client(ImagesClient);
  try {
    const res = await conn.unary("Images.Get", c.get.bind(c), { name }, opts);
    return res.image ? fromWire(res.image) : undefined;
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return undefined;
    throw e;
  }
}

/**
 * Creates the record, or updates target and labels when `name` exists (what `ctr image pull` does).
 *
 * @example
 * ```ts ignore
 * await putImage(conn, { name, labels: {}, target: { mediaType, digest, size } });
 * ```
 */
export async function putImage(
  conn: Containerd,
  img: ImageRecord,
  opts: CallOpts = {},
): Promise<ImageRecord> {
  const c = conn.client(ImagesClient);
  try {
    const res = await conn.unary("Images.Create", c.create.bind(c), { image: toWire(img) }, opts);
    return fromWire(res.image ?? toWire(img));
  } catch (e) {
    if (!(e instanceof ContainerdError && e.alreadyExists)) throw e;
  }
  const res = await conn.unary(
    "Images.Update",
    c.update.bind(c),
    { image: toWire(img), updateMask: ["target", ...Object.keys(img.labels).map((k) => `labels.${k}`)] },
    opts,
  );
  return fromWire(res.image ?? toWire(img));
}

/**
 * Lists image records, optionally filtered (e.g. `name==docker.io/library/busybox:latest`).
 *
 * @example
 * ```ts ignore
 * const all = await listImages(conn);
 * ```
 */
export async function listImages(
  conn: Containerd,
  filters: string[] = [],
  opts: CallOpts = {},
): Promise<ImageRecord[]> {
  const c = conn.client(ImagesClient);
  const res = await conn.unary("Images.List", c.list.bind(c), { filters }, opts);
  return res.images.map(fromWire);
}

/**
 * Deletes an image record; with `sync`, containerd collects what only it referenced before answering.
 * A missing record is not an error.
 *
 * @example
 * ```ts ignore
 * await deleteImage(conn, name, { sync: true });
 * ```
 */
export async function deleteImage(
  conn: Containerd,
  name: string,
  opts: CallOpts & { sync?: boolean } = {},
): Promise<void> {
  const c = conn.client(ImagesClient);
  try {
    await conn.unary("Images.Delete", c.delete.bind(c), { name, sync: opts.sync ?? false }, opts);
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return;
    throw e;
  }
}
