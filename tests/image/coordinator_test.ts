/**
 * The pull coordinator against the real containerd and registry: shared pulls, no registry request for
 * present images (also after a "restart", i.e. a new coordinator), force_pull, holders and image GC.
 */
import { getImage } from "../../src/containerd/images.ts";
import { statSnapshot } from "../../src/containerd/snapshots.ts";
import { ImageCoordinator, PullError } from "../../src/image/coordinator.ts";
import { assert, assertEquals, assertRejects } from "../harness/assert.ts";
import { waitFor } from "../harness/services.ts";
import {
  assertNothingLeft,
  badProxy,
  ctrRunEcho,
  manifestInfo,
  memoryLogger,
  settledCount,
  SNAPSHOTTER,
  T,
  withNamespace,
} from "./helpers.ts";
import type { Containerd } from "../../src/containerd/connection.ts";

function coordinator(conn: Containerd, gc = { image: false, imageDelayMs: 0 }, snapshotter = SNAPSHOTTER) {
  return new ImageCoordinator(conn, {
    snapshotter,
    hostsDir: "",
    auth: {},
    gc,
    logger: memoryLogger().logger,
  });
}

Deno.test("coordinator: 10 concurrent acquires of one ref → one download; a restart makes zero registry requests", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/busybox:1`;
    const m = await manifestInfo(T.plain, "cdrv/busybox", "1");
    const layer = m.json.layers![0].digest;
    const c = coordinator(conn);
    const blobsBefore = await settledCount("plain", `/cdrv/busybox/blobs/${layer}`);
    const manifestsBefore = await settledCount("plain", "/cdrv/busybox/manifests/");
    const t0 = performance.now();
    const infos = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.acquire(ref, `task-${i}`, { timeoutMs: 60_000 })),
    );
    console.log(`  10 concurrent acquires: ${(performance.now() - t0).toFixed(0)} ms`);
    assertEquals(
      await settledCount("plain", `/cdrv/busybox/blobs/${layer}`) - blobsBefore,
      1,
      "layer downloads",
    );
    assertEquals(
      await settledCount("plain", "/cdrv/busybox/manifests/") - manifestsBefore,
      1,
      "manifest requests",
    );
    assert(infos.every((i) => i.chainId === infos[0].chainId && i.manifestDigest === m.digest));
    assertEquals(c.holders(ref).length, 10);
    c.close();

    // The plugin restarts: a new coordinator, the image is present → not a single registry request.
    const all = await settledCount("plain");
    const c2 = coordinator(conn);
    const t1 = performance.now();
    const again = await c2.acquire(ref, "task-after-restart", { timeoutMs: 60_000 });
    console.log(`  acquire of a present image: ${(performance.now() - t1).toFixed(1)} ms`);
    assertEquals(again, infos[0]);
    assertEquals(await settledCount("plain") - all, 0, "registry requests on the second start");
    assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
    // A present image's target is resolved once: later starts reuse its manifest and config (content is
    // addressed by digest), shared by tasks and so frozen.
    const third = await c2.acquire(ref, "task-third", { timeoutMs: 60_000 });
    assert(third.config === again.config, "the resolved config is reused");
    assert(Object.isFrozen(third.config), "the shared config is frozen");

    // force_pull resolves again but downloads no blob it already has.
    const manifests = await settledCount("plain", "/manifests/");
    const blobs = await settledCount("plain", "/blobs/");
    await c2.acquire(ref, "task-force", { timeoutMs: 60_000, forcePull: true });
    assertEquals(await settledCount("plain", "/manifests/") - manifests, 1, "force_pull resolves the tag");
    assertEquals(await settledCount("plain", "/blobs/") - blobs, 0, "force_pull fetches no present blob");
    c2.close();
  });
});

Deno.test("coordinator: progress reaches every waiter; a waiter that cancels does not cancel the others", async () => {
  await withNamespace(async (conn) => {
    const ref = `${T.plain}/cdrv/redis:1`;
    const c = coordinator(conn);
    const ac = new AbortController();
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = c.acquire(ref, "a", {
      timeoutMs: 60_000,
      signal: ac.signal,
      onProgress: (p) => seenA.push(p.phase),
    });
    const b = c.acquire(ref, "b", { timeoutMs: 60_000, onProgress: (p) => seenB.push(p.phase) });
    ac.abort();
    const e = await assertRejects(() => a, PullError) as PullError;
    assertEquals(e.kind, "canceled");
    const info = await b;
    assertEquals(seenB[seenB.length - 1], "done");
    assertEquals(info.config.WorkingDir, "/data");
    assertEquals(c.holders(ref), ["b"]);
    c.close();
  });
});

Deno.test("coordinator: image GC removes an unused image after the delay; adopt and re-acquire keep it", async () => {
  await withNamespace(async (conn) => {
    const ref = `${T.plain}/cdrv/busybox-v2s2:1`;
    const c = coordinator(conn, { image: true, imageDelayMs: 300 });
    const info = await c.acquire(ref, "t1", { timeoutMs: 60_000 });
    await c.acquire(ref, "t2", { timeoutMs: 60_000 });
    c.release(ref, "t1");
    await new Promise((r) => setTimeout(r, 600));
    assert(await getImage(conn, ref), "still held by t2");

    // Released, then adopted again (a RecoverTask) before the delay: kept.
    c.release(ref, "t2");
    c.adopt(ref, "t2");
    await new Promise((r) => setTimeout(r, 600));
    assert(await getImage(conn, ref), "adopted: kept");

    c.release(ref, "t2");
    await waitFor("the image to be removed", async () => !(await getImage(conn, ref)), 5000, 100);
    await waitFor(
      "containerd to collect its snapshot",
      async () => !(await statSnapshot(conn, SNAPSHOTTER, info.chainId)),
      10_000,
      200,
    );
    c.close();
  });
});

Deno.test("coordinator: an image pulled by hand (ctr) is used without a pull and never garbage-collected", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/busybox:1`;
    await T.ctd.ctr("-n", ns, "images", "pull", "--plain-http", "--snapshotter", SNAPSHOTTER, ref);
    const c = coordinator(conn, { image: true, imageDelayMs: 50 });
    const before = await settledCount("plain");
    const info = await c.acquire(`docker://${ref}`, "t", { timeoutMs: 60_000 });
    assertEquals(await settledCount("plain") - before, 0, "no registry request");
    assertEquals((await statSnapshot(conn, SNAPSHOTTER, info.chainId))?.kind, "committed");
    c.release(ref, "t");
    await new Promise((r) => setTimeout(r, 400));
    assert(await getImage(conn, ref), "not ours: kept");
    c.close();
  });
});

