// Restarts that lose nothing, under a real Nomad agent: the plugin SIGKILLed (Nomad relaunches it and
// recovers the task), the agent restarted (tasks keep running and are recovered), containerd restarted
// (tasks keep running, stats resume). A sequenced writer proves that no log line is lost.
import { assert, assertEquals } from "../harness/assert.ts";
import { type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { PrivateContainerd, shortTempDir, waitFor } from "../harness/services.ts";
import { ROOT } from "../harness/plugin.ts";

const JOB = `${ROOT}/tests/fixtures/jobs/seq.nomad`;

/** The numbers of the seq-N lines in the task's log; asserts they run 0..n-1 with no gap. */
async function seqLines(agent: NomadAgent, allocId: string): Promise<number> {
  const r = await agent.cli("alloc", "logs", allocId, "w");
  const nums = r.stdout.split("\n").filter((l) => l.startsWith("seq-")).map((l) => Number(l.slice(4)));
  for (let i = 0; i < nums.length; i++) {
    if (nums[i] !== i) throw new Error(`log line ${i} is seq-${nums[i]}: lines were lost or reordered`);
  }
  return nums.length;
}

async function restarts(agent: NomadAgent, allocId: string): Promise<number> {
  const a = await agent.api<
    { ClientStatus: string; TaskStates: Record<string, { Restarts: number; State: string }> }
  >(
    `/v1/allocation/${allocId}`,
  );
  assertEquals(a.ClientStatus, "running");
  assertEquals(a.TaskStates.w.State, "running");
  return a.TaskStates.w.Restarts;
}

Deno.test({
  name: "restarts lose nothing: plugin SIGKILL, agent restart, containerd restart",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const namespace = `cdrv-rs-${crypto.randomUUID().slice(0, 6)}`;
    const ctd = new PrivateContainerd(await shortTempDir("cdrv-rsc-"));
    let started: NomadAgent | undefined;
    try {
      await ctd.start();
      const agent = started = await startTestAgent({
        namespace,
        dev: false,
        containerdSock: ctd.socket,
        containerdDir: ctd.dir,
        httpPort: Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 120,
      });
      await agent.run(JOB);
      const alloc = await agent.waitAlloc("seq", "running");
      await waitFor("log lines", async () => (await seqLines(agent, alloc.ID)) > 20, 15000);

      await t.step(
        "plugin SIGKILLed: Nomad relaunches it, the task is recovered, logs continue",
        async () => {
          const pid = await agent.pluginPid();
          assert(pid, "no containerd-driver plugin process under the agent");
          const before = await seqLines(agent, alloc.ID);
          Deno.kill(pid, "SIGKILL");
          await waitFor("a new plugin process", async () => {
            const p = await agent.pluginPid();
            return p !== undefined && p !== pid;
          }, 30000);
          await waitFor(
            "logs keep growing",
            async () => (await seqLines(agent, alloc.ID)) > before + 50,
            15000,
          );
          assertEquals(await restarts(agent, alloc.ID), 0);
          // The new plugin knows the task: exec goes through it.
          const ex = await waitFor("exec through the new plugin", async () => {
            const r = await agent.cli("alloc", "exec", "-task", "w", alloc.ID, "/bin/echo", "still-here");
            return r.code === 0 ? r : undefined;
          }, 20000);
          assertEquals(ex.stdout.trim(), "still-here");
        },
      );

      await t.step("agent restarted: the task keeps running and is recovered", async () => {
        const before = await seqLines(agent, alloc.ID);
        await agent.restart();
        await waitFor("the alloc running again in the restarted agent", async () => {
          const a = await agent.api<{ ClientStatus: string }>(`/v1/allocation/${alloc.ID}`);
          return a.ClientStatus === "running";
        }, 30000);
        await waitFor(
          "logs keep growing",
          async () => (await seqLines(agent, alloc.ID)) > before + 50,
          20000,
        );
        assertEquals(await restarts(agent, alloc.ID), 0);
      });

      await t.step("containerd restarted: the task keeps running, stats resume", async () => {
        const before = await seqLines(agent, alloc.ID);
        await ctd.stopDaemon();
        await new Promise((r) => setTimeout(r, 1500));
        await ctd.start();
        await waitFor(
          "logs keep growing",
          async () => (await seqLines(agent, alloc.ID)) > before + 100,
          20000,
        );
        const stats = await waitFor("stats from the alloc", async () => {
          const s = await agent.api<
            { ResourceUsage: { MemoryStats: { RSS: number }; CpuStats: { Percent: number } } }
          >(
            `/v1/client/allocation/${alloc.ID}/stats`,
          );
          return s.ResourceUsage.MemoryStats.RSS > 0 ? s : undefined;
        }, 20000);
        assert(stats.ResourceUsage.MemoryStats.RSS > 0);
        assertEquals(await restarts(agent, alloc.ID), 0);
      });

      const total = await seqLines(agent, alloc.ID);
      console.log(
        `${total} sequenced log lines, none missing, across a plugin kill, an agent and a containerd restart`,
      );
    } finally {
      await started?.cli("job", "stop", "-purge", "seq");
      await started?.stop();
      await ctd.purge();
      void purgeNamespace;
    }
  },
});
