// gVisor (runsc) as a second OCI runtime, through the plugin: `runtime = "io.containerd.runsc.v1"` with the
// runsc shim's config (runtime_options.config_path) in the test's own dir. First at the RPC level (the
// harness plays Nomad), then under a real Nomad agent. Each proves the task ran inside gVisor (its kernel
// log says "Starting gVisor", a containerd-shim-runsc-v1 serves it, no runc shim does), that its output
// arrives, exec works, a signal reaches it, stop is prompt, and destroy leaves no container, task,
// snapshot, lease, shim or sandbox process.
//
// Runs in the modern leg only (a cgroup v2 guest with containerd 2.x, runsc and its shim first on PATH:
// scripts/lib/runtimes.sh builds them). Without them the tests fail and say so: they never skip.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { BUSYBOX, purgeNamespace, startDriver, type TestDriver } from "../harness/driver.ts";
import { call, SLOW_FACTOR } from "../harness/plugin.ts";
import { makeTask, type PreparedTask } from "../harness/task.ts";
import { shortTempDir, waitFor } from "../harness/services.ts";
import { type AllocStub, type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import type { ExecTaskResponse } from "../../src/gen/nomad/driver.ts";

const RUNSC = "io.containerd.runsc.v1";
const SHIM = "containerd-shim-runsc-v1";
const dec = new TextDecoder();
/**
 * gVisor's shim at the pinned version passes the container's stdio to `runsc create` only for a container
 * CRI marks as a sandbox; any other (ctr's, ours) makes it wait forever for a pipe the sandbox inherited
 * (upstream's fix, "shim: treat non-CRI init as sandbox", is not on its `go` branch). The annotation, set
 * through runtime_options, marks ours as that: each task is a sandbox of its own.
 */
const SANDBOX_ANNOTATION = { "io.kubernetes.cri.container-type": "sandbox" };

/**
 * runsc flags for the shim (its `[runsc_config]` table: each key is a runsc flag). The guest runs under
 * TCG (no KVM): the systrap platform (runsc's default) works there. CDRV_TEST_RUNSC_FLAGS
 * ("name=value,...") adds or overrides flags for a host that needs others.
 */
function runscFlags(): Record<string, string> {
  const flags: Record<string, string> = { platform: "systrap" };
  for (const kv of (Deno.env.get("CDRV_TEST_RUNSC_FLAGS") ?? "").split(",").filter(Boolean)) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new Error(`CDRV_TEST_RUNSC_FLAGS: "${kv}" is not name=value`);
    flags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return flags;
}

/** Fails (never skips) when runsc or its shim is not where containerd looks: its PATH, which is ours. */
async function requireRunsc(): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `command -v runsc && command -v ${SHIM} && runsc --version`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `runsc and ${SHIM} must be on PATH (containerd finds shims there): this test runs in the modern leg, ` +
        `with $(cdrv_gvisor_bin) of scripts/lib/runtimes.sh first on PATH; PATH=${Deno.env.get("PATH")}`,
    );
  }
  const version = dec.decode(out.stdout).trim().split("\n");
  console.log(`runsc: ${version[0]} (${version[2]})`);
  return version[0];
}

/** The runsc shim config file (TOML), in a dir of the test's own; returns its path. */
async function writeShimConfig(dir: string): Promise<string> {
  const flags = Object.entries(runscFlags()).map(([k, v]) => `  ${JSON.stringify(k)} = ${JSON.stringify(v)}`);
  const path = `${dir}/runsc.toml`;
  await Deno.writeTextFile(path, `[runsc_config]\n${flags.join("\n")}\n`);
  return path;
}

/** `ps -eo args` lines that mention `word` (processes of a container, by its id). */
async function processesWith(word: string): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-eo", "pid=,args="], stdout: "piped" }).output();
  return dec.decode(out.stdout).split("\n").filter((l) => l.includes(word) && !l.includes(" ps -eo "));
}

/** Asserts the container's shim is gVisor's (and that no runc shim serves it). */
async function assertServedByRunsc(cid: string, namespace: string): Promise<void> {
  const shims = (await processesWith(namespace)).filter((l) => /containerd-shim-/.test(l));
  assert(shims.some((l) => l.includes(SHIM)), `no ${SHIM} for namespace ${namespace}: ${shims.join("\n")}`);
  assertEquals(shims.filter((l) => l.includes("containerd-shim-runc")), [], "a runc shim serves the task");
  const sandbox = await processesWith(cid);
  assert(sandbox.some((l) => /runsc/.test(l)), `no runsc process for ${cid}: ${sandbox.join("\n")}`);
}

