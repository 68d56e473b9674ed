/**
 * Image pulls against the test run's real containerd and real registries (scripts/test.sh): OCI,
 * Docker schema2, multi-platform index, basic auth, TLS with our CA via hosts.toml, a docker.io mirror,
 * a credential helper; after each pull `ctr run` of the image works.
 */
import { contentInfo, listContent } from "../../src/containerd/content.ts";
import { getImage } from "../../src/containerd/images.ts";
import { statSnapshot } from "../../src/containerd/snapshots.ts";
import { PullError } from "../../src/image/errors.ts";
import { MANAGED_LABEL, pullImage, type PullProgress } from "../../src/image/pull.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import {
  assertNothingLeft,
  ctrRunEcho,
  hostsDir,
  manifestInfo,
  memoryLogger,
  PASSWORD,
  SNAPSHOTTER,
  T,
  tokenRegistry,
  USER,
  withNamespace,
} from "./helpers.ts";

const base = { snapshotter: SNAPSHOTTER, hostsDir: "", credentials: {}, timeoutMs: 60_000 };

Deno.test("pull: OCI manifest image, unpacked, runs with ctr, gc labels in place", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/busybox:1`;
    const progress: PullProgress[] = [];
    const t0 = performance.now();
    const info = await pullImage(conn, ref, { ...base, onProgress: (p) => progress.push(p) });
    console.log(`  cold pull of ${ref}: ${(performance.now() - t0).toFixed(0)} ms`);
    const m = await manifestInfo(T.plain, "cdrv/busybox", "1");
    assertEquals(info.name, ref);
    assertEquals(info.target.digest, m.digest);
    assertEquals(info.target.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assertEquals(info.manifestDigest, m.digest);
    assertEquals(info.config.Cmd, ["/bin/sh"]);
    assertEquals(info.snapshotter, SNAPSHOTTER);
    assertEquals((await statSnapshot(conn, SNAPSHOTTER, info.chainId))?.kind, "committed");
    const img = await getImage(conn, ref);
    assertEquals(img?.labels[MANAGED_LABEL], "true");
    const manifestBlob = await contentInfo(conn, m.digest);
    assertEquals(manifestBlob?.labels["containerd.io/gc.ref.content.config"], m.json.config!.digest);
    assertEquals(manifestBlob?.labels["containerd.io/gc.ref.content.l.0"], m.json.layers![0].digest);
    const configBlob = await contentInfo(conn, m.json.config!.digest);
    assertEquals(configBlob?.labels[`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`], info.chainId);
    assertEquals(progress[0].phase, "resolve");
    assertEquals(progress[progress.length - 1].phase, "done");
    assertEquals(progress[progress.length - 1].layers.map((l) => l.done === l.size), [true]);
    assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
    assertEquals((await T.ctd.ctr("-n", ns, "leases", "ls", "-q")).trim(), "", "no lease left after success");
  });
});

Deno.test("pull: Docker schema2 image", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/busybox-v2s2:1`;
    const info = await pullImage(conn, ref, base);
    assertEquals(info.target.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
  });
});

Deno.test("pull: multi-platform index picks linux/amd64 and fetches nothing of arm64", async () => {
  await withNamespace(async (conn, ns) => {
    const ref = `${T.plain}/cdrv/multi:1`;
    const amd64 = await manifestInfo(T.plain, "cdrv/busybox", "1");
    const index = await manifestInfo(T.plain, "cdrv/multi", "1");
    const info = await pullImage(conn, ref, { ...base, platform: { os: "linux", architecture: "amd64" } });
    assertEquals(info.target.mediaType, "application/vnd.oci.image.index.v1+json");
    assertEquals(info.target.digest, index.digest);
    assertEquals(info.manifestDigest, amd64.digest);
    const blobs = new Set((await listContent(conn)).map((c) => c.digest));
    // index + amd64 manifest + config + 1 layer
    assertEquals(blobs.size, 4);
    const indexBlob = await contentInfo(conn, index.digest);
    assert(
      Object.values(indexBlob!.labels).includes(amd64.digest),
      "index gc label names the amd64 manifest",
    );
    assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
  });
});

Deno.test("pull: arm64 only → a platform error naming what the index has, nothing left", async () => {
  await withNamespace(async (conn) => {
    const e = await assertRejects(
      () =>
        pullImage(conn, `${T.plain}/cdrv/multi:1`, {
          ...base,
          platform: { os: "linux", architecture: "s390x" },
        }),
      PullError,
    ) as PullError;
    assertEquals(e.kind, "platform");
    assertMatch(e.message, /linux\/amd64/);
    await assertNothingLeft(conn);
  });
});

