// cgroup v2 under a real Nomad 1.6.3 agent: a job's container runs in the cgroup Nomad made for its task,
// /nomad.slice/<alloc id>.<task>.scope, so Nomad's cpuset management applies to the container itself: its
// CPUs are what Nomad wrote, and follow when another job reserves a core and frees it again. A restart in
// the allocation comes back in the same scope; when the job stops, the scope is gone.
import { assert, assertEquals } from "../harness/assert.ts";
import { type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import { CTD_SOCK, ctrIn, purgeNamespace } from "../harness/driver.ts";
import { shortTempDir, waitFor } from "../harness/services.ts";
import { SLOW_FACTOR } from "../harness/plugin.ts";
import { cgExists, cgRead, cgroupOf, requireCgroupV2, sh } from "./v2.ts";

const MB = 1024 * 1024;

function job(name: string, task: string, resources: string): string {
  return `job "${name}" {
  datacenters = ["dc1"]
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "${task}" {
      driver = "containerd-driver"
      config {
        image   = "docker.io/library/busybox:1.36"
        command = "/bin/sleep"
        args    = ["3600"]
      }
      resources {
        ${resources}
      }
    }
  }
}
`;
}

/** The host PID of a job's task container (`<task>-<alloc id>`) in the driver's namespace. */
async function pidOf(namespace: string, task: string, allocId: string): Promise<number> {
  const cid = `${task}-${allocId}`;
  return await waitFor(`the task ${cid} in containerd`, async () => {
    const line = (await ctrIn(CTD_SOCK, namespace, "tasks", "ls")).split("\n").find((l) =>
      l.split(/\s+/)[0] === cid && /RUNNING/.test(l)
    );
    return Number(line?.split(/\s+/)[1]) || undefined;
  }, 30_000 * SLOW_FACTOR);
}

async function allowed(pid: number): Promise<string> {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(await sh("cat", `/proc/${pid}/status`))![1];
}

/** Cores of a cpuset list ("0-1,3") as a sorted array. */
function cores(list: string): number[] {
  return list.split(",").filter(Boolean).flatMap((r) => {
    const [a, b] = r.split("-").map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  });
}

Deno.test({
  name:
    "cgroup v2 under Nomad 1.6.3: the container is in Nomad's scope, under Nomad's cpuset; gone after stop",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await requireCgroupV2();
    const namespace = `cdrv-v2n-${crypto.randomUUID().slice(0, 6)}`;
    const dir = await shortTempDir("cdrv-v2jobs-");
    await Deno.writeTextFile(`${dir}/shared.nomad`, job("shared", "s", "cpu = 100\n        memory = 48"));
    await Deno.writeTextFile(`${dir}/pinned.nomad`, job("pinned", "p", "cores = 1\n        memory = 32"));
    const agent: NomadAgent = await startTestAgent({
      namespace,
      httpPort: Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 140,
    });
    const wait = 60_000 * SLOW_FACTOR;
    try {
      const all = await cgRead("/nomad.slice", "cpuset.cpus.effective");
      assert(cores(all).length >= 2, `Nomad's slice has ${all}: this test needs 2 cores to reserve one`);
      await agent.run(`${dir}/shared.nomad`);
      const shared = await agent.waitAlloc("shared", "running", wait);
      const scope = `/nomad.slice/${shared.ID}.s.scope`;
      let pid = await pidOf(namespace, "s", shared.ID);

      await t.step(
        "the container's cgroup is /nomad.slice/<alloc>.<task>.scope, with the job's limits",
        async () => {
          assertEquals(await cgroupOf(pid), scope);
          assertEquals(await cgRead(scope, "memory.max"), String(48 * MB));
          const nomadWrote = await cgRead(scope, "cpuset.cpus");
          console.log(
            `shared alone: Nomad wrote cpuset.cpus "${nomadWrote}", effective "${await cgRead(
              scope,
              "cpuset.cpus.effective",
            )}", task allowed ${await allowed(pid)}`,
          );
          assertEquals(nomadWrote, all);
          assertEquals(await cgRead(scope, "cpuset.cpus.effective"), all);
          assertEquals(await allowed(pid), all);
        },
      );

      await t.step("a restart in the allocation comes back in the same scope", async () => {
        const r = await agent.cli("alloc", "restart", shared.ID, "s");
        assertEquals(r.code, 0, r.stderr + r.stdout);
        const before = pid;
        pid = await waitFor("a new task process", async () => {
          const p = await pidOf(namespace, "s", shared.ID);
          return p !== before ? p : undefined;
        }, wait);
        assertEquals(await cgroupOf(pid), scope);
        assertEquals(await cgRead(scope, "memory.max"), String(48 * MB));
      });

      await t.step(
        "another job reserves a core: Nomad rewrites the cpuset and the container follows",
        async () => {
          await agent.run(`${dir}/pinned.nomad`);
          const pinned = await agent.waitAlloc("pinned", "running", wait);
          const full = await agent.api<
            { AllocatedResources: { Tasks: { p: { Cpu: { ReservedCores: number[] } } } } }
          >(
            `/v1/allocation/${pinned.ID}`,
          );
          const reserved = full.AllocatedResources.Tasks.p.Cpu.ReservedCores;
          assertEquals(reserved.length, 1, JSON.stringify(reserved));
          const pool = cores(all).filter((c) => !reserved.includes(c));
          await waitFor(
            "the shared task's CPUs to leave the reserved core",
            async () => JSON.stringify(cores(await allowed(pid))) === JSON.stringify(pool),
            wait,
          );
          assertEquals(
            cores(await cgRead(scope, "cpuset.cpus.effective")),
            pool,
            "shared's effective cpuset",
          );
          const ppid = await pidOf(namespace, "p", pinned.ID);
          const pscope = `/nomad.slice/${pinned.ID}.p.scope`;
          assertEquals(await cgroupOf(ppid), pscope, "pinned's cgroup");
          const pinnedWrote = await cgRead(pscope, "cpuset.cpus");
          console.log(
            `pinned reserved ${reserved}: shared now "${await cgRead(
              scope,
              "cpuset.cpus",
            )}" (allowed ${await allowed(pid)}), ` +
              `pinned scope "${pinnedWrote}" (allowed ${await allowed(ppid)})`,
          );
          const peff = await cgRead(pscope, "cpuset.cpus.effective");
          assertEquals(await allowed(ppid), peff, "pinned: its CPUs vs its scope's cpuset.cpus.effective");
          assert(
            cores(pinnedWrote).includes(reserved[0]),
            `pinned's cpuset ${pinnedWrote} lacks its core ${reserved}`,
          );

          const stop = await agent.cli("job", "stop", "-detach", "pinned");
          assertEquals(stop.code, 0, `nomad job stop pinned: ${stop.stderr}${stop.stdout}`);
          await agent.waitAlloc("pinned", "complete", wait);
          await waitFor("the pinned scope to be gone", async () => !(await cgExists(pscope)), wait);
          await waitFor("the shared task's CPUs back to all", async () => (await allowed(pid)) === all, wait);
          console.log(
            `pinned stopped: shared "${await cgRead(scope, "cpuset.cpus")}" (allowed ${await allowed(pid)})`,
          );
        },
      );

      await t.step("the job stops: its container and Nomad's scope are gone", async () => {
        const stop = await agent.cli("job", "stop", "-detach", "shared");
        assertEquals(stop.code, 0, `nomad job stop shared: ${stop.stderr}${stop.stdout}`);
        await agent.waitAlloc("shared", "complete", wait);
        await waitFor("the scope to be gone", async () => !(await cgExists(scope)), wait);
        const left = (await ctrIn(CTD_SOCK, namespace, "containers", "ls", "-q")).trim();
        assertEquals(left, "");
      });
    } finally {
      await agent.stop();
      await purgeNamespace(namespace);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
