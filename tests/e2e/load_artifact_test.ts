// `load` as users use it with Nomad's docker driver: an `artifact` block downloads an image archive
// (served here over HTTP on 127.0.0.1) into the task dir, and the task runs the image it holds, under a
// name no registry serves, so nothing could have been pulled.
import { assertEquals, assertMatch } from "../harness/assert.ts";
import { type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { shortTempDir } from "../harness/services.ts";
import { run } from "../harness/cluster.ts";

const IMAGES = Deno.env.get("CDRV_TEST_IMAGES") ?? `${Deno.env.get("HOME")}/.cache/cdrv/images`;
const PORT = Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 360;

Deno.test({
  name: "e2e: an image archive fetched by an artifact block is loaded, not pulled",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await shortTempDir("cdrv-load-");
    const name = "cdrv.invalid/artifact/busybox:1";
    await run(
      "skopeo",
      "--insecure-policy",
      "copy",
      "-q",
      `oci:${IMAGES}/oci:busybox`,
      `oci-archive:${dir}/bb.tar:${name}`,
    );
    const bytes = await Deno.readFile(`${dir}/bb.tar`);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: PORT, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/bb.tar" ? new Response(bytes) : new Response("no", { status: 404 }),
    );
    const namespace = `cdrv-e2e-${crypto.randomUUID().slice(0, 6)}`;
    let agent: NomadAgent | undefined;
    try {
      agent = await startTestAgent({ namespace, httpPort: PORT + 10 });
      await Deno.writeTextFile(
        `${dir}/job.hcl`,
        `job "loaded" {
  datacenters = ["*"]
  type        = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "containerd-driver"
      artifact {
        source      = "http://127.0.0.1:${PORT}/bb.tar"
        destination = "local/"
        options {
          archive = false
        }
      }
      config {
        image   = "${name}"
        load    = "local/bb.tar"
        command = "/bin/sh"
        args    = ["-c", "echo loaded image runs"]
      }
    }
  }
}
`,
      );
      await agent.run(`${dir}/job.hcl`);
      const alloc = await agent.waitAlloc("loaded", "complete", 90_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${JSON.stringify(await agent!.allocs("loaded"), null, 1)}`);
      });
      const logs = await agent.cli("alloc", "logs", alloc.ID, "t");
      assertEquals(logs.stdout.trim(), "loaded image runs");
      const events = alloc.TaskStates!.t.Events.map((e) => e.DisplayMessage).join("\n");
      assertMatch(events, /Loaded cdrv\.invalid\/artifact\/busybox:1 from local\/bb\.tar/);
    } finally {
      await agent?.stop();
      await server.shutdown();
      await purgeNamespace(namespace).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
