/**
 * Shared pieces of the image pull tests: the test run's containerd and registries (from scripts/test.sh's
 * environment), a fresh namespace per test that is emptied and removed afterwards, registry request
 * counting from the access log, and the check that a failed pull left nothing behind.
 *
 * @module
 */
import { Containerd } from "../../src/containerd/connection.ts";
import { abortIngest, deleteContent, listContent, listIngests } from "../../src/containerd/content.ts";
import { deleteImage, listImages } from "../../src/containerd/images.ts";
import { deleteLease, listLeases } from "../../src/containerd/leases.ts";
import { listSnapshots, removeSnapshot } from "../../src/containerd/snapshots.ts";
import { Logger } from "../../src/log/hclog.ts";
import { assertEquals } from "../harness/assert.ts";
import { PrivateContainerd } from "../harness/services.ts";

function env(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the tests through ./scripts/test.sh`);
  return v;
}

/** The snapshotter the tests unpack into (containerd's default). */
export const SNAPSHOTTER = "overlayfs";
/** Registry credentials of the basic-auth registry (scripts/lib/registry.sh). */
export const USER = "cdrv";
export const PASSWORD = "s3cret-pw";

/** The services scripts/test.sh started. */
export const T = {
  get sock() {
    return env("CDRV_TEST_CONTAINERD_SOCK");
  },
  get ctd() {
    return new PrivateContainerd(env("CDRV_TEST_CONTAINERD_DIR"));
  },
  get plain() {
    return env("CDRV_TEST_REGISTRY_PLAIN");
  },
  get basic() {
    return env("CDRV_TEST_REGISTRY_BASIC");
  },
  get tls() {
    return env("CDRV_TEST_REGISTRY_TLS");
  },
  get ca() {
    return env("CDRV_TEST_REGISTRY_CA");
  },
  get dir() {
    return env("CDRV_TEST_DIR");
  },
  /** A port nothing listens on (inside the run's port range). */
  get closedPort() {
    return Number(env("CDRV_TEST_PORT_BASE")) + 99;
  },
};

/** A logger that keeps its lines (to check that no secret is ever logged). */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger("test", "trace", (l) => lines.push(l)), lines };
}

/** A fresh namespace with a connection; removes everything in it afterwards. */
export async function withNamespace(fn: (conn: Containerd, ns: string) => Promise<void>): Promise<void> {
  const ns = `cdrv-img-${crypto.randomUUID().slice(0, 8)}`;
  const conn = new Containerd(T.sock, ns);
  try {
    await fn(conn, ns);
  } finally {
    try {
      await emptyNamespace(conn);
      await T.ctd.ctr("namespaces", "rm", ns).catch(() => {});
    } finally {
      conn.close();
    }
  }
}

/** Deletes images, leases, ingests, snapshots (leaves first) and blobs of the connection's namespace. */
export async function emptyNamespace(conn: Containerd): Promise<void> {
  for (
    const c of await T.ctd.ctr("-n", conn.namespace, "containers", "ls", "-q").then((s) =>
      s.split("\n").filter(Boolean)
    )
  ) {
    await T.ctd.ctr("-n", conn.namespace, "tasks", "kill", "-s", "SIGKILL", c).catch(() => {});
    await T.ctd.ctr("-n", conn.namespace, "containers", "rm", c).catch(() => {});
  }
  for (const i of await listImages(conn)) await deleteImage(conn, i.name);
  for (const l of await listLeases(conn)) await deleteLease(conn, l.id);
  for (const s of await listIngests(conn)) await abortIngest(conn, s.ref);
  for (let round = 0; round < 20; round++) {
    const snaps = await listSnapshots(conn, SNAPSHOTTER);
    if (snaps.length === 0) break;
    const parents = new Set(snaps.map((s) => s.parent));
    for (const s of snaps) {
      if (!parents.has(s.name)) await removeSnapshot(conn, SNAPSHOTTER, s.name).catch(() => {});
    }
  }
  for (const b of await listContent(conn)) await deleteContent(conn, b.digest);
}

/** What a namespace holds. */
export async function inventory(conn: Containerd) {
  return {
    images: (await listImages(conn)).map((i) => i.name),
    leases: (await listLeases(conn)).map((l) => l.id),
    ingests: (await listIngests(conn)).map((s) => s.ref),
    content: (await listContent(conn)).map((c) => c.digest),
    snapshots: (await listSnapshots(conn, SNAPSHOTTER)).map((s) => `${s.name} (${s.kind})`),
  };
}

/** Fails unless the namespace holds nothing at all (and `ctr leases ls` agrees). */
export async function assertNothingLeft(conn: Containerd): Promise<void> {
  assertEquals(
    await inventory(conn),
    { images: [], leases: [], ingests: [], content: [], snapshots: [] },
    "left behind",
  );
  const ctrLeases = await T.ctd.ctr("-n", conn.namespace, "leases", "ls", "-q");
  assertEquals(ctrLeases.trim(), "", "ctr leases ls");
}

/** The access-log lines of one registry (plain, basic, tls) that are HTTP requests. */
export async function registryRequests(name: "plain" | "basic" | "tls", filter = ""): Promise<string[]> {
  const text = await Deno.readTextFile(`${T.dir}/reg/${name}/registry.log`);
  return text.split("\n").filter((l) =>
    /"(GET|HEAD|POST|PUT|PATCH|DELETE) \/v2\//.test(l) && l.includes(filter)
  );
}

/** Counts requests after the registry's log has settled (it is written asynchronously). */
export async function settledCount(name: "plain" | "basic" | "tls", filter = ""): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const n = (await registryRequests(name, filter)).length;
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** `ctr run --rm <image> <id> /bin/busybox echo ok` in the namespace; returns stdout. */
export async function ctrRunEcho(ns: string, image: string): Promise<string> {
  const id = `cdrv-img-run-${crypto.randomUUID().slice(0, 8)}`;
  return await T.ctd.ctr(
    "-n",
    ns,
    "run",
    "--rm",
    "--snapshotter",
    SNAPSHOTTER,
    image,
    id,
    "/bin/busybox",
    "echo",
    "ok",
  );
}

/** Writes `<dir>/<registry>/hosts.toml`; returns the hosts dir. */
export async function hostsDir(entries: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cdrv-img-hosts-" });
  for (const [registry, toml] of Object.entries(entries)) {
    await Deno.mkdir(`${dir}/${registry}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${registry}/hosts.toml`, toml);
  }
  return dir;
}

/** The digest and JSON of a repository's manifest, from the registry itself (never hard-coded). */
export async function manifestInfo(
  registry: string,
  repo: string,
  tag: string,
): Promise<{ digest: string; json: { layers?: { digest: string }[]; config?: { digest: string } } }> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    headers: {
      Accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, " +
        "application/vnd.oci.image.index.v1+json",
    },
  });
  const json = await res.json();
  return { digest: res.headers.get("docker-content-digest")!, json };
}

/** A tiny HTTP server on 127.0.0.1 in front of a registry that spoils one layer blob. */
export interface BadProxy {
  /** host:port to pull from */
  addr: string;
  /** Requests it saw. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Proxies a registry; for blob (or manifest-by-digest) requests of `digest` it either flips one byte in the middle
 * ("corrupt", same length) or sends the first 64 KiB and then stalls forever ("stall").
 */
export function badProxy(upstream: string, mode: "corrupt" | "stall", digest: string): BadProxy {
  const requests: string[] = [];
  const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];
  const ac = new AbortController();
  let port = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (a) => port = a.port,
  }, async (req) => {
    const u = new URL(req.url);
    requests.push(`${req.method} ${u.pathname}`);
    const res = await fetch(`http://${upstream}${u.pathname}${u.search}`, {
      method: req.method,
      headers: req.headers,
    });
    const target = u.pathname.endsWith(`/blobs/${digest}`) || u.pathname.endsWith(`/manifests/${digest}`);
    if (!target || req.method !== "GET") {
      return new Response(res.body, { status: res.status, headers: res.headers });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (mode === "corrupt") {
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      return new Response(bytes, { status: 200, headers: res.headers });
    }
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 64 * 1024));
        stalled.push(c);
      },
    });
    return new Response(body, { status: 200, headers: { "content-length": String(bytes.length) } });
  });
  return {
    get addr() {
      return `127.0.0.1:${port}`;
    },
    requests,
    async close() {
      for (const c of stalled) {
        try {
          c.error(new Error("proxy closed"));
        } catch { /* already closed */ }
      }
      ac.abort();
      await server.finished;
    },
  };
}

