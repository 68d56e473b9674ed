/**
 * Imports an image archive into containerd instead of pulling it: an OCI layout tar (`oci-archive`,
 * `docker save` of Docker 25+) or a classic `docker save` tar (`docker-archive`: manifest.json with
 * RepoTags, uncompressed layers). The archive is read in place with the tar reader; its blobs go through
 * Content.Write (digests checked), the image record is created with Images.Create, and the layers are
 * unpacked by the same code as a pull ({@linkcode localImage}).
 *
 * The image's name comes from the archive: `io.containerd.image.name` or a full-reference
 * `org.opencontainers.image.ref.name` annotation in index.json, else RepoTags in manifest.json. The
 * caller names the image it wants; an archive without it is an error that lists what it holds.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Containerd } from "../containerd/connection.ts";
import { ContentWriter, updateContentLabels } from "../containerd/content.ts";
import { type Descriptor, putImage } from "../containerd/images.ts";
import { createLease, deleteLease } from "../containerd/leases.ts";
import type { Logger } from "../log/hclog.ts";
import { indexTar, type TarEntry } from "./tar.ts";
import { normalizeReference } from "./reference.ts";
import {
  defaultPlatform,
  type ImageInfo,
  localImage,
  MANAGED_LABEL,
  type Platform,
  selectManifest,
} from "./pull.ts";

/** The archive cannot be imported (unreadable, not an image archive, or not holding the wanted image). */
export class LoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LoadError";
  }
}

/** Options of {@linkcode loadArchive}. */
export interface LoadOptions {
  snapshotter: string;
  platform?: Platform;
  signal?: AbortSignal;
  logger?: Logger;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";

interface IndexEntry extends Descriptor {
  annotations?: Record<string, string>;
  platform?: Platform;
}

interface Manifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** One image an archive holds: its names and how to write its blobs. */
interface Candidate {
  names: string[];
  target: Descriptor;
}

const dec = new TextDecoder();

function normalized(name: string): string | undefined {
  try {
    return normalizeReference(name);
  } catch {
    return undefined;
  }
}

/** An open archive: entries by name, read in place. */
class Archive {
  constructor(readonly file: Deno.FsFile, readonly entries: Map<string, TarEntry>) {}

