/**
 * Cold pull of the redis test image (cdrv/redis:1, 2 layers, ~9 MB) with our puller vs
 * `ctr image pull --plain-http` of the same image, in the same run, alternating, each in a fresh
 * namespace (containerd's content metadata is per namespace: a new namespace downloads every blob
 * again even though the bytes may already sit in the shared blob store). Prints the medians and the
 * ratio ours / ctr (target ≤ 1.2). Not part of scripts/test.sh.
 *
 *   deno run --allow-read --allow-write --allow-run --allow-net --allow-env --allow-sys bench/pull.ts [--runs 7]
 *
 * Uses the test run's services when CDRV_TEST_CONTAINERD_SOCK and CDRV_TEST_REGISTRY_PLAIN are set;
 * otherwise starts its own containerd and plain registry (port CDRV_BENCH_PORT, default 16090) through
 * scripts/lib and removes them afterwards.
 *
 * @module
 */
import { Containerd } from "../src/containerd/connection.ts";
import { deleteImage, listImages } from "../src/containerd/images.ts";
import { pullImage } from "../src/image/pull.ts";
import { libCall, PrivateContainerd } from "../tests/harness/services.ts";

const runsArg = Deno.args.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(Deno.args[runsArg + 1]) : 7;
const SNAPSHOTTER = "overlayfs";

let sock = Deno.env.get("CDRV_TEST_CONTAINERD_SOCK");
let registry = Deno.env.get("CDRV_TEST_REGISTRY_PLAIN");
let ownDir: string | undefined;
if (!sock || !registry) {
  ownDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-bench-" });
  const port = Number(Deno.env.get("CDRV_BENCH_PORT") ?? 16090);
  const images = `${ownDir}/images`;
  console.log(`starting containerd and a registry on 127.0.0.1:${port} under ${ownDir} ...`);
  await libCall("images", "cdrv_build_images", images);
  await libCall("containerd", "cdrv_containerd_start", `${ownDir}/ctd`);
  await libCall("registry", "cdrv_registry_start", `${ownDir}/reg`, "plain", String(port), "plain");
  await libCall("images", "cdrv_push_images", images, `127.0.0.1:${port}`, "--plain");
  sock = `${ownDir}/ctd/containerd.sock`;
  registry = `127.0.0.1:${port}`;
}
const ctd = new PrivateContainerd(sock.replace(/\/containerd\.sock$/, ""));
const ref = `${registry}/cdrv/redis:1`;

async function dropNamespace(ns: string): Promise<void> {
  const conn = new Containerd(sock!, ns);
  try {
    for (const i of await listImages(conn)) await deleteImage(conn, i.name, { sync: true });
  } finally {
    conn.close();
  }
  await ctd.ctr("namespaces", "rm", ns).catch(() => {});
}

async function ours(ns: string): Promise<number> {
  const conn = new Containerd(sock!, ns);
  try {
    const t0 = performance.now();
    await pullImage(conn, ref, {
      snapshotter: SNAPSHOTTER,
      hostsDir: "",
      credentials: {},
      timeoutMs: 120_000,
    });
    return performance.now() - t0;
  } finally {
    conn.close();
  }
}

async function ctr(ns: string): Promise<number> {
  const t0 = performance.now();
  await ctd.ctr("-n", ns, "images", "pull", "--plain-http", "--snapshotter", SNAPSHOTTER, ref);
  return performance.now() - t0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  // One warm-up of each (JIT, page cache, registry caches), not counted.
  for (const [name, fn] of [["ours", ours], ["ctr", ctr]] as const) {
    const ns = `cdrv-bench-warm-${name}`;
    await fn(ns);
    await dropNamespace(ns);
  }
  const times: Record<"ours" | "ctr", number[]> = { ours: [], ctr: [] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate who goes first so drift does not favour one side.
    const order = i % 2 === 0 ? (["ours", "ctr"] as const) : (["ctr", "ours"] as const);
    for (const who of order) {
      const ns = `cdrv-bench-${crypto.randomUUID().slice(0, 8)}`;
      const ms = await (who === "ours" ? ours(ns) : ctr(ns));
      times[who].push(ms);
      await dropNamespace(ns);
    }
  }
  const mo = median(times.ours);
  const mc = median(times.ctr);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
  console.log(`cold pull of ${ref}, ${RUNS} runs each (ms)`);
  console.log(`  ours: ${fmt(times.ours)}  median ${mo.toFixed(0)}`);
  console.log(`  ctr:  ${fmt(times.ctr)}  median ${mc.toFixed(0)}`);
  console.log(`ratio ours/ctr = ${(mo / mc).toFixed(2)} (target ≤ 1.2)`);
} finally {
  if (ownDir) {
    await libCall("registry", "cdrv_registry_stop", `${ownDir}/reg`, "plain").catch(() => {});
    await libCall("containerd", "cdrv_containerd_stop", `${ownDir}/ctd`, "--purge").catch(() => {});
    await Deno.remove(ownDir, { recursive: true }).catch(() => {});
  }
}
