// The Debian package as an operator uses it: installed (into a scratch root with its own dpkg database, so
// the real system is untouched), Nomad's plugin_dir pointed at /usr/lib/containerd-driver/plugin, on a
// node where the repo and $HOME/.cache are hidden; a job runs and logs; `dpkg -r` leaves nothing.
import { assertEquals, assertMatch } from "../harness/assert.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { shortTempDir, waitFor } from "../harness/services.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";
import { DEB, OperatorAgent, PORT_BASE, sh } from "./operator.ts";

const CTD_DIR = Deno.env.get("CDRV_TEST_CONTAINERD_DIR") ?? "";

const JOB = `job "rel-deb" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    task "hello" {
      driver = "containerd-driver"
      config {
        image   = "docker.io/library/busybox:1.36"
        command = "/bin/sh"
        args    = ["-c", "echo hello from the deb"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`;

Deno.test({
  name: "release: the .deb installed, plugin_dir at its plugin/ dir, a job runs and logs, dpkg -r cleans up",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await shortTempDir("cdrv-deb-");
    const namespace = `cdrv-rdeb-${crypto.randomUUID().slice(0, 6)}`;
    let agent: OperatorAgent | undefined;
    try {
      for (const d of ["info", "updates", "triggers"]) {
        await Deno.mkdir(`${root}/var/lib/dpkg/${d}`, { recursive: true });
      }
      await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, "");
      await sh("dpkg", `--root=${root}`, "--log=/dev/null", "-i", DEB);
      agent = await OperatorAgent.start({
        pluginDir: `${root}/usr/lib/containerd-driver/plugin`,
        containerdDir: CTD_DIR,
        namespace,
        httpPort: PORT_BASE + 10,
      });
      const a = agent;
      assertEquals((await a.waitHealthy())["driver.containerd.plugin_version"], PLUGIN_VERSION);
      await Deno.writeTextFile(`${a.dir}/job.nomad`, JOB);
      await a.cli("job", "run", "-detach", `${a.dir}/job.nomad`);
      const alloc = await waitFor(
        "the job to complete",
        async () => {
          const allocs = await a.api<{ ID: string; ClientStatus: string }[]>("/v1/job/rel-deb/allocations");
          return allocs.find((x) => x.ClientStatus === "complete")?.ID;
        },
        90_000,
        250,
      );
      assertMatch(await a.cli("alloc", "logs", alloc, "hello"), /^hello from the deb$/m);
    } finally {
      await agent?.stop();
      await purgeNamespace(namespace);
      await sh("dpkg", `--root=${root}`, "--log=/dev/null", "-r", "containerd-driver").catch(() => "");
      const left = (await sh("find", root, "-mindepth", "1", "-not", "-path", `${root}/var*`)).trim();
      await Deno.remove(root, { recursive: true });
      assertEquals(left, "", "dpkg -r left files");
    }
  },
});
