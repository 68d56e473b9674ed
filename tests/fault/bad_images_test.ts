// Bad images through StartTask, as Nomad starts tasks: an unknown image, wrong and missing credentials,
// the registry going away in the middle of a layer, a corrupted layer blob, a stalled blob hitting
// image_pull_timeout. Each fails StartTask with an error that names the image and says what went wrong
// (pull progress shows up as task events before it), and leaves nothing in containerd: no container,
// snapshot, lease, image, blob or ingest. Faults are real: a 127.0.0.1 proxy in front of the run's
// registry spoils one blob.
import { SLOW_FACTOR } from "../harness/plugin.ts";
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import { details, purgeNamespace, REGISTRY } from "../harness/driver.ts";
import { badProxy, manifestInfo } from "../image/helpers.ts";
import type { DriverTaskEvent } from "../../src/gen/nomad/driver.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import {
  alive,
  assertNoSecrets,
  ctrIn,
  faultDriver,
  inventory,
  type LeanTask,
  leanTask,
  record,
  REGISTRY_PASSWORD,
} from "./helpers.ts";

const BASIC = Deno.env.get("CDRV_TEST_REGISTRY_BASIC") ?? "127.0.0.1:15001";
const WRONG = "wrong-pw-fault-4711";

/** A registry proxy that sends half of one blob and then dies: the connection drops, the port closes. */
function dyingProxy(upstream: string, digest: string) {
  const ac = new AbortController();
  let port = 0;
  let died = false;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (a) => port = a.port,
  }, async (req) => {
    const u = new URL(req.url);
    const res = await fetch(`http://${upstream}${u.pathname}${u.search}`, {
      method: req.method,
      headers: req.headers,
    });
    if (req.method !== "GET" || !u.pathname.endsWith(`/blobs/${digest}`)) {
      return new Response(res.body, { status: res.status, headers: res.headers });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(bytes.slice(0, bytes.length >> 1));
        await new Promise((r) => setTimeout(r, 200));
        c.error(new Error("registry went away"));
        died = true;
        ac.abort(); // and the port closes: retries are refused
      },
    });
    return new Response(body, { status: 200, headers: { "content-length": String(bytes.length) } });
  });
  return {
    get addr() {
      return `127.0.0.1:${port}`;
    },
    get died() {
      return died;
    },
    async close() {
      ac.abort();
      await server.finished.catch(() => {});
    },
  };
}

Deno.test({
  name: "bad images through StartTask: clear errors and events, nothing left in containerd",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const d = await faultDriver({ config: { registry_hosts_dir: "" } });
    const events: DriverTaskEvent[] = [];
    const evStream = d.p.driver.taskEvents({});
    evStream.on("data", (e: DriverTaskEvent) => events.push(e));
    evStream.on("error", () => {});
    const tasks: LeanTask[] = [];
    const rows: string[] = [];
    let leaked = 0;

    /** Starts a task that must fail; checks the message and that the namespace is empty; returns it. */
    const failing = async (config: Record<string, CtyValue>, want: RegExp): Promise<string> => {
      const task = await leanTask({ config });
      tasks.push(task);
      const t0 = performance.now();
      const err = await assertRejects(() => d.start(task.config));
      const msg = details(err);
      const image = String(config.image);
      console.log(`  ${image}: ${(performance.now() - t0).toFixed(0)} ms: ${msg}`);
      assert(msg.includes(image), `the error names the image: ${msg}`);
      assertMatch(msg, want);
      assert(!msg.includes(REGISTRY_PASSWORD) && !msg.includes(WRONG), `no password in: ${msg}`);
      const inv = await inventory(d.sock, d.namespace);
      const active = await ctrIn(d.sock, d.namespace, "content", "active");
      const left = Object.entries(inv).filter(([, v]) => v.length > 0).map(([k, v]) =>
        `${k}: ${v.join(" ")}`
      );
      if (active.split("\n").length > 2) left.push(`ingests: ${active}`);
      if (left.length) leaked++;
      assert(left.length === 0, `left behind: ${left.join("; ")}`);
      rows.push(image);
      return task.config.id;
    };
    const eventsOf = (id: string) => events.filter((e) => e.taskId === id).map((e) => e.message);

    try {
      await t.step("unknown image", async () => {
        await failing({ image: `${REGISTRY}/cdrv/does-not-exist:1` }, /not found/);
      });
      await t.step("malformed reference: a config error naming image, before any pull", async () => {
        // Found by the fuzz test: it used to fail in the puller as INTERNAL "invalid reference format".
        const task = await leanTask({ config: { image: `${REGISTRY}/cdrv/Busy\u000bbox:1` } });
        tasks.push(task);
        const err = await assertRejects(() => d.start(task.config));
        console.log(`  ${details(err)}`);
        assertEquals((err as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT, details(err));
        assertMatch(details(err), /^task config "image": ".*" is not an image reference: /);
        const inv = await inventory(d.sock, d.namespace);
        assertEquals(Object.values(inv).flat(), [], "nothing in containerd");
        rows.push("malformed reference");
      });
      await t.step("wrong password, and none", async () => {
        await failing(
          { image: `${BASIC}/cdrv/busybox:1`, auth: { username: "cdrv", password: WRONG } },
          /wrong username or password/,
        );
        await failing({ image: `${BASIC}/cdrv/busybox:1` }, /authentication required/);
      });

      const redis = await manifestInfo(REGISTRY, "cdrv/redis", "1");
      const second = redis.json.layers![1].digest;
      await t.step("registry goes away in the middle of a layer", async () => {
        const proxy = dyingProxy(REGISTRY, second);
        try {
          const id = await failing(
            { image: `${proxy.addr}/cdrv/redis:1` },
            /connection|refused|reset|closed|unreachable/i,
          );
          assert(proxy.died, "the proxy sent part of the layer and died");
          const ev = eventsOf(id);
          assert(ev.some((m) => /^(Pulling|Resolving)/.test(m)), `pull progress events: ${ev.join(" | ")}`);
        } finally {
          await proxy.close();
        }
      });
      await t.step("corrupted layer blob", async () => {
        const proxy = badProxy(REGISTRY, "corrupt", second);
        try {
          await failing({ image: `${proxy.addr}/cdrv/redis:1` }, new RegExp(`digest|${second}`));
        } finally {
          await proxy.close();
        }
      });
      await t.step("stalled blob hits image_pull_timeout", async () => {
        const proxy = badProxy(REGISTRY, "stall", second);
        try {
          const t0 = performance.now();
          await failing(
            { image: `${proxy.addr}/cdrv/redis:1`, image_pull_timeout: "1500ms" },
            /1\.5s|timed? ?out/i,
          );
          assert(performance.now() - t0 < 10_000 * SLOW_FACTOR, "gave up near the timeout");
        } finally {
          await proxy.close();
        }
      });
      assert(alive(d.p), "the plugin is still running");
      assertNoSecrets(d.p.stderr);
      assertNoSecrets(events.map((e) => e.message + JSON.stringify(e.annotations)), undefined, "task events");
    } finally {
      evStream.cancel();
      await record({
        scenario: "bad images (StartTask)",
        count: rows.length,
        lost: leaked,
        crashed: alive(d.p) ? 0 : 1,
        note: "malformed ref, unknown, bad creds ×2, registry down mid-pull, corrupt blob, timeout",
      });
      await d.close();
      for (const x of tasks) await x.cleanup();
      await purgeNamespace(d.namespace);
    }
  },
});