Deno.test("pull: basic-auth registry with the right password (task auth beats a wrong plugin password)", async () => {
  await withNamespace(async (conn, ns) => {
    const { logger, lines } = memoryLogger();
    const ref = `${T.basic}/cdrv/busybox:1`;
    await pullImage(conn, ref, {
      ...base,
      logger,
      credentials: {
        task: { username: USER, password: PASSWORD },
        plugin: { username: USER, password: "plugin-wrong-pw" },
      },
    });
    assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
    assert(!lines.some((l) => l.includes(PASSWORD)), "password never logged");
  });
});

Deno.test("pull: basic-auth registry with plugin-level credentials", async () => {
  await withNamespace(async (conn) => {
    const info = await pullImage(conn, `${T.basic}/cdrv/busybox-v2s2:1`, {
      ...base,
      credentials: { plugin: { username: USER, password: PASSWORD } },
    });
    assert(info.chainId.startsWith("sha256:"));
  });
});

Deno.test("pull: TLS registry with our CA through hosts.toml", async () => {
  const dir = await hostsDir({
    [T.tls]:
      `server = "https://${T.tls}"\n[host."https://${T.tls}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${T.ca}"\n`,
  });
  try {
    await withNamespace(async (conn, ns) => {
      const ref = `${T.tls}/cdrv/busybox:1`;
      await pullImage(conn, ref, { ...base, hostsDir: dir });
      assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pull: TLS registry with skip_verify, and the server's own keys (ca at top level)", async () => {
  const skip = await hostsDir({ [T.tls]: `server = "https://${T.tls}"\nskip_verify = true\n` });
  const top = await hostsDir({ [T.tls]: `server = "https://${T.tls}"\nca = "${T.ca}"\n` });
  try {
    await withNamespace(async (conn) => {
      await pullImage(conn, `${T.tls}/cdrv/busybox:1`, { ...base, hostsDir: skip });
    });
    await withNamespace(async (conn) => {
      await pullImage(conn, `${T.tls}/cdrv/busybox-v2s2:1`, { ...base, hostsDir: top });
    });
  } finally {
    await Deno.remove(skip, { recursive: true });
    await Deno.remove(top, { recursive: true });
  }
});

Deno.test("pull: TLS registry without a CA fails verification; loopback without hosts.toml means plain HTTP", async () => {
  const noCa = await hostsDir({ [T.tls]: `server = "https://${T.tls}"\n` });
  try {
    await withNamespace(async (conn) => {
      const e = await assertRejects(
        () => pullImage(conn, `${T.tls}/cdrv/busybox:1`, { ...base, hostsDir: noCa }),
        PullError,
      ) as PullError;
      assertEquals(e.kind, "unreachable");
      assertMatch(e.message, /TLS|certificate/i);
      assert(e.message.includes(T.tls), e.message);
      await assertNothingLeft(conn);
      const e2 = await assertRejects(
        () => pullImage(conn, `${T.tls}/cdrv/busybox:1`, base),
        PullError,
      ) as PullError;
      assertMatch(e2.message, /HTTPS.*hosts\.toml/);
      await assertNothingLeft(conn);
    });
  } finally {
    await Deno.remove(noCa, { recursive: true });
  }
});

Deno.test("pull: docker.io mirror through hosts.toml: `busybox` comes from the local registry as library/busybox:latest", async () => {
  const dir = await hostsDir({
    "docker.io":
      `server = "https://registry-1.docker.io"\n[host."http://${T.plain}"]\n  capabilities = ["pull", "resolve"]\n`,
  });
  try {
    await withNamespace(async (conn, ns) => {
      const info = await pullImage(conn, "busybox", { ...base, hostsDir: dir });
      assertEquals(info.name, "docker.io/library/busybox:latest");
      assertEquals(info.manifestDigest, (await manifestInfo(T.plain, "library/busybox", "latest")).digest);
      assertEquals((await ctrRunEcho(ns, "docker.io/library/busybox:latest")).trim(), "ok");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pull: credential helper docker-credential-<name> supplies the basic-auth password", async () => {
  const bin = await Deno.makeTempDir({ prefix: "cdrv-img-helper-" });
  const log = `${bin}/asked`;
  await Deno.writeTextFile(
    `${bin}/docker-credential-cdrvtest`,
    `#!/bin/sh\nread server\necho "$server" >>${log}\n` +
      `if [ "$1" = get ] && [ "$server" = "${T.basic}" ]; then\n` +
      `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n` +
      `else echo "credentials not found in native keychain"; exit 1; fi\n`,
  );
  await Deno.chmod(`${bin}/docker-credential-cdrvtest`, 0o755);
  const oldPath = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", `${bin}:${oldPath}`);
  try {
    await withNamespace(async (conn, ns) => {
      const { logger, lines } = memoryLogger();
      const ref = `${T.basic}/cdrv/busybox:1`;
      await pullImage(conn, ref, { ...base, logger, credentials: { helper: "cdrvtest" } });
      assertEquals((await Deno.readTextFile(log)).trim(), T.basic);
      assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
      assert(!lines.some((l) => l.includes(PASSWORD)));
      // A registry that needs no credentials never runs the helper.
      await pullImage(conn, `${T.plain}/cdrv/busybox:1`, { ...base, credentials: { helper: "cdrvtest" } });
      assertEquals((await Deno.readTextFile(log)).trim().split("\n").length, 1);
    });
    await withNamespace(async (conn) => {
      // A helper that is not installed: a clear error naming it.
      const e = await assertRejects(
        () =>
          pullImage(conn, `${T.basic}/cdrv/busybox:1`, { ...base, credentials: { helper: "cdrv-missing" } }),
        PullError,
      ) as PullError;
      assertMatch(e.message, /docker-credential-cdrv-missing/);
      await assertNothingLeft(conn);
    });
  } finally {
    Deno.env.set("PATH", oldPath);
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("pull: content already in the namespace is not downloaded again (redis shares the busybox layer)", async () => {
  await withNamespace(async (conn, ns) => {
    await pullImage(conn, `${T.plain}/cdrv/busybox:1`, base);
    const busyLayer = (await manifestInfo(T.plain, "cdrv/busybox", "1")).json.layers![0].digest;
    const { registryRequests } = await import("./helpers.ts");
    const before = (await registryRequests("plain", `/blobs/${busyLayer}`)).length;
    const info = await pullImage(conn, `${T.plain}/cdrv/redis:1`, base);
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(
      (await registryRequests("plain", `/blobs/${busyLayer}`)).length,
      before,
      "shared layer not fetched",
    );
    assertEquals(info.config.WorkingDir, "/data");
    const out = await T.ctd.ctr(
      "-n",
      ns,
      "run",
      "--rm",
      "--snapshotter",
      SNAPSHOTTER,
      `${T.plain}/cdrv/redis:1`,
      `cdrv-img-redis-${ns}`,
      "/usr/bin/redis-server",
      "--version",
    );
    assertMatch(out, /Redis server v=/);
  });
});

Deno.test("pull: bearer-token registry (Docker Hub style): anonymous token, and a token bought with basic credentials", async () => {
  const anon = tokenRegistry(T.plain);
  const authed = tokenRegistry(T.plain, { user: USER, password: PASSWORD });
  try {
    await withNamespace(async (conn, ns) => {
      const { logger, lines } = memoryLogger();
      const ref = `${anon.addr}/cdrv/busybox:1`;
      await pullImage(conn, ref, { ...base, logger });
      assertEquals(
        anon.requests.filter((r) => r.startsWith("GET /token")).length,
        1,
        "one token for the whole pull",
      );
      assert(
        anon.requests.some((r) => r.includes("scope=repository%3Acdrv%2Fbusybox%3Apull")),
        "scope passed on",
      );
      assertEquals((await ctrRunEcho(ns, ref)).trim(), "ok");
      await pullImage(conn, `${authed.addr}/cdrv/busybox-v2s2:1`, {
        ...base,
        logger,
        credentials: { task: { username: USER, password: PASSWORD } },
      });
      assert(
        !lines.some((l) => l.includes(anon.token) || l.includes(authed.token) || l.includes(PASSWORD)),
        "no token in logs",
      );
    });
    await withNamespace(async (conn) => {
      const e = await assertRejects(
        () =>
          pullImage(conn, `${authed.addr}/cdrv/busybox:1`, {
            ...base,
            credentials: { plugin: { username: USER, password: "nope-nope" } },
          }),
        PullError,
      ) as PullError;
      assertEquals(e.kind, "auth");
      assertMatch(e.message, /wrong username or password/);
      assert(e.message.includes(authed.addr));
      const e2 = await assertRejects(
        () => pullImage(conn, `${authed.addr}/cdrv/busybox:1`, base),
        PullError,
      ) as PullError;
      assertEquals(e2.kind, "auth");
      await assertNothingLeft(conn);
    });
  } finally {
    await anon.close();
    await authed.close();
  }
});

Deno.test("pull: a mirror that is down falls through to the next host in hosts.toml", async () => {
  const dir = await hostsDir({
    [T.plain]:
      `server = "http://${T.plain}"\n[host."http://127.0.0.1:${T.closedPort}"]\n  capabilities = ["pull", "resolve"]\n`,
  });
  try {
    await withNamespace(async (conn) => {
      const info = await pullImage(conn, `${T.plain}/cdrv/busybox:1`, { ...base, hostsDir: dir });
      assert(info.chainId.startsWith("sha256:"));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
