// containerd 2.x, on purpose: a runtime 2.0 removed (io.containerd.runc.v1), named by the task's `runtime`
// or the plugin's `containerd_runtime`, and a runtime whose shim the daemon cannot start, fail StartTask with
// an error naming the option, the value, the daemon's version and what works, and leave no container, task,
// snapshot or lease behind. After a full lifecycle (pull, start, logs, exec, signal, stats, plugin SIGKILL
// and recover, stop, destroy) `ctr deprecations list` shows nothing: no call of ours uses a deprecated API.
import { assert, assertEquals } from "../harness/assert.ts";
import {
  BUSYBOX,
  CTD_SOCK,
  details,
  purgeNamespace,
  startDriver,
  type TestDriver,
} from "../harness/driver.ts";
import { makeTask, type PreparedTask } from "../harness/task.ts";
import { waitFor } from "../harness/services.ts";
import type { ExecTaskResponse, TaskStatsResponse } from "../../src/gen/nomad/driver.ts";
import { call } from "../harness/plugin.ts";
import { requireCgroupV2, sh } from "./v2.ts";

/** Fails unless `text` holds `part`, showing both. */
function assertStringIncludes(text: string, part: string): void {
  assert(text.includes(part), `expected ${JSON.stringify(part)} in: ${text}`);
}

/**
 * The daemon's version (ctr version's Server part); fails unless it is 2.x on a cgroup v2 host (on v1,
 * containerd 2.2+ itself records a cgroup-v1 deprecation, which is not ours).
 */
async function requireContainerd2(): Promise<string> {
  await requireCgroupV2();
  const out = await sh("ctr", "--address", CTD_SOCK, "version");
  const server = /Server:[\s\S]*?Version:\s*(\S+)/.exec(out)?.[1] ?? "";
  const client = /Client:[\s\S]*?Version:\s*(\S+)/.exec(out)?.[1] ?? "";
  if (!/^v?[2-9]\./.test(server) || !/^v?[2-9]\./.test(client)) {
    throw new Error(
      `these tests need containerd 2.x and its ctr (the modern leg runs 2.4.2); the test containerd is ` +
        `"${server}" and ctr "${client}": put the 2.x binaries first on PATH`,
    );
  }
  return server.replace(/^v/, "");
}

/** What is left in a namespace that a failed start must not leave: containers, tasks, active snapshots, leases. */
async function leftovers(d: TestDriver): Promise<Record<string, string[]>> {
  const ls = async (...a: string[]) => (await d.ctr(...a)).split("\n").filter(Boolean);
  return {
    containers: await ls("containers", "ls", "-q"),
    tasks: (await ls("tasks", "ls")).slice(1),
    activeSnapshots: (await ls("snapshots", "ls")).slice(1).filter((l) => !/\sCommitted\s*$/.test(l)),
    leases: await ls("leases", "ls", "-q"),
  };
}

const NOTHING = { containers: [], tasks: [], activeSnapshots: [], leases: [] };

async function refusedStart(d: TestDriver, config: Record<string, string>): Promise<string> {
  const t = await makeTask({ config: { image: BUSYBOX, command: "/bin/true", ...config } });
  try {
    await d.start(t.config);
    await d.destroy(t.config.id).catch(() => {});
    throw new Error(`StartTask with ${JSON.stringify(config)} succeeded`);
  } catch (e) {
    return details(e);
  } finally {
    await t.cleanup();
  }
}