  static async open(path: string): Promise<Archive> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      throw new LoadError(`cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const entries = await indexTar((off, len) => readAt(file, off, len));
      return new Archive(file, entries);
    } catch (e) {
      file.close();
      throw new LoadError(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  async bytes(name: string): Promise<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new LoadError(`the archive has no ${name}`);
    return await readAt(this.file, e.offset, e.size);
  }

  async json<T>(name: string): Promise<T> {
    try {
      return JSON.parse(dec.decode(await this.bytes(name))) as T;
    } catch (e) {
      if (e instanceof LoadError) throw e;
      throw new LoadError(`${name} in the archive is not JSON: ${(e as Error).message}`);
    }
  }

  /** Streams an entry in chunks. */
  async *chunks(name: string, chunk = 1024 * 1024): AsyncGenerator<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new LoadError(`the archive has no ${name}`);
    for (let off = 0; off < e.size; off += chunk) {
      yield await readAt(this.file, e.offset + off, Math.min(chunk, e.size - off));
    }
  }

  close(): void {
    this.file.close();
  }
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let n = 0;
  while (n < length) {
    const r = await file.read(out.subarray(n));
    if (r === null) break;
    n += r;
  }
  return out.subarray(0, n);
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(":", "/")}`;
}

/** The images an OCI layout archive lists in index.json, with their names. */
async function ociCandidates(a: Archive): Promise<Candidate[]> {
  const index = await a.json<{ manifests?: IndexEntry[] }>("index.json");
  return (index.manifests ?? []).map((m) => {
    const ann = m.annotations ?? {};
    const names = [ann["io.containerd.image.name"], ann["org.opencontainers.image.ref.name"]]
      .filter((n): n is string => !!n && (n.includes("/") || n.includes(":")))
      .map(normalized).filter((n): n is string => n !== undefined);
    return { names: [...new Set(names)], target: { mediaType: m.mediaType, digest: m.digest, size: m.size } };
  });
}

/** Writes one blob of the archive (streamed, digest checked) unless containerd has it; sets labels. */
async function writeBlob(
  conn: Containerd,
  lease: string,
  d: Descriptor,
  body: () => AsyncIterable<Uint8Array>,
  labels: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  const w = await ContentWriter.open(conn, {
    ref: `cdrv-load-${crypto.randomUUID()}-${d.digest}`,
    expected: d.digest,
    total: d.size,
    lease,
    signal,
  });
  if (!w) {
    if (Object.keys(labels).length) {
      await updateContentLabels(conn, d.digest, labels, Object.keys(labels).map((k) => `labels.${k}`), {
        signal,
      });
    }
    return;
  }
  try {
    for await (const c of body()) await w.write(c);
    await w.commit(labels);
  } catch (e) {
    w.cancel();
    throw e;
  }
}

function manifestLabels(m: Manifest): Record<string, string> {
  const labels: Record<string, string> = { "containerd.io/gc.ref.content.config": m.config.digest };
  m.layers.forEach((l, i) => labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest);
  return labels;
}

/** Writes a platform manifest's layers, config and the manifest itself from an OCI layout archive. */
async function writeOciManifest(
  conn: Containerd,
  lease: string,
  a: Archive,
  d: Descriptor,
  signal?: AbortSignal,
): Promise<void> {
  const m = await a.json<Manifest>(blobPath(d.digest));
  if (!m.config?.digest || !Array.isArray(m.layers)) {
    throw new LoadError(`manifest ${d.digest} has no config or layers`);
  }
  const config = await a.json<{ rootfs?: { diff_ids?: string[] } }>(blobPath(m.config.digest));
  const diffIds = config.rootfs?.diff_ids ?? [];
  for (const [i, l] of m.layers.entries()) {
    await writeBlob(
      conn,
      lease,
      l,
      () => a.chunks(blobPath(l.digest)),
      diffIds[i] ? { "containerd.io/uncompressed": diffIds[i] } : {},
      signal,
    );
  }
  await writeBlob(conn, lease, m.config, () => a.chunks(blobPath(m.config.digest)), {}, signal);
  await writeBlob(conn, lease, d, () => a.chunks(blobPath(d.digest)), manifestLabels(m), signal);
}

async function sha256Of(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ digest: string; size: number; gzip: boolean }> {
  const h = createHash("sha256");
  let size = 0;
  let gzip: boolean | undefined;
  for await (const c of chunks) {
    if (gzip === undefined) gzip = c[0] === 0x1f && c[1] === 0x8b;
    h.update(c);
    size += c.length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size, gzip: gzip ?? false };
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Imports a classic docker-save entry: hashes its files and writes a Docker schema 2 manifest for it. */
async function writeDockerSave(
  conn: Containerd,
  lease: string,
  a: Archive,
  entry: { Config: string; Layers: string[] },
  signal?: AbortSignal,
): Promise<Descriptor> {
  const configBytes = await a.bytes(entry.Config);
  const config = JSON.parse(dec.decode(configBytes)) as { rootfs?: { diff_ids?: string[] } };
  const diffIds = config.rootfs?.diff_ids ?? [];
  const configDesc: Descriptor = {
    mediaType: DOCKER_CONFIG,
    digest: `sha256:${createHash("sha256").update(configBytes).digest("hex")}`,
    size: configBytes.length,
  };
  const layers: Descriptor[] = [];
  for (const [i, path] of entry.Layers.entries()) {
    const s = await sha256Of(a.chunks(path));
    const d: Descriptor = {
      mediaType: s.gzip
        ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
        : "application/vnd.docker.image.rootfs.diff.tar",
      digest: s.digest,
      size: s.size,
    };
    await writeBlob(
      conn,
      lease,
      d,
      () => a.chunks(path),
      diffIds[i] ? { "containerd.io/uncompressed": diffIds[i] } : {},
      signal,
    );
    layers.push(d);
  }
  await writeBlob(conn, lease, configDesc, () => once(configBytes), {}, signal);
  const manifest: Manifest = { mediaType: DOCKER_MANIFEST, config: configDesc, layers };
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, ...manifest }));
  const md: Descriptor = {
    mediaType: DOCKER_MANIFEST,
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size: bytes.length,
  };
  await writeBlob(conn, lease, md, () => once(bytes), manifestLabels(manifest), signal);
  return md;
}