Deno.test("coordinator: present in the content store but not unpacked for this snapshotter → unpacked without the registry", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/busybox:1`;
    await coordinator(conn).acquire(ref, "t", { timeoutMs: 60_000 });
    const before = await settledCount("plain");
    const native = coordinator(conn, undefined, "native");
    const info = await native.acquire(ref, "t2", { timeoutMs: 60_000 });
    assertEquals(info.snapshotter, "native");
    assertEquals(await settledCount("plain") - before, 0, "no registry request");
    assertEquals((await statSnapshot(conn, "native", info.chainId))?.kind, "committed");
    const id = `cdrv-img-native-${crypto.randomUUID().slice(0, 8)}`;
    const out = await T.ctd.ctr(
      "-n",
      ns,
      "run",
      "--rm",
      "--snapshotter",
      "native",
      ref,
      id,
      "/bin/busybox",
      "echo",
      "ok",
    );
    assertEquals(out.trim(), "ok");
    // clean the native snapshots too (withNamespace empties overlayfs)
    await T.ctd.ctr("-n", ns, "images", "rm", "--sync", ref);
  });
});

Deno.test("coordinator: an invalid reference is a PullError of kind invalid", async () => {
  await withNamespace(async (conn) => {
    const c = coordinator(conn);
    const e = await assertRejects(
      () => c.acquire("busybox:bad tag!", "t", { timeoutMs: 1000 }),
      PullError,
    ) as PullError;
    assertEquals(e.kind, "invalid");
    c.close();
  });
});

Deno.test("coordinator: a caller's image_pull_timeout returns only after the pull it gave up cleaned up", async () => {
  // The first layer downloads and is unpacked (a committed snapshot under the pull's lease); the second
  // stalls. When the only waiter's timeout fires, acquire must not return while the lease, the blobs and
  // the snapshot are still there: a failed StartTask leaves nothing (CI once saw the snapshot left).
  const layers = (await manifestInfo(T.plain, "cdrv/redis", "1")).json.layers!;
  const proxy = badProxy(T.plain, "stall", layers[1].digest);
  try {
    await withNamespace(async (conn) => {
      const c = coordinator(conn);
      try {
        for (const timeoutMs of [1500, 2500]) {
          const e = await assertRejects(
            () => c.acquire(`${proxy.addr}/cdrv/redis:1`, "t", { timeoutMs }),
            PullError,
          ) as PullError;
          assertEquals(e.kind, "timeout", e.message);
          await assertNothingLeft(conn);
        }
      } finally {
        c.close();
      }
    });
  } finally {
    await proxy.close();
  }
});
