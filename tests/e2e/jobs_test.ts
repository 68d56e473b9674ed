// The example jobs under a real Nomad agent, used the way operators use them: `nomad job run`, then
// `nomad alloc logs`, `nomad alloc exec`, `nomad alloc signal`, `nomad alloc stop`; redis on a bridge
// network answers PING on its dynamic host port.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { shortTempDir, waitFor } from "../harness/services.ts";
import { ROOT, SLOW_FACTOR } from "../harness/plugin.ts";

const EX = `${ROOT}/example`;

async function redisPing(port: number): Promise<string> {
  // RESP over a plain TCP connection: no redis-cli needed (the modern leg's guest has none).
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim().replace(/^\+/, "");
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "example jobs run under Nomad: redis on a bridge port, logs, exec, signals, prompt stop",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const namespace = `cdrv-e2e-${crypto.randomUUID().slice(0, 6)}`;
    const agent: NomadAgent = await startTestAgent({ namespace });
    try {
      await t.step("redis (bridge network, dynamic port): PONG from the host", async () => {
        const t0 = performance.now();
        await agent.run(`${EX}/redis.nomad`);
        const alloc = await agent.waitAlloc("redis", "running");
        console.log(`nomad job run → running: ${(performance.now() - t0).toFixed(0)} ms`);
        const full = await agent.api<
          { AllocatedResources: { Shared: { Ports: { Label: string; Value: number }[] } } }
        >(
          `/v1/allocation/${alloc.ID}`,
        );
        const port = full.AllocatedResources.Shared.Ports.find((p) => p.Label === "db")!.Value;
        assertEquals(
          await waitFor(
            "PONG",
            async () => (await redisPing(port).catch(() => "")) === "PONG" && "PONG",
            15000 * SLOW_FACTOR,
          ),
          "PONG",
        );
        const logs = await agent.cli("alloc", "logs", alloc.ID, "redis");
        assertMatch(logs.stdout, /Ready to accept connections/);
        const ex = await agent.cli(
          "alloc",
          "exec",
          "-task",
          "redis",
          alloc.ID,
          "/bin/sh",
          "-c",
          "hostname; id -u",
        );
        assertEquals(ex.code, 0, JSON.stringify(ex));
        assertEquals(ex.stdout.trim().split("\n"), ["redis", "0"]);
        const t1 = performance.now();
        const stop = await agent.cli("job", "stop", "-detach", "redis");
        assertEquals(stop.code, 0, JSON.stringify(stop));
        await agent.waitAlloc("redis", "complete", 60000);
        const ms = performance.now() - t1;
        console.log(`nomad job stop redis → complete: ${ms.toFixed(0)} ms`);
      });

      await t.step(
        "signals: nomad alloc signal is delivered; stop uses kill_signal and is prompt",
        async () => {
          await agent.run(`${EX}/signal.nomad`);
          const alloc = await agent.waitAlloc("signals", "running");
          const logs = async () => (await agent.cli("alloc", "logs", alloc.ID, "signals")).stdout;
          await waitFor("ready", async () => (await logs()).includes("ready"), 15000);
          for (const sig of ["SIGHUP", "SIGUSR1"]) {
            const r = await agent.cli("alloc", "signal", "-s", sig, alloc.ID, "signals");
            assertEquals(r.code, 0, r.stderr);
            await waitFor(`${sig} in logs`, async () => (await logs()).includes(`got ${sig}`), 10000);
          }
          // -detach: without it the CLI also waits for the replacement allocation's deployment.
          const t0 = performance.now();
          const r = await agent.cli("alloc", "stop", "-detach", alloc.ID);
          assertEquals(r.code, 0, r.stderr);
          await waitFor(
            "the stopped allocation complete",
            async () => {
              const a = await agent.api<{ ClientStatus: string }>(`/v1/allocation/${alloc.ID}`);
              return a.ClientStatus === "complete";
            },
            30000,
            100,
          );
          const ms = performance.now() - t0;
          console.log(
            `nomad alloc stop → complete (task exits on SIGTERM, kill_timeout 10s): ${ms.toFixed(0)} ms`,
          );
          assertMatch(await logs(), /got SIGTERM, bye/);
          assert(
            ms < 10000 * SLOW_FACTOR,
            `alloc stop took ${ms} ms although the task exits at once on SIGTERM`,
          );
          await agent.cli("job", "stop", "-purge", "signals");
        },
      );

      await t.step(
        "batch job: entrypoint + command, stdout and stderr in nomad alloc logs, exit 0",
        async () => {
          await agent.run(`${EX}/entrypoint.nomad`);
          const alloc = await agent.waitAlloc("entrypoint", "complete");
          const out = await agent.cli("alloc", "logs", alloc.ID, "hello");
          assertEquals(out.stdout, "hello from hello-box as 0\n");
          const err = await agent.cli("alloc", "logs", "-stderr", alloc.ID, "hello");
          assertEquals(err.stdout, "to-stderr\n");
        },
      );
      await t.step(
        "a registry that is down is retried under the restart policy; a bad config is not",
        async () => {
          const dir = await shortTempDir("cdrv-jobs-");
          const job = (name: string, config: string) =>
            `job "${name}" {
  datacenters = ["dc1"]
  type = "batch"
  group "g" {
    restart {
      attempts = 1
      delay    = "1s"
      mode     = "fail"
    }
    task "t" {
      driver = "containerd-driver"
      config {
        ${config}
      }
    }
  }
}`;
          // A port nothing listens on: connection refused, a transient failure.
          await Deno.writeTextFile(`${dir}/down.nomad`, job("down", `image = "127.0.0.1:9/cdrv/busybox:1"`));
          await Deno.writeTextFile(
            `${dir}/bad.nomad`,
            job("bad", `image = "docker.io/library/busybox:1.36"\n        shm_size = "12Q"`),
          );
          await agent.run(`${dir}/down.nomad`);
          await agent.run(`${dir}/bad.nomad`);
          const down = await agent.waitAlloc("down", "failed", 60000);
          const bad = await agent.waitAlloc("bad", "failed", 60000);
          const events = async (id: string) => {
            const a = await agent.api<
              { TaskStates: Record<string, { Events: { Type: string; DisplayMessage: string }[] }> }
            >(
              `/v1/allocation/${id}`,
            );
            return a.TaskStates.t.Events.map((e) => `${e.Type}: ${e.DisplayMessage}`);
          };
          const de = await events(down.ID);
          const be = await events(bad.ID);
          assert(
            de.some((e) => e.startsWith("Restarting:")),
            `no restart after a transient failure:\n${de.join("\n")}`,
          );
          assert(de.some((e) => /pull 127\.0\.0\.1:9\/cdrv\/busybox:1 from registry/.test(e)), de.join("\n"));
          assert(!be.some((e) => e.startsWith("Restarting:")), `a bad config was retried:\n${be.join("\n")}`);
          assert(be.some((e) => e.includes(`task config "shm_size": "12Q" is not a size`)), be.join("\n"));
          await agent.cli("job", "stop", "-purge", "down");
          await agent.cli("job", "stop", "-purge", "bad");
          await Deno.remove(dir, { recursive: true });
        },
      );
    } finally {
      await agent.cli("job", "stop", "-purge", "redis");
      await agent.cli("job", "stop", "-purge", "entrypoint");
      await agent.stop();
      await purgeNamespace(namespace);
    }
  },
});
