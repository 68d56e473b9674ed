/**
 * containerd's Diff service: applies a layer blob from the content store onto snapshot mounts.
 *
 * @module
 */
import { DiffClient } from "../gen/containerd/services/diff/v1/diff.ts";
import type { Mount } from "../gen/containerd/types/mount.ts";
import type { CallOpts, Containerd } from "./connection.ts";
import type { Descriptor } from "./images.ts";

/**
 * Applies layer `desc` (compressed or not; containerd decompresses) onto `mounts` and returns the
 * descriptor of the uncompressed diff: its digest is the layer's diff id.
 *
 * @example
 * ```ts ignore
 * const applied = await applyDiff(conn, layerDesc, mounts);
 * if (applied.digest !== diffIds[i]) throw new Error("diff id mismatch");
 * ```
 */
export async function applyDiff(
  conn: Containerd,
  desc: Descriptor,
  mounts: Mount[],
  opts: CallOpts = {},
): Promise<Descriptor> {
  const c = conn.client(DiffClient);
  const res = await conn.unary(
    "Diff.Apply",
    c.apply.bind(c),
    {
      diff: {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: BigInt(desc.size),
        annotations: desc.annotations ?? {},
      },
      mounts,
      payloads: {},
    },
    opts,
  );
  const a = res.applied;
  return { mediaType: a?.mediaType ?? "", digest: a?.digest ?? "", size: Number(a?.size ?? 0n) };
}
