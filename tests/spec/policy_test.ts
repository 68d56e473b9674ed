// Refusals, against real containerd through the plugin with allow_privileged = false and
// volumes.enabled = false: bad values and refused combinations fail StartTask with an error naming the
// option, the value and what is allowed — before anything is pulled or created (the namespace stays
// empty) — while allowed mounts under the task and alloc dirs still work.
import { assert, assertEquals } from "../harness/assert.ts";
import { specTest } from "./suite.ts";
import type { CtyValue } from "../../src/schema/values.ts";

specTest("spec: refusals name the option and create nothing", async (s, t) => {
  await t.step("bad values and refused combinations, with nothing left in containerd", async () => {
    const cases: [Record<string, CtyValue>, string, string][] = [
      [{ cap_add: ["CAP_FLY"] }, "cap_add[0]", '"CAP_FLY" is not a Linux capability'],
      [{ cap_drop: ["chown", "fly"] }, "cap_drop[1]", '"fly" is not a Linux capability'],
      [{ shm_size: "12Q" }, "shm_size", '"12Q"'],
      [{ mounts: [{ type: "nfs", target: "/x", source: "a" }] }, "mounts[0].type", '"nfs"'],
      [{ mounts: [{ type: "bind", target: "data", source: "local" }] }, "mounts[0].target", '"data"'],
      [{ mounts: [{ type: "tmpfs", target: "/" }] }, "mounts[0].target", '"/"'],
      [{ ulimit: [{ nofile: "10:5" }] }, "ulimit.nofile", '"10:5"'],
      [{ ulimit: [{ files: "10" }] }, "ulimit.files", '"files" is not a resource limit'],
      [{ sysctl: [{ "kernel.panic": "1" }] }, "sysctl.kernel.panic", "is not a namespaced sysctl"],
      [{ host_network: true, sysctl: [{ "net.core.somaxconn": "1" }] }, "sysctl.net.core.somaxconn", "host"],
      [{ extra_hosts: ["nocolon"] }, "extra_hosts[0]", '"nocolon"'],
      [{ devices: ["/dev/cdrv-nonexistent"] }, "devices", '"/dev/cdrv-nonexistent" does not exist'],
      [{ devices: ["relative"] }, "devices[0]", '"relative" is not a device'],
      [{ hostname: "bad_host!" }, "hostname", '"bad_host!"'],
      [{ pid_mode: "container:x" }, "pid_mode", '"container:x"'],
      [{ memory_reservation: "1G" }, "memory_reservation", "above the memory limit"],
      [{ memory_swap: "64M" }, "memory_swap", "below the memory limit"],
      [{ memory_swappiness: 101 }, "memory_swappiness", "101"],
      [{ cpu_hard_limit: true, cpu_cfs_period: 10 }, "cpu_cfs_period", "10"],
      [{ seccomp: false, seccomp_profile: "p.json" }, "seccomp_profile", '"p.json"'],
      [{ seccomp_profile: "missing.json" }, "seccomp_profile", "missing.json"],
      [{ init: true, init_path: "/nonexistent/tini" }, "init_path", '"/nonexistent/tini" does not exist'],
      [
        { labels: [{ "com.hashicorp.nomad.alloc_id": "x" }] },
        "labels.com.hashicorp.nomad.alloc_id",
        "not allowed",
      ],
      [{ runtime: "not a runtime" }, "runtime", '"not a runtime"'],
      [{ image_pull_timeout: "soon" }, "image_pull_timeout", '"soon"'],
      [{ privileged: true }, "privileged", '"allow_privileged" is false'],
      [{ pid_mode: "host" }, "pid_mode", '"allow_privileged" is false'],
      [
        { mounts: [{ type: "bind", source: "/etc", target: "/hostetc" }] },
        "mounts[0].source",
        '"/etc" is outside the task and alloc directories, which the plugin allows only with volumes.enabled = true',
      ],
      [
        { mounts: [{ type: "volume", source: "../../elsewhere", target: "/x" }] },
        "mounts[0].source",
        "volumes.enabled = true",
      ],
    ];
    const failures: string[] = [];
    for (const [config, option, problem] of cases) {
      const msg = await s.refused({ config: { command: "/bin/true", ...config } });
      if (!msg.includes(`task config "${option}": `) || !msg.includes(problem)) {
        failures.push(`${JSON.stringify(config)}: ${msg}`);
      }
    }
    assertEquals(failures, [], "errors that do not name the option and the problem");
    // Nothing was pulled or created for any of them.
    const left = await s.contents();
    assertEquals(left, { containers: [], tasks: [], snapshots: [], images: [], leases: [], content: [] });
  });

  await t.step("volumes.enabled = false still binds paths under the task and alloc dirs", async () => {
    const r = await s.sh("cat /data/in; cat /shared/in; echo out >/data/out", {
      config: {
        mounts: [
          { type: "bind", source: "local/data", target: "/data" },
          { type: "volume", source: "../alloc/data", target: "/shared", options: ["ro"] },
        ],
      },
      prepare: async (t) => {
        await Deno.mkdir(`${t.taskDir}/local/data`);
        await Deno.writeTextFile(`${t.taskDir}/local/data/in`, "task dir\n");
        await Deno.writeTextFile(`${t.allocDir}/alloc/data/in`, "alloc dir\n");
      },
      inspect: async (r) => {
        assertEquals(await Deno.readTextFile(`${r.task.taskDir}/local/data/out`), "out\n");
      },
    });
    assertEquals(r.out, "task dir\nalloc dir\n", r.err);
  });

  await t.step("a user the image does not have is refused by name, and the start is undone", async () => {
    const msg = await s.refused({ config: { command: "/bin/true" }, user: "ghost" });
    assert(msg.includes('task "user": "ghost" is not in the image\'s /etc/passwd'), msg);
    // The image stays (it is cached for the next task); the container's own snapshot is gone.
    const left = await s.contents();
    const own = left.snapshots.filter((l) => !l.startsWith("sha256:"));
    assertEquals([left.containers, left.tasks, own], [[], [], []]);
  });
}, { allow_privileged: false, volumes: { enabled: false } });
