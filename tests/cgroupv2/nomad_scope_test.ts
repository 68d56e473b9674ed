// cgroup v2, playing Nomad 1.6's client precisely: it makes /sys/fs/cgroup/nomad.slice/<alloc>.<task>.scope,
// writes its cpuset.cpus (its shared pool plus the task's reserved cores) and passes the path as
// LinuxResources.CpusetCgroupPath. The container runs in that very cgroup (runc takes the existing, empty
// cgroup), with the task's limits written there and Nomad's cpuset left as Nomad wrote it (and followed when
// Nomad rewrites it); exec runs there too. After a plugin restart RecoverTask keeps it; DestroyTask leaves
// the scope made again, empty, as Nomad's exec driver does (runc removed the old one: Nomad's cpuset is
// gone from it), for a restart in the same allocation; Nomad then removes it with nothing left inside. A start
// that fails in the runtime leaves it there too.
import { cpus } from "node:os";
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX, purgeNamespace, startDriver, type TestDriver } from "../harness/driver.ts";
import { makeTask, type PreparedTask } from "../harness/task.ts";
import { waitFor } from "../harness/services.ts";
import type { ExecTaskResponse } from "../../src/gen/nomad/driver.ts";
import { call } from "../harness/plugin.ts";
import { cgExists, cgRead, CGROUP_ROOT, cgroupOf, requireCgroupV2, sh, taskPid } from "./v2.ts";

const MB = 1024 * 1024;

async function execIn(d: TestDriver, taskId: string, ...command: string[]): Promise<string> {
  const r = await call<typeof d.p.driver, ExecTaskResponse>(d.p.driver, "execTask", {
    taskId,
    command,
    timeout: { seconds: 20n, nanos: 0 },
  });
  const dec = new TextDecoder();
  assertEquals(r.result?.exitCode, 0, dec.decode(r.stderr));
  return dec.decode(r.stdout);
}

/** Cpus_allowed_list of a process. */
async function allowed(pid: number): Promise<string> {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(await sh("cat", `/proc/${pid}/status`));
  return m![1];
}

