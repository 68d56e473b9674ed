/**
 * containerd's Snapshots service (one snapshotter per call, e.g. `overlayfs`).
 *
 * Unpacking a layer is Prepare (an active snapshot on the parent chain id) → Diff.Apply onto its mounts
 * → Commit under the layer's chain id. Committed snapshots named by chain id are what `ctr run` and
 * containers use as parents.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { Mount } from "../gen/containerd/types/mount.ts";
import { Kind, SnapshotsClient } from "../gen/containerd/services/snapshots/v1/snapshots.ts";
import { type CallOpts, type Containerd, ContainerdError } from "./connection.ts";
import { type LeaseCallOpts, leased } from "./leases.ts";

export type { Mount };

/** What Stat and List report about a snapshot. */
export interface SnapshotInfo {
  name: string;
  parent: string;
  kind: "view" | "active" | "committed" | "unknown";
  labels: Record<string, string>;
}

function kindName(k: Kind): SnapshotInfo["kind"] {
  return k === Kind.VIEW
    ? "view"
    : k === Kind.ACTIVE
    ? "active"
    : k === Kind.COMMITTED
    ? "committed"
    : "unknown";
}

/**
 * Creates an active snapshot `key` on `parent` ("" for none) and returns its mounts.
 *
 * @example
 * ```ts ignore
 * const mounts = await prepareSnapshot(conn, "overlayfs", "extract-1", parentChainId, { lease });
 * ```
 */
export async function prepareSnapshot(
  conn: Containerd,
  snapshotter: string,
  key: string,
  parent: string,
  opts: LeaseCallOpts & { labels?: Record<string, string> } = {},
): Promise<Mount[]> {
  const c = conn.client(SnapshotsClient);
  const res = await conn.unary(
    "Snapshots.Prepare",
    leased(c.prepare.bind(c), opts.lease),
    { snapshotter, key, parent, labels: opts.labels ?? {} },
    opts,
  );
  return res.mounts;
}

/**
 * Commits active snapshot `key` as `name`.
 *
 * @example
 * ```ts ignore
 * await commitSnapshot(conn, "overlayfs", chainId, "extract-1", { lease });
 * ```
 */
export async function commitSnapshot(
  conn: Containerd,
  snapshotter: string,
  name: string,
  key: string,
  opts: LeaseCallOpts & { labels?: Record<string, string> } = {},
): Promise<void> {
  const c = conn.client(SnapshotsClient);
  await conn.unary(
    "Snapshots.Commit",
    leased(c.commit.bind(c), opts.lease),
    { snapshotter, name, key, labels: opts.labels ?? {} },
    opts,
  );
}

/**
 * Removes a snapshot; a missing one is not an error.
 *
 * @example
 * ```ts ignore
 * await removeSnapshot(conn, "overlayfs", "extract-1");
 * ```
 */
export async function removeSnapshot(
  conn: Containerd,
  snapshotter: string,
  key: string,
  opts: CallOpts = {},
): Promise<void> {
  const c = conn.client(SnapshotsClient);
  try {
    await conn.unary("Snapshots.Remove", c.remove.bind(c), { snapshotter, key }, opts);
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return;
    throw e;
  }
}

/**
 * Info about snapshot `key`, or undefined when it does not exist.
 *
 * @example
 * ```ts ignore
 * const info = await statSnapshot(conn, "overlayfs", chainId);
 * if (info?.kind === "committed") ...
 * ```
 */
export async function statSnapshot(
  conn: Containerd,
  snapshotter: string,
  key: string,
  opts: CallOpts = {},
): Promise<SnapshotInfo | undefined> {
  const c = conn.client(SnapshotsClient);
  try {
    const res = await conn.unary("Snapshots.Stat", c.stat.bind(c), { snapshotter, key }, opts);
    const i = res.info;
    return i ? { name: i.name, parent: i.parent, kind: kindName(i.kind), labels: i.labels } : undefined;
  } catch (e) {
    if (e instanceof ContainerdError && e.notFound) return undefined;
    throw e;
  }
}

/**
 * Lists the snapshots of a snapshotter.
 *
 * @example
 * ```ts ignore
 * const all = await listSnapshots(conn, "overlayfs");
 * ```
 */
export function listSnapshots(
  conn: Containerd,
  snapshotter: string,
  opts: CallOpts = {},
): Promise<SnapshotInfo[]> {
  const c = conn.client(SnapshotsClient);
  const out: SnapshotInfo[] = [];
  return new Promise((resolve, reject) => {
    const s = c.list({ snapshotter, filters: [] }, conn.metadata(opts.namespace), conn.callOptions(opts));
    s.on(
      "data",
      (r: { info: { name: string; parent: string; kind: Kind; labels: Record<string, string> }[] }) => {
        for (const i of r.info) {
          out.push({ name: i.name, parent: i.parent, kind: kindName(i.kind), labels: i.labels });
        }
      },
    );
    s.on("error", (e: grpc.ServiceError) => reject(new ContainerdError("Snapshots.List", e.code, e.details)));
    s.on("end", () => resolve(out));
  });
}
