// No /tmp grant any more: a Nomad agent whose data_dir is under /tmp (as a -dev agent's is) must list it in
// CONTAINERD_DRIVER_EXTRA_PATHS. Without it, under a real agent and the installed archive, the task fails
// to start with an event that names the task dir, data_dir and the variable; nothing runs in containerd.
import { assert, assertMatch } from "../harness/assert.ts";
import { CTD_SOCK, ctrIn, purgeNamespace } from "../harness/driver.ts";
import { waitFor } from "../harness/services.ts";
import { OperatorAgent, PORT_BASE, unpackTarball } from "./operator.ts";

const CTD_DIR = Deno.env.get("CDRV_TEST_CONTAINERD_DIR") ?? "";

const JOB = `job "rel-datadir" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "containerd-driver"
      config {
        image   = "docker.io/library/busybox:1.36"
        command = "/bin/true"
      }
    }
  }
}
`;

interface Alloc {
  ClientStatus: string;
  TaskStates?: Record<string, { Events: { Type: string; DisplayMessage: string }[] }>;
}

Deno.test({
  name:
    "release: a data_dir under /tmp without CONTAINERD_DRIVER_EXTRA_PATHS fails the task, naming data_dir and the variable",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const op = await Deno.realPath(await unpackTarball());
    const namespace = `cdrv-rdd-${crypto.randomUUID().slice(0, 6)}`;
    let agent: OperatorAgent | undefined;
    try {
      agent = await OperatorAgent.start({
        pluginDir: `${op}/plugin`,
        containerdDir: CTD_DIR,
        namespace,
        httpPort: PORT_BASE + 30,
        // containerd and the registry hosts dir only: the agent's data_dir is not granted
        extraPaths: (dir) => `${CTD_DIR}:${dir}/certs.d`,
      });
      const a = agent;
      await Deno.writeTextFile(`${a.dir}/job.nomad`, JOB);
      await a.cli("job", "run", "-detach", `${a.dir}/job.nomad`);
      const failed = await waitFor(
        "the allocation to fail",
        async () => {
          const allocs = await a.api<{ ID: string; ClientStatus: string }[]>(
            "/v1/job/rel-datadir/allocations",
          );
          const id = allocs.find((x) => x.ClientStatus === "failed")?.ID;
          return id ? await a.api<Alloc>(`/v1/allocation/${id}`) : undefined;
        },
        60_000,
        250,
      );
      const events = failed.TaskStates?.t.Events.map((e) => e.DisplayMessage) ?? [];
      const msg = events.find((m) => /is outside the paths the plugin may write/.test(m));
      assert(msg, `no sandbox error among the task events: ${events.join(" | ")}`);
      console.log(`  ${msg}`);
      assertMatch(msg, new RegExp(`Nomad's task dir "${a.dir}/data/alloc/`));
      assertMatch(msg, /add Nomad's data_dir to CONTAINERD_DRIVER_EXTRA_PATHS/);
      assertMatch((await ctrIn(CTD_SOCK, namespace, "containers", "ls", "-q")).trim(), /^$/);
    } finally {
      await agent?.stop();
      await purgeNamespace(namespace);
      await Deno.remove(op.slice(0, op.lastIndexOf("/")), { recursive: true });
    }
  },
});