/** Asserts containerd holds nothing of the driver's tasks and no process mentions the container. */
async function assertNothingLeft(d: TestDriver, cid: string): Promise<void> {
  assertEquals((await d.ctr("tasks", "ls", "-q")).trim(), "");
  assertEquals((await d.ctr("containers", "ls", "-q")).trim(), "");
  assertEquals((await d.ctr("snapshots", "ls")).split("\n").filter((l) => l.startsWith(cid)), []);
  assertEquals((await d.ctr("leases", "ls", "-q")).trim(), "");
  await waitFor(
    "the shim and sandbox processes to end",
    async () => (await processesWith(cid)).length === 0,
    10_000 * SLOW_FACTOR,
  )
    .catch(async (e) => {
      throw new Error(`${e.message}; left: ${(await processesWith(cid)).join("\n")}`);
    });
}

Deno.test({
  name: "runsc via the plugin: runs in gVisor, logs, exec, signal, prompt stop, destroy leaves nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await requireRunsc();
    const dir = await shortTempDir("cdrv-runsc-");
    const configPath = await writeShimConfig(dir);
    const d = await startDriver({
      runtime_options: [{ runtime: RUNSC, config_path: configPath, annotations: [SANDBOX_ANNOTATION] }],
    });
    const tasks: PreparedTask[] = [];
    try {
      const t = await makeTask({
        config: {
          image: BUSYBOX,
          runtime: RUNSC,
          entrypoint: ["/sbin/tini", "--"],
          command: "/bin/sh",
          args: [
            "-c",
            "dmesg | head -1; trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done",
          ],
        },
      });
      tasks.push(t);
      const t0 = performance.now();
      const res = await d.start(t.config);
      console.log(
        `StartTask under runsc (image pulled on first use): ${(performance.now() - t0).toFixed(0)} ms`,
      );
      const cid = JSON.parse(dec.decode(res.handle!.driverState)).containerId as string;
      await waitFor("ready", () => t.stdout.lines().includes("ready"), 30_000 * SLOW_FACTOR);
      console.log(`start → first output: ${(performance.now() - t0).toFixed(0)} ms`);
      assertMatch(t.stdout.lines()[0], /Starting gVisor/, `the task's dmesg: ${t.stdout.text()}`);
      const info = JSON.parse(await d.ctr("containers", "info", cid));
      assertEquals(info.Runtime.Name, RUNSC);
      await assertServedByRunsc(cid, d.namespace);

      const t1 = performance.now();
      const ex = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
        taskId: t.config.id,
        command: ["/bin/sh", "-c", "dmesg | head -1; exit 5"],
        timeout: { seconds: BigInt(30 * SLOW_FACTOR), nanos: 0 },
      });
      console.log(`ExecTask: ${(performance.now() - t1).toFixed(0)} ms`);
      assertMatch(dec.decode(ex.stdout), /Starting gVisor/);
      assertEquals(ex.result?.exitCode, 5);

      await d.signal(t.config.id, "SIGUSR1");
      await waitFor("USR1 handled", () => t.stdout.lines().includes("got-usr1"), 10_000 * SLOW_FACTOR);

      // Prompt: SIGTERM ends it (signal 15), long before the timeout's SIGKILL (signal 9) would. The
      // timeout is generous, so that a slow guest does not turn a late SIGTERM exit into a SIGKILL.
      const stopTimeoutMs = 30_000 * SLOW_FACTOR;
      const t2 = performance.now();
      await d.stop(t.config.id, stopTimeoutMs);
      const stopMs = performance.now() - t2;
      const r = await d.wait(t.config.id);
      console.log(
        `stop of a tini-wrapped task under runsc: ${stopMs.toFixed(0)} ms (timeout ${stopTimeoutMs} ms)`,
      );
      assertEquals(r.signal, 15, `the task did not end on SIGTERM: ${JSON.stringify(r)}`);
      assert(
        stopMs < stopTimeoutMs,
        `StopTask took ${stopMs.toFixed(0)} ms for a task that exits on SIGTERM`,
      );

      const t3 = performance.now();
      await d.destroy(t.config.id);
      console.log(`DestroyTask: ${(performance.now() - t3).toFixed(0)} ms`);
      await assertNothingLeft(d, cid);
    } finally {
      await d.close();
      for (const t of tasks) await t.cleanup();
      await purgeNamespace(d.namespace);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** The job's kill_timeout: far beyond a SIGTERM exit even in a slow guest. */
const KILL_TIMEOUT_S = 30 * SLOW_FACTOR;

/** The job: busybox from the agent's docker.io mirror, under runsc, tini as PID 1. */
function jobHcl(job: string): string {
  return `job "${job}" {
  datacenters = ["dc1"]
  group "g" {
    task "gv" {
      driver       = "containerd-driver"
      kill_timeout = "${KILL_TIMEOUT_S}s"
      config {
        image      = "docker.io/library/busybox:1.36"
        runtime    = "${RUNSC}"
        entrypoint = ["/sbin/tini", "--"]
        command    = "/bin/sh"
        args       = ["-c", "dmesg | head -1; trap 'echo got SIGUSR1' USR1; echo ready; while true; do sleep 0.2; done"]
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`;
}

Deno.test({
  name: "runsc under Nomad 1.6.3: job runs in gVisor, alloc logs/exec/signal, prompt stop, nothing left",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await requireRunsc();
    const dir = await shortTempDir("cdrv-runsc-");
    const configPath = await writeShimConfig(dir);
    const namespace = `cdrv-gv-${crypto.randomUUID().slice(0, 6)}`;
    const agent: NomadAgent = await startTestAgent({
      namespace,
      extraPluginConfig: `runtime_options {
      runtime     = "${RUNSC}"
      config_path = "${configPath}"
      annotations = ${JSON.stringify(SANDBOX_ANNOTATION).replace(":", " = ")}
    }`,
    });
    try {
      const job = `gvisor-${crypto.randomUUID().slice(0, 6)}`;
      await Deno.writeTextFile(`${dir}/job.nomad`, jobHcl(job));
      const t0 = performance.now();
      await agent.run(`${dir}/job.nomad`);
      const alloc: AllocStub = await agent.waitAlloc(job, "running", 120_000 * SLOW_FACTOR);
      const logs = async () => (await agent.cli("alloc", "logs", alloc.ID, "gv")).stdout;
      const out = await waitFor("ready in the logs", async () => {
        const l = await logs();
        return l.includes("ready") && l;
      }, 30_000 * SLOW_FACTOR);
      console.log(`nomad job run → output in alloc logs: ${(performance.now() - t0).toFixed(0)} ms`);
      assertMatch(out.split("\n")[0], /Starting gVisor/, `alloc logs: ${out}`);

      const ctr = (...args: string[]) =>
        new Deno.Command("ctr", {
          args: ["--address", Deno.env.get("CDRV_TEST_CONTAINERD_SOCK")!, "-n", namespace, ...args],
          stdout: "piped",
        }).output().then((o) => dec.decode(o.stdout));
      const cids = (await ctr("containers", "ls", "-q")).trim().split("\n").filter(Boolean);
      assertEquals(cids.length, 1, `containers: ${cids}`);
      const cid = cids[0];
      assertEquals(JSON.parse(await ctr("containers", "info", cid)).Runtime.Name, RUNSC);
      await assertServedByRunsc(cid, namespace);

      const ex = await agent.cli(
        "alloc",
        "exec",
        "-i=false",
        "-t=false",
        "-task",
        "gv",
        alloc.ID,
        "/bin/dmesg",
      );
      assertEquals(ex.code, 0, JSON.stringify(ex));
      assertMatch(ex.stdout, /Starting gVisor/);

      const sig = await agent.cli("alloc", "signal", "-s", "SIGUSR1", alloc.ID, "gv");
      assertEquals(sig.code, 0, sig.stderr);
      await waitFor(
        "SIGUSR1 in the logs",
        async () => (await logs()).includes("got SIGUSR1"),
        15_000 * SLOW_FACTOR,
      );

      const t1 = performance.now();
      const stop = await agent.cli("job", "stop", "-detach", job);
      assertEquals(stop.code, 0, JSON.stringify(stop));
      await agent.waitAlloc(job, "complete", (KILL_TIMEOUT_S + 60) * 1000 * SLOW_FACTOR);
      const stopMs = performance.now() - t1;
      console.log(
        `nomad job stop → complete under runsc: ${stopMs.toFixed(0)} ms (kill_timeout ${KILL_TIMEOUT_S} s)`,
      );
      // Ended by SIGTERM (Nomad's Terminated event says signal 15), not by the SIGKILL after kill_timeout.
      const full = await agent.api<
        { TaskStates: Record<string, { Events: { Type: string; ExitCode: number; Signal: number }[] }> }
      >(`/v1/allocation/${alloc.ID}`);
      const ended = full.TaskStates.gv.Events.find((e) => e.Type === "Terminated");
      assert(
        ended?.Signal === 15 || ended?.ExitCode === 143,
        `not ended by SIGTERM: ${JSON.stringify(ended)}`,
      );
      assert(
        stopMs < KILL_TIMEOUT_S * 1000,
        `stop took ${stopMs.toFixed(0)} ms: SIGTERM did not end the task`,
      );

      // Nomad destroys the task when the alloc is collected: nothing of it stays in containerd.
      await agent.cli("system", "gc");
      await waitFor(
        "the container to be removed",
        async () => (await ctr("containers", "ls", "-q")).trim() === "",
        30_000 * SLOW_FACTOR,
      );
      assertEquals((await ctr("tasks", "ls", "-q")).trim(), "");
      assertEquals((await ctr("snapshots", "ls")).split("\n").filter((l) => l.startsWith(cid)), []);
      assertEquals((await ctr("leases", "ls", "-q")).trim(), "");
      await waitFor(
        "the shim and sandbox processes to end",
        async () => (await processesWith(cid)).length === 0,
        10_000 * SLOW_FACTOR,
      );
    } finally {
      await agent.stop();
      await purgeNamespace(namespace);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
