/**
 * containerd's Leases service, and the `containerd-lease` header that puts other calls under a lease.
 *
 * A lease keeps what is created under it (content, ingests, snapshots) from containerd's garbage
 * collector until the lease is deleted or its `containerd.io/gc.expire` label passes. A pull runs under
 * one lease: on success the image record's gc labels take over, on failure deleting the lease (with
 * `sync`) lets the collector remove every partial thing at once.
 *
 * @module
 */
import { LeasesClient } from "../gen/containerd/services/leases/v1/leases.ts";
import type { CallOpts, Containerd, UnaryFn } from "./connection.ts";

/** The gRPC metadata key containerd reads the lease id from. */
export const LEASE_HEADER = "containerd-lease";

/** Options of a call that may run under a lease. */
export interface LeaseCallOpts extends CallOpts {
  /** Lease id to create things under. */
  lease?: string;
}

/**
 * Wraps a bound unary method so that its call carries the `containerd-lease` header (no-op without a
 * lease). Used with {@linkcode Containerd.unary}, which builds the namespace metadata itself.
 *
 * @example
 * ```ts ignore
 * const c = conn.client(SnapshotsClient);
 * await conn.unary("Snapshots.Prepare", leased(c.prepare.bind(c), leaseId), req);
 * ```
 */
export function leased<Req, Res>(fn: UnaryFn<Req, Res>, lease: string | undefined): UnaryFn<Req, Res> {
  if (!lease) return fn;
  return (req, md, opts, cb) => {
    md.set(LEASE_HEADER, lease);
    return fn(req, md, opts, cb);
  };
}

/** A lease as containerd reports it. */
export interface LeaseInfo {
  id: string;
  labels: Record<string, string>;
}

/**
 * Creates a lease. With `expireMs`, containerd's collector drops it by itself after that long (the
 * `containerd.io/gc.expire` label), so a crash mid-pull cannot pin content forever.
 *
 * @example
 * ```ts ignore
 * const id = await createLease(conn, { id: "cdrv-pull-1", expireMs: 10 * 60_000 });
 * ```
 */
export async function createLease(
  conn: Containerd,
  lease: { id: string; labels?: Record<string, string>; expireMs?: number },
  opts: CallOpts = {},
): Promise<string> {
  const c = conn.client(LeasesClient);
  const labels = { ...lease.labels };
  if (lease.expireMs !== undefined) {
    labels["containerd.io/gc.expire"] = new Date(Date.now() + lease.expireMs).toISOString();
  }
  const res = await conn.unary("Leases.Create", c.create.bind(c), { id: lease.id, labels }, opts);
  return res.lease?.id ?? lease.id;
}

/**
 * Deletes a lease; with `sync`, containerd runs its garbage collector before answering, so what only
 * the lease held is gone when this returns. A lease that does not exist is not an error.
 *
 * @example
 * ```ts ignore
 * await deleteLease(conn, id, { sync: true });
 * ```
 */
export async function deleteLease(
  conn: Containerd,
  id: string,
  opts: CallOpts & { sync?: boolean } = {},
): Promise<void> {
  const c = conn.client(LeasesClient);
  try {
    await conn.unary("Leases.Delete", c.delete.bind(c), { id, sync: opts.sync ?? false }, opts);
  } catch (e) {
    if ((e as { notFound?: boolean }).notFound) return;
    throw e;
  }
}

/**
 * Lists leases, optionally filtered with containerd's filter syntax (e.g. `id~=^cdrv-`).
 *
 * @example
 * ```ts ignore
 * const leases = await listLeases(conn);
 * ```
 */
export async function listLeases(
  conn: Containerd,
  filters: string[] = [],
  opts: CallOpts = {},
): Promise<LeaseInfo[]> {
  const c = conn.client(LeasesClient);
  const res = await conn.unary("Leases.List", c.list.bind(c), { filters }, opts);
  return res.leases.map((l) => ({ id: l.id, labels: l.labels }));
}

/**
 * Adds an existing resource to a lease, e.g. content that was already present when a pull started, so
 * the collector keeps it until the image that references it exists.
 *
 * @example
 * ```ts ignore
 * await addLeaseResource(conn, leaseId, { id: "sha256:…", type: "content" });
 * ```
 */
export async function addLeaseResource(
  conn: Containerd,
  lease: string,
  resource: { id: string; type: string },
  opts: CallOpts = {},
): Promise<void> {
  const c = conn.client(LeasesClient);
  await conn.unary("Leases.AddResource", c.addResource.bind(c), { id: lease, resource }, opts);
}
