/**
 * containerd's Containers service: the metadata record of a container (spec, snapshot, runtime, labels).
 *
 * @module
 */
import { type Container, ContainersClient } from "../gen/containerd/services/containers/v1/containers.ts";
import type { Any } from "../gen/google/protobuf/any.ts";
import { Options as RuncOptions } from "../gen/containerd/runc/options/oci.ts";
import { Options as RuntimeOptions } from "../gen/containerd/runtimeoptions/v1/api.ts";
import type { CallOpts, Containerd } from "./connection.ts";

/** The OCI runtime spec type URL containerd expects (the value is the spec as JSON). */
export const SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
/** The runc shim's options type URL. */
export const RUNC_OPTIONS_TYPE_URL = "containerd.runc.v1.Options";
/** The type URL of the options every other shim (runsc, Kata) takes: a config file's path. */
export const RUNTIME_OPTIONS_TYPE_URL = "runtimeoptions.v1.Options";

/**
 * What a runtime's shim gets with the container: the runc shim's OCI runtime binary (BinaryName), or, for
 * any other shim, the path of its own config file (ConfigPath). Neither: no options (the shim's defaults).
 */
export interface ShimOptions {
  binaryName?: string;
  configPath?: string;
}

/**
 * The Any containerd stores as the container's runtime options and hands to the shim at task creation
 * (when the task itself brings none).
 *
 * @example
 * ```ts
 * shimOptionsAny({ configPath: "/etc/containerd/runsc.toml" })?.typeUrl; // "runtimeoptions.v1.Options"
 * ```
 */
export function shimOptionsAny(o: ShimOptions): Any | undefined {
  if (o.binaryName) {
    const value = RuncOptions.encode(RuncOptions.fromPartial({ binaryName: o.binaryName })).finish();
    return { typeUrl: RUNC_OPTIONS_TYPE_URL, value };
  }
  if (!o.configPath) return undefined;
  const value = RuntimeOptions.encode(RuntimeOptions.fromPartial({ configPath: o.configPath })).finish();
  return { typeUrl: RUNTIME_OPTIONS_TYPE_URL, value };
}

/** What a new container record holds. */
export interface NewContainer {
  id: string;
  /** image name as stored in containerd */
  image: string;
  labels: Record<string, string>;
  /** the OCI runtime spec, as a JSON string or a value to serialize */
  spec: unknown;
  snapshotter: string;
  snapshotKey: string;
  runtime: string;
  /** options for the runtime's shim (none: the shim's defaults) */
  runtimeOptions?: ShimOptions;
}

/**
 * Creates a container record.
 *
 * @example
 * ```ts ignore
 * await createContainer(conn, { id: "web-1", image, labels: {}, spec, snapshotter: "overlayfs", snapshotKey: "web-1", runtime: "io.containerd.runc.v2" });
 * ```
 */
export async function createContainer(conn: Containerd, c: NewContainer, opts: CallOpts = {}): Promise<void> {
  const client = conn.client(ContainersClient);
  await conn.unary("Containers.Create", client.create.bind(client), {
    container: {
      id: c.id,
      labels: c.labels,
      image: c.image,
      runtime: { name: c.runtime, options: c.runtimeOptions && shimOptionsAny(c.runtimeOptions) },
      spec: {
        typeUrl: SPEC_TYPE_URL,
        value: new TextEncoder().encode(typeof c.spec === "string" ? c.spec : JSON.stringify(c.spec)),
      },
      snapshotter: c.snapshotter,
      snapshotKey: c.snapshotKey,
      createdAt: undefined,
      updatedAt: undefined,
      extensions: {},
    },
  }, opts);
}

/** A container record with its spec parsed. */
export interface ContainerRecord {
  id: string;
  image: string;
  labels: Record<string, string>;
  // deno-lint-ignore no-explicit-any -- the OCI spec as containerd stored it
  spec: any;
  snapshotter: string;
  snapshotKey: string;
  runtime: string;
}

function toRecord(c: Container): ContainerRecord {
  return {
    id: c.id,
    image: c.image,
    labels: c.labels,
    spec: c.spec ? JSON.parse(new TextDecoder().decode(c.spec.value)) : undefined,
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    runtime: c.runtime?.name ?? "",
  };
}

/**
 * Reads a container record; rejects with a NOT_FOUND ContainerdError when there is none.
 *
 * @example
 * ```ts ignore
 * const rec = await getContainer(conn, "web-1");
 * ```
 */
export async function getContainer(
  conn: Containerd,
  id: string,
  opts: CallOpts = {},
): Promise<ContainerRecord> {
  const client = conn.client(ContainersClient);
  const res = await conn.unary("Containers.Get", client.get.bind(client), { id }, opts);
  return toRecord(res.container!);
}

/**
 * Lists containers matching containerd filters (e.g. `labels."nomad.alloc_id"==abc`).
 *
 * @example
 * ```ts ignore
 * const all = await listContainers(conn, []);
 * ```
 */
export async function listContainers(
  conn: Containerd,
  filters: string[],
  opts: CallOpts = {},
): Promise<ContainerRecord[]> {
  const client = conn.client(ContainersClient);
  const res = await conn.unary("Containers.List", client.list.bind(client), { filters }, opts);
  return res.containers.map(toRecord);
}

/**
 * Deletes a container record; a missing one is not an error.
 *
 * @example
 * ```ts ignore
 * await deleteContainer(conn, "web-1");
 * ```
 */
export async function deleteContainer(conn: Containerd, id: string, opts: CallOpts = {}): Promise<void> {
  const client = conn.client(ContainersClient);
  try {
    await conn.unary("Containers.Delete", client.delete.bind(client), { id }, opts);
  } catch (e) {
    if (!(e as { notFound?: boolean }).notFound) throw e;
  }
}
