// Several nodes: one Nomad server and two clients on this machine, each client in a network namespace
// of its own (own address on a private bridge, own data and plugin dirs, own containerd namespace in the
// run's containerd). A job with count = 4 and a spread lands on both clients; draining one moves its
// tasks to the other; every task's logs stay readable with `nomad alloc logs` (through the server, which
// forwards to the client holding the alloc). Bounded: every wait has a deadline, the whole test 5 min.
//
// The clients' plugins cannot reach the test registry (127.0.0.1 is per network namespace), so the test
// image is pulled into both containerd namespaces first (`ctr images pull`), and the driver finds it there.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX, CTD_DIR, CTD_SOCK, purgeNamespace } from "../harness/driver.ts";
import { Cluster, run } from "../harness/cluster.ts";
import { waitFor } from "../harness/services.ts";

const PORT = Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 300;

interface Alloc {
  ID: string;
  NodeID: string;
  ClientStatus: string;
  DesiredStatus: string;
}

Deno.test({
  name: "e2e: two clients in their own network namespaces; spread, drain, logs",
  fn: async (t) => {
    const deadline = AbortSignal.timeout(300_000);
    const cluster = await Cluster.start({
      clients: 2,
      portBase: PORT,
      containerdSock: CTD_SOCK,
      containerdDir: CTD_DIR,
    });
    const job = `mn-${cluster.id}`;
    const allocs = async () =>
      (await cluster.api<Alloc[]>(`/v1/job/${job}/allocations`)).filter((a) => a.DesiredStatus === "run");
    const failWith = async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await cluster.logs(40)}`);
    };
    try {
      for (const c of cluster.clients) {
        await run(
          "ctr",
          "--address",
          CTD_SOCK,
          "-n",
          c.namespace!,
          "images",
          "pull",
          "--plain-http",
          BUSYBOX,
        );
      }
      const [node1, node2] = [await cluster.nodeId(1), await cluster.nodeId(2)];
      // Each client fingerprinted the address of its own namespace.
      for (const [i, id] of [[1, node1], [2, node2]] as const) {
        const node = await cluster.api<{ Attributes: Record<string, string> }>(`/v1/node/${id}`);
        assertEquals(node.Attributes["unique.network.ip-address"], cluster.agents[i].address);
      }
      const file = `${cluster.root}/job.hcl`;
      await Deno.writeTextFile(
        file,
        `job "${job}" {
  datacenters = ["*"]
  group "g" {
    count = 4
    spread {
      attribute = "\${node.unique.name}"
    }
    restart {
      attempts = 0
      mode     = "fail"
    }
    migrate {
      max_parallel     = 4
      health_check     = "task_states"
      min_healthy_time = "1s"
      healthy_deadline = "60s"
    }
    task "t" {
      driver       = "containerd-driver"
      kill_timeout = "2s"
      config {
        image   = "${BUSYBOX}"
        command = "/bin/sh"
        args    = ["-c", "echo hello from \${NOMAD_ALLOC_ID} on \${node.unique.name}; exec sleep 3600"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`,
      );

      await t.step("count = 4 with a spread runs on both clients", async () => {
        const r = await cluster.cli("job", "run", "-detach", file);
        assertEquals(r.code, 0, r.stderr + r.stdout);
        const running = await waitFor(
          "4 allocations running",
          async () => {
            if (deadline.aborted) throw new Error("test deadline passed");
            const a = await allocs();
            return a.length === 4 && a.every((x) => x.ClientStatus === "running") ? a : undefined;
          },
          120_000,
          500,
        ).catch(failWith);
        const on = (n: string) => running!.filter((a) => a.NodeID === n).length;
        assert(on(node1) >= 1 && on(node2) >= 1, `node1 ${on(node1)}, node2 ${on(node2)}`);
        assertEquals(on(node1) + on(node2), 4);
        // Each client's tasks live in its own containerd namespace.
        for (const [i, n] of [[0, node1], [1, node2]] as const) {
          const tasks = (await run(
            "ctr",
            "--address",
            CTD_SOCK,
            "-n",
            cluster.clients[i].namespace!,
            "tasks",
            "ls",
            "-q",
          ))
            .split("\n").filter(Boolean);
          assertEquals(tasks.length, on(n), `namespace ${cluster.clients[i].namespace}: ${tasks}`);
        }
      });

      const logsOf = async (id: string) => {
        const r = await cluster.cli("alloc", "logs", id, "t");
        return r.code === 0 ? r.stdout : `(exit ${r.code}) ${r.stderr}`;
      };
      const checkLogs = async (list: Alloc[]) => {
        for (const a of list) {
          const text = await waitFor(
            `logs of ${a.ID}`,
            async () => {
              const l = await logsOf(a.ID);
              return l.includes(`hello from ${a.ID}`) ? l : undefined;
            },
            15_000,
            250,
          ).catch(async () => `${await logsOf(a.ID)}`);
          assert(text.includes(`hello from ${a.ID} on mn-client-${cluster.id}-`), `${a.ID}: ${text}`);
        }
      };

      await t.step("every task's logs are readable through the server", async () => {
        await checkLogs(await allocs());
      });

      await t.step("draining client 1 moves its tasks to client 2; all logs still readable", async () => {
        const before = await cluster.api<Alloc[]>(`/v1/job/${job}/allocations`);
        const r = await cluster.cli("node", "drain", "-enable", "-yes", "-detach", "-deadline", "60s", node1);
        assertEquals(r.code, 0, r.stderr + r.stdout);
        const after = await waitFor(
          "4 allocations running on client 2, none on client 1",
          async () => {
            if (deadline.aborted) throw new Error("test deadline passed");
            const all = await cluster.api<Alloc[]>(`/v1/job/${job}/allocations`);
            const live = all.filter((a) => a.DesiredStatus === "run");
            const stillOn1 = all.filter((a) => a.NodeID === node1 && a.ClientStatus === "running");
            return live.length === 4 && live.every((a) =>
                a.NodeID === node2 && a.ClientStatus === "running"
              ) &&
                stillOn1.length === 0
              ? all
              : undefined;
          },
          150_000,
          500,
        ).catch(failWith);
        const ns1 =
          (await run("ctr", "--address", CTD_SOCK, "-n", cluster.clients[0].namespace!, "tasks", "ls", "-q"))
            .split("\n").filter(Boolean);
        assertEquals(ns1, [], "client 1's containerd namespace has no task left");
        // Old allocs (stopped on client 1) and new ones (client 2): each one's logs.
        const moved = before.filter((a) => a.NodeID === node1);
        assert(moved.length >= 1);
        await checkLogs(after!.filter((a) => a.ClientStatus === "running"));
        await checkLogs(moved);
      });
    } finally {
      await cluster.cli("job", "stop", "-purge", job).catch(() => {});
      await waitFor(
        "the job's containers to be destroyed",
        async () => {
          for (const c of cluster.clients) {
            const left =
              (await run("ctr", "--address", CTD_SOCK, "-n", c.namespace!, "containers", "ls", "-q")
                .catch(() => "")).trim();
            if (left !== "") return undefined;
          }
          return true;
        },
        30_000,
        500,
      ).catch(() => {});
      await cluster.stop();
      for (const c of cluster.clients) await purgeNamespace(c.namespace!).catch(() => {});
    }
  },
});
