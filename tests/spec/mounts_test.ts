// Mounts and devices, proven from inside real containers: the task's `mounts` (bind, volume, tmpfs with
// options), Nomad's task dirs at /alloc, /local and /secrets shared with the host, Nomad's volume_mount
// read-only and read-write, and devices from the task config and from Nomad's device plugins.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { host, keyValues, specTest } from "./suite.ts";

const cgroupV2 = (await host("stat", "-fc", "%T", "/sys/fs/cgroup")).trim() === "cgroup2fs";

/** `/proc/self/mounts` lines by mount point: [fstype, options]. */
function mountTable(text: string): Record<string, [string, string[]]> {
  const out: Record<string, [string, string[]]> = {};
  for (const l of text.split("\n")) {
    const f = l.split(" ");
    if (f.length >= 4 && f[1].startsWith("/")) out[f[1]] = [f[2], f[3].split(",")];
  }
  return out;
}

specTest("spec: mounts and devices inside the container", async (s, t) => {
  const hostDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-spec-host-" });
  const hostDir2 = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-spec-host-" });
  await Deno.writeTextFile(`${hostDir}/hello`, "from the host\n");
  try {
    await t.step(
      "mounts: bind with ro, volume relative to the task dir, tmpfs with size/mode/noexec",
      async () => {
        const r = await s.sh(
          [
            "cat /mnt/ro/hello",
            "touch /mnt/ro/x 2>&1",
            "echo written >/mnt/vol/out && echo vol=ok",
            "echo tmpsize=$(df -k /mnt/tmp | tail -1 | awk '{print $2}')",
            "echo tmpmode=$(stat -c %a /mnt/tmp)",
            "grep ' /mnt/' /proc/self/mounts",
          ].join("\n"),
          {
            config: {
              mounts: [
                { type: "bind", source: hostDir, target: "/mnt/ro", options: ["ro"] },
                { type: "volume", source: "local/vol", target: "/mnt/vol" },
                { type: "tmpfs", target: "/mnt/tmp", options: ["size=8m", "mode=0750", "noexec"] },
              ],
            },
            prepare: (t) => Deno.mkdir(`${t.taskDir}/local/vol`),
            inspect: async (r) => {
              assertEquals(await Deno.readTextFile(`${r.task.taskDir}/local/vol/out`), "written\n");
            },
          },
        );
        assertEquals(r.exit.exitCode, 0, r.err);
        assertMatch(r.out, /^from the host$/m);
        assertMatch(r.out, /touch: \/mnt\/ro\/x: Read-only file system/);
        const kv = keyValues(r.out);
        assertEquals([kv.vol, kv.tmpsize, kv.tmpmode], ["ok", "8192", "750"]);
        const m = mountTable(r.out);
        assert(m["/mnt/ro"][1].includes("ro"), `bind: ${m["/mnt/ro"]}`);
        assert(m["/mnt/vol"][1].includes("rw"), `volume: ${m["/mnt/vol"]}`);
        assertEquals(m["/mnt/tmp"][0], "tmpfs");
        assert(m["/mnt/tmp"][1].includes("noexec"), `tmpfs: ${m["/mnt/tmp"]}`);
      },
    );

    await t.step("/alloc, /local and /secrets are Nomad's dirs, shared with the host", async () => {
      const r = await s.sh(
        "cat /alloc/data/a /local/l /secrets/s; echo from-task >/alloc/data/b; ls -d /alloc/logs /alloc/tmp",
        {
          prepare: async (t) => {
            await Deno.writeTextFile(`${t.allocDir}/alloc/data/a`, "alloc\n");
            await Deno.writeTextFile(`${t.taskDir}/local/l`, "local\n");
            await Deno.writeTextFile(`${t.taskDir}/secrets/s`, "secret\n");
          },
          inspect: async (r) => {
            assertEquals(await Deno.readTextFile(`${r.task.allocDir}/alloc/data/b`), "from-task\n");
          },
        },
      );
      assertEquals(r.out, "alloc\nlocal\nsecret\n/alloc/logs\n/alloc/tmp\n", r.err);
    });

    await t.step("Nomad's volume_mount: read-only refuses writes, read-write takes them", async () => {
      const r = await s.sh(
        "cat /vol/ro/hello; touch /vol/ro/x 2>&1; echo rw >/vol/rw/out && echo rw=ok; grep ' /vol/' /proc/self/mounts",
        {
          mounts: [
            { taskPath: "/vol/ro", hostPath: hostDir, readonly: true },
            { taskPath: "/vol/rw", hostPath: hostDir2, readonly: false, propagationMode: "host-to-task" },
          ],
        },
      );
      assertMatch(r.out, /^from the host$/m);
      assertMatch(r.out, /touch: \/vol\/ro\/x: Read-only file system/);
      assertMatch(r.out, /^rw=ok$/m);
      assertEquals(await Deno.readTextFile(`${hostDir2}/out`), "rw\n");
      const m = mountTable(r.out);
      assert(m["/vol/ro"][1].includes("ro") && m["/vol/rw"][1].includes("rw"), r.out);
    });

    await t.step(
      "volume_mount propagation: host-to-task sees host mounts, bidirectional shows task mounts",
      async () => {
        // A shared mount of our own on the host (the host's / is private here), removed afterwards.
        const shared = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-spec-prop-" });
        await Deno.mkdir(`${shared}/late`);
        await Deno.mkdir(`${shared}/fromtask`);
        await host("mount", "--bind", shared, shared);
        try {
          await host("mount", "--make-rshared", shared);
          await s.running({
            config: { command: "/bin/sleep", args: ["30"], cap_add: ["SYS_ADMIN"] },
            mounts: [
              { taskPath: "/prop/slave", hostPath: shared, readonly: false, propagationMode: "host-to-task" },
              {
                taskPath: "/prop/shared",
                hostPath: shared,
                readonly: false,
                propagationMode: "bidirectional",
              },
            ],
          }, async (r) => {
            await host("mount", "-t", "tmpfs", "-o", "size=1m", "cdrv-late", `${shared}/late`);
            const inside = await r.exec("/bin/sh", "-c", "grep -c ' /prop/slave/late ' /proc/self/mountinfo");
            assertEquals(
              inside.out.trim(),
              "1",
              `a host mount after the start reaches the task: ${inside.err}`,
            );
            const m = await r.exec(
              "/bin/mount",
              "-t",
              "tmpfs",
              "-o",
              "size=1m",
              "cdrv-task",
              "/prop/shared/fromtask",
            );
            assertEquals(m.code, 0, m.err);
            const seen = await host(
              "sh",
              "-c",
              `grep -c ' ${shared}/fromtask ' /proc/self/mountinfo || true`,
            );
            assert(Number(seen.trim()) >= 1, "the task's mount reaches the host");
          });
        } finally {
          await host("umount", "-R", shared).catch(() => {});
          await Deno.remove(shared, { recursive: true }).catch(() => {});
        }
      },
    );

    await t.step(
      "devices: from the task config (with a container path and perms) and from Nomad",
      async () => {
        const r = await s.sh(
          [
            "ls -l /dev/fuse /dev/cdrv-null /dev/nomad-loop | awk '{print $NF, $1, $5 $6}'",
            "exec 3<>/dev/fuse && echo fuse=open",
            "echo x >/dev/cdrv-null && echo null=written",
            "exec 4</dev/nomad-loop && echo loop=opened",
            "(exec 5>/dev/nomad-loop) 2>/dev/null || echo loop-write=refused",
            // cgroup v1 lists the rules; v2 enforces them in an eBPF program (the opens above prove them)
            "[ -e /sys/fs/cgroup/devices/devices.list ] && sed 's/^/rule /' /sys/fs/cgroup/devices/devices.list || true",
          ].join("\n"),
          {
            config: { devices: ["/dev/fuse", "/dev/null:/dev/cdrv-null:rw"] },
            // a block device, allowed for reading only
            devices: [{ taskPath: "/dev/nomad-loop", hostPath: "/dev/loop0", cgroupPermissions: "r" }],
          },
        );
        assertEquals(r.exit.exitCode, 0, r.err);
        assertMatch(r.out, /^\/dev\/fuse c\S+ 10,229$/m);
        assertMatch(r.out, /^\/dev\/cdrv-null c\S+ 1,3$/m);
        assertMatch(r.out, /^\/dev\/nomad-loop b\S+ 7,0$/m);
        const kv = keyValues(r.out);
        assertEquals([kv.fuse, kv.null, kv.loop, kv["loop-write"]], ["open", "written", "opened", "refused"]);
        if (!cgroupV2) {
          assertMatch(r.out, /^rule c 10:229 rwm$/m);
          assertMatch(r.out, /^rule b 7:0 r$/m);
        }
        // Without asking, the container has no /dev/fuse.
        const none = await s.sh("ls /dev/fuse 2>&1");
        assertMatch(none.out, /No such file or directory/);
      },
    );
  } finally {
    await Deno.remove(hostDir, { recursive: true });
    await Deno.remove(hostDir2, { recursive: true });
  }
});
