// SELinux, proven in containers on the kernel at hand. On an SELinux host (enforcing: scripts/test.sh runs
// this file in a VM booted with SELinux, scripts/vm.sh, profile selinux) the plugin's volumes.selinuxlabel relabels
// the task dirs and bind sources, confines each task to container_t with its allocation's MCS categories, and
// the kernel then denies what the labels say it must. Where SELinux is off, the option changes nothing.
import { assert, assertEquals, assertMatch, assertNotEquals } from "../harness/assert.ts";
import { host, keyValues, type Ran, type Running, type SpecSuite, specTest } from "../spec/suite.ts";
import { waitFor } from "../harness/services.ts";

/** Whether this kernel has SELinux on (selinuxfs mounted): Deno reads nothing under /sys itself. */
async function selinuxOn(): Promise<boolean> {
  const out = await new Deno.Command("stat", {
    args: ["/sys/fs/selinux/enforce"],
    stdout: "null",
    stderr: "null",
  })
    .output();
  return out.success;
}
const ON = await selinuxOn();
const ENFORCING = ON && (await host("cat", "/sys/fs/selinux/enforce")).trim() === "1";

/** The SELinux context of a host path (`stat -c %C`); "" when it has none. */
async function label(path: string): Promise<string> {
  const out = await new Deno.Command("stat", {
    args: ["-c", "%C", "--", path],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
}

const SHARED = "system_u:object_r:container_file_t:s0";
const CONFINED = /^system_u:system_r:container_t:(s0:c\d+,c\d+)$/;

/** The MCS level of a confined task's process label. */
function levelOf(processLabel: string): string {
  const m = CONFINED.exec(processLabel);
  assert(m, `confined as container_t with two categories: ${JSON.stringify(processLabel)}`);
  return m[1];
}

/** The labels runc got, from the container record (before DestroyTask). */
async function specLabels(s: SpecSuite, r: Ran): Promise<[string | undefined, string | undefined]> {
  const info = JSON.parse(await s.d.ctr("containers", "info", r.containerId));
  return [info.Spec.process.selinuxLabel, info.Spec.linux.mountLabel];
}

async function hostDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "cdrv-selinux-" });
  await Deno.writeTextFile(`${d}/hello`, "from the host\n");
  return d;
}

const PROBE = [
  "echo label=$(cat /proc/self/attr/current | tr -d '\\0')",
  "echo rootctx=$(grep ' / ' /proc/self/mounts | grep -o 'context=\"[^\"]*\"' | head -1)",
  "echo data >/mnt/bind/out && echo bind=ok",
  "echo a >/alloc/out && echo alloc=ok",
  "echo l >/local/out && echo local=ok",
  "grep -q localhost /etc/hosts && echo hosts=ok",
  "ls /bin >/dev/null && echo rootfs=ok",
].join("\n");