/**
 * Imports the image named `want` from the archive at `path` into containerd and unpacks it; returns it
 * as {@linkcode localImage} sees it.
 *
 * @throws {LoadError} when the archive cannot be read or does not hold `want`.
 *
 * @example
 * ```ts ignore
 * const info = await loadArchive(conn, "/alloc/x/task/local/busybox.tar", "example.com/busybox:1", {
 *   snapshotter: "overlayfs",
 * });
 * ```
 */
export async function loadArchive(
  conn: Containerd,
  path: string,
  want: string,
  opts: LoadOptions,
): Promise<ImageInfo> {
  const name = normalized(want);
  if (!name) throw new LoadError(`${JSON.stringify(want)} is not an image reference`);
  const a = await Archive.open(path);
  const lease = await createLease(conn, { id: `cdrv-load-${crypto.randomUUID()}`, expireMs: 60 * 60_000 });
  try {
    const held: string[] = [];
    const target = await importOci(conn, lease, a, name, held, opts) ??
      await importDockerSave(conn, lease, a, name, held, opts);
    if (!target) {
      if (!a.has("index.json") && !a.has("manifest.json")) {
        throw new LoadError(
          "it is neither an OCI layout archive (index.json) nor a docker save archive (manifest.json)",
        );
      }
      throw new LoadError(
        `it holds ${held.length ? [...new Set(held)].join(", ") : "no named image"}, not ${name}`,
      );
    }
    await putImage(conn, { name, labels: { [MANAGED_LABEL]: "true" }, target }, { signal: opts.signal });
    const info = await localImage(conn, name, opts);
    if (!info) throw new LoadError(`${name} was imported but containerd does not show it complete`);
    return info;
  } finally {
    a.close();
    await deleteLease(conn, lease).catch(() => {});
  }
}

/**
 * An OCI layout archive (index.json): writes the blobs of the image named `name` (for an index, the
 * platform's manifest and the index) and returns its descriptor; adds every name the archive holds to `held`.
 */
async function importOci(
  conn: Containerd,
  lease: string,
  a: Archive,
  name: string,
  held: string[],
  opts: LoadOptions,
): Promise<Descriptor | undefined> {
  if (!a.has("index.json")) return undefined;
  const candidates = await ociCandidates(a);
  for (const x of candidates) held.push(...x.names);
  const target = candidates.find((x) => x.names.includes(name))?.target;
  if (!target) return undefined;
  if (target.mediaType === OCI_INDEX || target.mediaType === DOCKER_LIST) {
    const index = await a.json<{ manifests?: IndexEntry[] }>(blobPath(target.digest));
    const chosen = selectManifest(index, opts.platform ?? defaultPlatform());
    if (!chosen) throw new LoadError(`the archive's index for ${name} has no manifest for this platform`);
    await writeOciManifest(conn, lease, a, chosen.desc, opts.signal);
    await writeBlob(conn, lease, target, () => a.chunks(blobPath(target.digest)), {
      [`containerd.io/gc.ref.content.m.${chosen.position}`]: chosen.desc.digest,
    }, opts.signal);
  } else if (target.mediaType === OCI_MANIFEST || target.mediaType === DOCKER_MANIFEST) {
    await writeOciManifest(conn, lease, a, target, opts.signal);
  } else throw new LoadError(`${name} in the archive has unsupported media type ${target.mediaType}`);
  return target;
}

/** A `docker save` archive (manifest.json): writes the image tagged `name`; adds every tag to `held`. */
async function importDockerSave(
  conn: Containerd,
  lease: string,
  a: Archive,
  name: string,
  held: string[],
  opts: LoadOptions,
): Promise<Descriptor | undefined> {
  if (!a.has("manifest.json")) return undefined;
  const entries = await a.json<{ Config: string; RepoTags?: string[]; Layers: string[] }[]>("manifest.json");
  let target: Descriptor | undefined;
  for (const e of entries) {
    const names = (e.RepoTags ?? []).map(normalized).filter((n): n is string => n !== undefined);
    held.push(...names);
    if (!target && names.includes(name)) target = await writeDockerSave(conn, lease, a, e, opts.signal);
  }
  return target;
}