Deno.test("containerd 2.x: removed or unstartable runtimes are refused by name; nothing leaks", async (t) => {
  const version = await requireContainerd2();
  const d = await startDriver();
  const viaPlugin = await startDriver({ containerd_runtime: "io.containerd.runc.v1" });
  try {
    await t.step('task "runtime" = io.containerd.runc.v1', async () => {
      const msg = await refusedStart(d, { runtime: "io.containerd.runc.v1" });
      console.log(`refused: ${msg}`);
      assertStringIncludes(
        msg,
        `task config "runtime": "io.containerd.runc.v1" was removed in containerd 2.0`,
      );
      assertStringIncludes(msg, `this node runs containerd ${version}`);
      assertStringIncludes(msg, `use "io.containerd.runc.v2"`);
      assertEquals(await leftovers(d), NOTHING);
    });

    await t.step('plugin "containerd_runtime" = io.containerd.runc.v1', async () => {
      const msg = await refusedStart(viaPlugin, {});
      console.log(`refused: ${msg}`);
      assertStringIncludes(msg, `plugin config "containerd_runtime": "io.containerd.runc.v1" was removed`);
      assertStringIncludes(msg, `use "io.containerd.runc.v2"`);
      assertEquals(await leftovers(viaPlugin), NOTHING);
    });

    await t.step(
      "a runtime whose shim is not installed: containerd's reason, the option, what works",
      async () => {
        const msg = await refusedStart(d, { runtime: "io.containerd.cdrvnope.v2" });
        console.log(`refused: ${msg}`);
        assertStringIncludes(
          msg,
          `task config "runtime": containerd ${version} cannot start the shim of runtime`,
        );
        assertStringIncludes(msg, `"io.containerd.cdrvnope.v2"`);
        assertStringIncludes(msg, "containerd-shim-cdrvnope-v2");
        assertStringIncludes(msg, `use "io.containerd.runc.v2"`);
        // The image was pulled (it stays cached); the container, its snapshot and the start's lease are gone.
        assertEquals(await leftovers(d), NOTHING);
      },
    );

    await t.step("io.containerd.runc.v2 named explicitly runs", async () => {
      const ok = await makeTask({
        config: { image: BUSYBOX, command: "/bin/echo", args: ["runc-v2"], runtime: "io.containerd.runc.v2" },
      });
      try {
        await d.start(ok.config);
        assertEquals((await d.wait(ok.config.id)).exitCode, 0);
        await waitFor("output", () => ok.stdout.text().includes("runc-v2"), 5000);
        await d.destroy(ok.config.id);
      } finally {
        await ok.cleanup();
      }
    });
  } finally {
    await d.close();
    await viaPlugin.close();
    await purgeNamespace(d.namespace);
    await purgeNamespace(viaPlugin.namespace);
  }
});

async function statsOnce(d: TestDriver, taskId: string): Promise<TaskStatsResponse> {
  const s = d.p.driver.taskStats({ taskId, collectionInterval: { seconds: 1n, nanos: 0 } });
  const m = await new Promise<TaskStatsResponse>((resolve, reject) => {
    s.on("data", resolve);
    s.on("error", reject);
  });
  s.cancel();
  s.on("error", () => {});
  return m;
}

Deno.test("containerd 2.x: a full lifecycle triggers no deprecation warning (ctr deprecations list)", async () => {
  await requireContainerd2();
  let d = await startDriver();
  const ns = d.namespace;
  const tasks: PreparedTask[] = [];
  try {
    const t = await makeTask({
      config: {
        image: BUSYBOX,
        entrypoint: ["/sbin/tini", "--"],
        command: "/bin/sh",
        args: ["-c", "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done"],
        force_pull: true,
      },
    });
    tasks.push(t);
    const res = await d.start(t.config);
    await waitFor("ready", () => t.stdout.lines().includes("ready"), 20_000);
    const ex = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
      taskId: t.config.id,
      command: ["/bin/echo", "exec-ok"],
      timeout: { seconds: 20n, nanos: 0 },
    });
    assertEquals(new TextDecoder().decode(ex.stdout), "exec-ok\n");
    await d.signal(t.config.id, "SIGUSR1");
    await waitFor("the signal", () => t.stdout.lines().includes("got-usr1"), 10_000);
    assert((await statsOnce(d, t.config.id)).stats?.aggResourceUsage?.memory);
    d.p.child.kill("SIGKILL");
    await d.p.status;
    d = await startDriver({}, { namespace: ns });
    await d.recover(res.handle!);
    await d.stop(t.config.id, 5000);
    await d.destroy(t.config.id);
    // A task that exits on its own, and one refused (nothing of ours may trigger a warning on any path).
    const once = await makeTask({ config: { image: BUSYBOX, command: "/bin/true" } });
    tasks.push(once);
    await d.start(once.config);
    await d.wait(once.config.id);
    await d.destroy(once.config.id);
    const list = await sh("ctr", "--address", CTD_SOCK, "deprecations", "list", "--format", "json");
    console.log(`ctr deprecations list: ${list.trim()}`);
    assertEquals(JSON.parse(list.trim() || "null") ?? [], [], "containerd recorded deprecation warnings");
  } finally {
    await d.close();
    for (const t of tasks) await t.cleanup();
    await purgeNamespace(ns);
  }
});