if (!ON) {
  specTest("selinux (off on this kernel): volumes.selinuxlabel changes nothing", async (s, t) => {
    const dir = await hostDir();
    try {
      await t.step("the task runs unlabelled, nothing relabelled", async () => {
        const r = await s.sh(PROBE.split("\n").slice(2).join("\n"), {
          config: { mounts: [{ type: "bind", source: dir, target: "/mnt/bind" }] },
          inspect: async (r) => assertEquals(await specLabels(s, r), [undefined, undefined]),
        });
        assertEquals(r.exit.exitCode, 0, r.err);
        const kv = keyValues(r.out);
        assertEquals([kv.bind, kv.alloc, kv.local, kv.hosts, kv.rootfs], ["ok", "ok", "ok", "ok", "ok"]);
        assertEquals(await label(dir), "", "no security.selinux xattr was written");
        assertEquals(await Deno.readTextFile(`${dir}/out`), "data\n");
      });
      await t.step("a system path is not refused: there is nothing to relabel", async () => {
        const r = await s.sh("ls /mnt/etc/hostname && echo etc=ok", {
          config: { mounts: [{ type: "bind", source: "/etc", target: "/mnt/etc", options: ["ro"] }] },
        });
        assertEquals(keyValues(r.out).etc, "ok", r.err);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }, { volumes: { enabled: true, selinuxlabel: "z" } });
} else {
  Deno.test("selinux: the kernel enforces (the VM booted as asked)", () => {
    assert(ENFORCING, "/sys/fs/selinux/enforce is 1");
  });

  specTest("selinux z: shared labels, confined tasks, and what the kernel refuses", async (s, t) => {
    const dir = await hostDir();
    const plain = await hostDir();
    const plainLabel = await label(plain);
    try {
      await t.step("confined as container_t with its categories; relabelled dirs are usable", async () => {
        let spec: [string | undefined, string | undefined] = [undefined, undefined];
        const dirs: string[] = [];
        const r = await s.sh(PROBE, {
          config: { mounts: [{ type: "bind", source: dir, target: "/mnt/bind" }] },
          inspect: async (r) => {
            spec = await specLabels(s, r);
            // The task's dirs go with it: looked at before it is destroyed.
            for (
              const d of [`${r.task.allocDir}/alloc`, `${r.task.taskDir}/local`, `${r.task.taskDir}/.cdrv`]
            ) {
              dirs.push(await label(d));
            }
          },
        });
        assertEquals(r.exit.exitCode, 0, `${r.out}\n${r.err}`);
        const kv = keyValues(r.out);
        const level = levelOf(kv.label);
        assertEquals(spec, [kv.label, `system_u:object_r:container_file_t:${level}`]);
        assertEquals(kv.rootctx, `context="system_u:object_r:container_file_t:${level}"`);
        assertEquals([kv.bind, kv.alloc, kv.local, kv.hosts, kv.rootfs], ["ok", "ok", "ok", "ok", "ok"]);
        // z: shared, whatever the task's categories; the alloc dir always.
        assertEquals(await label(dir), SHARED);
        assertEquals(await label(`${dir}/hello`), SHARED, "recursively");
        assertEquals(dirs, [SHARED, SHARED, SHARED], "alloc, local, generated files");
        assertEquals(await Deno.readTextFile(`${dir}/out`), "data\n");
      });

      await t.step(
        "a Nomad volume_mount without a label is not relabelled: the kernel denies it",
        async () => {
          const r = await s.sh("cat /mnt/plain/hello 2>&1; ls /mnt/plain 2>&1; echo x >/mnt/plain/new 2>&1", {
            mounts: [{ taskPath: "/mnt/plain", hostPath: plain, readonly: false }],
          });
          assertEquals(await label(plain), plainLabel, "left as it was");
          assertNotEquals(plainLabel, SHARED);
          assertMatch(r.out, /Permission denied/);
          assert(!r.out.includes("from the host"), r.out);
          await Deno.stat(`${plain}/new`).then(
            () => assert(false, "the task wrote into an unlabelled dir"),
            (e) => assert(e instanceof Deno.errors.NotFound),
          );
        },
      );

      await t.step("two allocations hold different categories; exec runs with the task's label", async () => {
        const cmd = { command: "/bin/sleep", args: ["30"] };
        await s.running({ config: cmd }, async (a) => {
          await s.running({ config: cmd }, async (b) => {
            assertNotEquals(levelOf(await execLabel(a)), levelOf(await execLabel(b)));
          });
        });
      });

      await t.step(
        "the tasks of one allocation share its categories and each other's /alloc files",
        async () => {
          const writer = { command: "/bin/sh", args: ["-c", "echo from-a >/alloc/data/a; sleep 30"] };
          await s.running({ config: writer }, async (a) => {
            await waitFor("a's file", () => exists(`${a.task.allocDir}/alloc/data/a`));
            const r = await s.sh(
              "echo label=$(cat /proc/self/attr/current | tr -d '\\0'); cat /alloc/data/a",
              {
                sameAllocAs: a.task,
              },
            );
            assertEquals(levelOf(keyValues(r.out).label), levelOf(await execLabel(a)));
            assertMatch(r.out, /^from-a$/m);
          });
        },
      );

      await t.step("privileged tasks are not confined (as with Docker)", async () => {
        const r = await s.sh("cat /proc/self/attr/current | tr -d '\\0'; echo", {
          config: { privileged: true },
        });
        assertEquals(r.exit.exitCode, 0, r.err);
        assert(!r.out.includes("container_t"), r.out);
      });

      await t.step("a system path is refused before anything is created, naming the option", async () => {
        const before = await label("/etc");
        const msg = await s.refused({
          config: { mounts: [{ type: "bind", source: "/etc", target: "/mnt/etc", options: ["ro"] }] },
        });
        assertMatch(
          msg,
          /task config "mounts\[0\]\.source": "\/etc" is a system path and cannot be relabelled/,
        );
        assertEquals(await label("/etc"), before);
        const left = await s.contents();
        assertEquals([left.containers, left.tasks], [[], []]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(plain, { recursive: true });
    }
  }, { volumes: { enabled: true, selinuxlabel: "z" } });

  specTest("selinux Z: private content, kept from other allocations by their categories", async (s, t) => {
    await t.step("another allocation cannot read an allocation's files; its own tasks can", async () => {
      const cmd = {
        command: "/bin/sh",
        args: ["-c", "echo secret >/local/s; echo pub >/alloc/data/p; sleep 30"],
      };
      await s.running({ config: cmd }, async (a) => {
        const level = levelOf(await execLabel(a));
        const local = `${a.task.taskDir}/local`;
        await waitFor("a's files", () => exists(`${a.task.allocDir}/alloc/data/p`));
        const mine = `system_u:object_r:container_file_t:${level}`;
        assertEquals(await label(local), mine);
        assertEquals(await label(`${a.task.allocDir}/alloc`), SHARED);
        assertEquals(await label(`${a.task.allocDir}/alloc/data/p`), mine, "a file takes its writer's level");
        // A task of another allocation sees A's dirs through Nomad volume mounts without a label (no
        // relabel): only the categories stand between them.
        const other = await s.sh("cat /mnt/a-local/s 2>&1; cat /mnt/a-alloc/data/p 2>&1", {
          mounts: [
            { taskPath: "/mnt/a-local", hostPath: local, readonly: true },
            { taskPath: "/mnt/a-alloc", hostPath: `${a.task.allocDir}/alloc`, readonly: true },
          ],
        });
        assertMatch(other.out, /a-local\/s'?: Permission denied/);
        assertMatch(other.out, /a-alloc\/data\/p'?: Permission denied/);
        assert(!other.out.includes("secret") && !other.out.includes("pub"), other.out);
        // A second task of A's allocation reads A's /alloc file, and A's local dir through the same mount.
        const sibling = await s.sh("cat /alloc/data/p; cat /mnt/a-local/s", {
          sameAllocAs: a.task,
          mounts: [{ taskPath: "/mnt/a-local", hostPath: local, readonly: true }],
        });
        assertEquals(sibling.out, "pub\nsecret\n", sibling.err);
      });
    });

    await t.step("a Nomad volume_mount with selinux_label Z takes the allocation's categories", async () => {
      const dir = await hostDir();
      try {
        const r = await s.sh("echo label=$(cat /proc/self/attr/current | tr -d '\\0'); cat /mnt/v/hello", {
          mounts: [{ taskPath: "/mnt/v", hostPath: dir, readonly: true, selinuxLabel: "Z" }],
        });
        const level = levelOf(keyValues(r.out).label);
        assertEquals(await label(dir), `system_u:object_r:container_file_t:${level}`);
        assertMatch(r.out, /^from the host$/m);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }, { volumes: { enabled: true, selinuxlabel: "Z" } });

  specTest(
    "selinux without volumes.selinuxlabel: tasks run as before, only labelled volume mounts change",
    async (s, t) => {
      await t.step(
        "not confined; the task dirs keep their labels; volume_mount z is relabelled",
        async () => {
          const dir = await hostDir();
          try {
            let allocLabel = "";
            const r = await s.sh("cat /proc/self/attr/current | tr -d '\\0'; echo; cat /mnt/v/hello", {
              mounts: [{ taskPath: "/mnt/v", hostPath: dir, readonly: true, selinuxLabel: "z" }],
              inspect: async (r) => {
                assertEquals(await specLabels(s, r), [undefined, undefined]);
                allocLabel = await label(`${r.task.allocDir}/alloc`);
              },
            });
            assertEquals(r.exit.exitCode, 0, r.err);
            assert(!r.out.includes("container_t"), r.out);
            assertMatch(allocLabel, /:(user_)?tmp_t:/, "the alloc dir keeps the label it was made with");
            assertEquals(await label(dir), SHARED);
            assertMatch(r.out, /^from the host$/m);
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        },
      );
    },
  );
}

/** The label an exec in a running task gets (that of its task). */
async function execLabel(r: Running): Promise<string> {
  return (await r.exec("cat", "/proc/self/attr/current")).out.replace(/\0/g, "").trim();
}

function exists(path: string): Promise<boolean> {
  return Deno.stat(path).then(() => true, () => false);
}