Deno.test("cgroup v2: the container runs in the cgroup Nomad made for the task (CpusetCgroupPath)", async (t) => {
  await requireCgroupV2();
  const ncpu = cpus().length;
  assert(ncpu >= 2, `this test needs 2 CPUs to move a cpuset; the host has ${ncpu}`);
  const all = `0-${ncpu - 1}`;
  const last = String(ncpu - 1);
  const slice = "/nomad.slice";
  const sliceExisted = await cgExists(slice);
  let d: TestDriver | undefined = await startDriver();
  const ns = d.namespace;
  let task: PreparedTask | undefined;
  let scope = "";
  try {
    // As Nomad's cpuset manager: the slice with the controllers on for its children, then the task's scope.
    await sh("mkdir", "-p", `${CGROUP_ROOT}${slice}`);
    await sh(
      "sh",
      "-c",
      `echo "+cpuset +cpu +io +memory +pids" > ${CGROUP_ROOT}${slice}/cgroup.subtree_control`,
    );
    task = await makeTask({
      memoryMb: 48,
      cpuShares: 500,
      // a task with one reserved core: Nomad passes it as CpusetCpus and writes pool ∪ reserved in the scope
      linux: { cpusetCpus: last },
      config: { image: BUSYBOX, command: "/bin/sleep", args: ["3600"] },
    });
    scope = `${slice}/${task.config.allocId}.${task.config.name}.scope`;
    await sh("mkdir", `${CGROUP_ROOT}${scope}`);
    await sh("sh", "-c", `echo ${all} > ${CGROUP_ROOT}${scope}/cpuset.cpus`);
    task.config.resources!.linuxResources!.cpusetCgroup = `${CGROUP_ROOT}${scope}`;
    const started = await d.start(task.config);
    const cid = JSON.parse(new TextDecoder().decode(started.handle!.driverState)).containerId;
    const pid = await taskPid(d, cid);

    await t.step("the task's cgroup is Nomad's scope; its limits are written there", async () => {
      assertEquals(await cgroupOf(pid), scope);
      assertEquals(await cgRead(scope, "cgroup.procs"), String(pid));
      assertEquals(await cgRead(scope, "memory.max"), String(48 * MB));
      assert(await cgExists(`/${ns}/${cid}`) === false, "a cgroup /<namespace>/<id> was made too");
    });

    await t.step(
      "Nomad's cpuset stays as Nomad wrote it (not the reserved core alone) and is followed",
      async () => {
        assertEquals(await cgRead(scope, "cpuset.cpus"), all);
        assertEquals(await cgRead(scope, "cpuset.cpus.effective"), all);
        assertEquals(await allowed(pid), all);
        // Nomad shrinks the pool when another task reserves cores: it rewrites the scope's cpuset.cpus.
        await sh("sh", "-c", `echo 0 > ${CGROUP_ROOT}${scope}/cpuset.cpus`);
        await waitFor(
          "the task's CPUs to follow Nomad's cpuset",
          async () => (await allowed(pid)) === "0",
          5000,
        );
        assertEquals(await execIn(d!, task!.config.id, "cat", "/sys/fs/cgroup/cpuset.cpus.effective"), "0\n");
      },
    );

    await t.step("exec runs in the same cgroup", async () => {
      const out = await execIn(
        d!,
        task!.config.id,
        "/bin/sh",
        "-c",
        "cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max",
      );
      assertEquals(out, `0::/\n${48 * MB}\n`);
    });

    await t.step(
      "after a plugin restart: recovered; DestroyTask leaves the scope made again, empty",
      async () => {
        await d!.close();
        d = await startDriver({}, { namespace: ns });
        await d.recover(started.handle!);
        assertEquals(await execIn(d, task!.config.id, "cat", "/proc/self/cgroup"), "0::/\n");
        await d.destroy(task!.config.id, true);
        assert(
          await cgExists(scope),
          "the scope is gone after DestroyTask: a restart in the allocation would wait forever",
        );
        assertEquals(await cgRead(scope, "cgroup.procs"), "");
        // A new directory: runc removed the old one (and Nomad's cpuset.cpus with it).
        assertEquals(await cgRead(scope, "cpuset.cpus"), "");
        // Nomad removes it when the allocation ends: nothing is left inside.
        await sh("rmdir", `${CGROUP_ROOT}${scope}`);
      },
    );

    await t.step(
      "a start that fails in the runtime leaves the scope there for Nomad's next try",
      async () => {
        const bad = await makeTask({ config: { image: BUSYBOX, command: "/cdrv-no-such-binary" } });
        const badScope = `${slice}/${bad.config.allocId}.${bad.config.name}.scope`;
        try {
          await sh("mkdir", `${CGROUP_ROOT}${badScope}`);
          bad.config.resources!.linuxResources!.cpusetCgroup = `${CGROUP_ROOT}${badScope}`;
          const err = await d!.start(bad.config).then(() => undefined, (e: Error) => e);
          console.log(`failed start: ${err?.message}`);
          assert(err, "a task with a missing binary started");
          assert(
            await cgExists(badScope),
            "the scope is gone after a failed start: Nomad's restart would wait forever",
          );
          assertEquals(await cgRead(badScope, "cgroup.procs"), "");
        } finally {
          await bad.cleanup();
          await sh("rmdir", `${CGROUP_ROOT}${badScope}`).catch(() => {});
        }
      },
    );
  } finally {
    await d?.close();
    await task?.cleanup();
    await purgeNamespace(ns);
    if (scope) await sh("rmdir", `${CGROUP_ROOT}${scope}`).catch(() => {});
    if (!sliceExisted) await sh("rmdir", `${CGROUP_ROOT}${slice}`).catch(() => {});
  }
});