/**
 * A registry with token auth like Docker Hub's, in front of a real registry: /v2/ requests need
 * `Authorization: Bearer <token>`, otherwise 401 with a Bearer challenge whose realm is our /token
 * endpoint; /token hands out the token anonymously or, with `user`, only for the right basic credentials.
 */
export function tokenRegistry(
  upstream: string,
  opts: { user?: string; password?: string } = {},
): BadProxy & { token: string } {
  const requests: string[] = [];
  const token = `tok-${crypto.randomUUID()}`;
  const ac = new AbortController();
  let port = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (a) => port = a.port,
  }, async (req) => {
    const u = new URL(req.url);
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    if (u.pathname === "/token") {
      if (opts.user) {
        const want = "Basic " + btoa(`${opts.user}:${opts.password}`);
        if (req.headers.get("authorization") !== want) {
          return new Response('{"details":"bad creds"}', { status: 401 });
        }
      }
      return Response.json({ token, expires_in: 300 });
    }
    if (req.headers.get("authorization") !== `Bearer ${token}`) {
      const repo = u.pathname.split("/").slice(2, -2).join("/");
      return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', {
        status: 401,
        headers: {
          "www-authenticate":
            `Bearer realm="http://127.0.0.1:${port}/token",service="cdrv-test",scope="repository:${repo}:pull"`,
        },
      });
    }
    const res = await fetch(`http://${upstream}${u.pathname}`, {
      method: req.method,
      headers: { accept: req.headers.get("accept") ?? "*/*" },
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  return {
    get addr() {
      return `127.0.0.1:${port}`;
    },
    token,
    requests,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}
