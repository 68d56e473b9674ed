// Options taken from the podman and docker drivers, proven inside real containers (containerd + runc through the plugin binary):
// podman-style `volumes` (rw, ro, relative), `docker://` image references, `security_opt`
// no-new-privileges (NoNewPrivs in /proc/self/status), `oom_score_adj` (/proc/self/oom_score_adj, and
// over Nomad's own value), `group_add` (Groups in /proc/self/status, names from the image's /etc/group),
// `cgroupns` private/host (/proc/self/cgroup and the cgroup namespace inode against the host's).
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { BUSYBOX } from "../harness/driver.ts";
import { host, keyValues, specTest } from "./suite.ts";

specTest("podman and docker driver options inside the container", async (s, t) => {
  await t.step("volumes: rw and ro binds of a host dir, a relative one under the task dir", async () => {
    const dir = await Deno.makeTempDir({ prefix: "cdrv-vol-" });
    await Deno.writeTextFile(`${dir}/from-host`, "hello from the host\n");
    const r = await s.sh(
      [
        "echo rw=$(cat /rw/from-host)",
        "echo ro=$(cat /ro/from-host)",
        "echo written > /rw/from-task && echo rw_write=ok",
        "touch /ro/nope 2>/dev/null && echo ro_write=ok || echo ro_write=refused",
        "echo rel=$(cat /rel/file)",
        "grep ' /ro ' /proc/self/mounts | cut -d' ' -f4 | tr , '\\n' | grep -x ro | sed 's/^/ro_opt=/'",
      ].join("\n"),
      {
        config: { volumes: [`${dir}:/rw`, `${dir}:/ro:ro`, "local/rel:/rel"] },
        prepare: async (t) => {
          await Deno.mkdir(`${t.taskDir}/local/rel`, { recursive: true });
          await Deno.writeTextFile(`${t.taskDir}/local/rel/file`, "relative\n");
        },
      },
    );
    assertEquals(r.exit.exitCode, 0, r.err);
    const kv = keyValues(r.out);
    assertEquals(kv.rw, "hello from the host");
    assertEquals(kv.ro, "hello from the host");
    assertEquals(kv.rw_write, "ok");
    assertEquals(kv.ro_write, "refused");
    assertEquals(kv.ro_opt, "ro");
    assertEquals(kv.rel, "relative");
    assertEquals(await Deno.readTextFile(`${dir}/from-task`), "written\n");
  });

  await t.step("docker:// transport prefix: pulled and run under the normalized name", async () => {
    const r = await s.sh("echo ran", { config: { image: `docker://${BUSYBOX}` } });
    assertEquals(r.exit.exitCode, 0, r.err);
    assertEquals(r.out.trim(), "ran");
    const images = (await s.d.ctr("images", "ls", "-q")).split("\n");
    assert(images.includes(BUSYBOX), images.join(", "));
    assert(!images.some((i) => i.startsWith("docker://")), images.join(", "));
  });

  await t.step(
    "security_opt no-new-privileges: also for a privileged task; :false turns it off",
    async () => {
      const nnp = async (config: Record<string, unknown>) => {
        const r = await s.sh("grep NoNewPrivs /proc/self/status", { config: config as never });
        assertEquals(r.exit.exitCode, 0, r.err);
        return keyValues(r.out, ":").NoNewPrivs;
      };
      assertEquals(await nnp({ privileged: true }), "0");
      assertEquals(await nnp({ privileged: true, security_opt: ["no-new-privileges"] }), "1");
      assertEquals(await nnp({}), "1");
      assertEquals(await nnp({ security_opt: ["no-new-privileges:false"] }), "0");
    },
  );

  await t.step("oom_score_adj: the task's value, winning over Nomad's", async () => {
    const r = await s.sh("cat /proc/self/oom_score_adj", { config: { oom_score_adj: 731 } });
    assertEquals(r.out.trim(), "731");
    const both = await s.sh("cat /proc/self/oom_score_adj", {
      config: { oom_score_adj: 200 },
      linux: { oomScoreAdj: 100 },
    });
    assertEquals(both.out.trim(), "200");
    const nomadOnly = await s.sh("cat /proc/self/oom_score_adj", { linux: { oomScoreAdj: 100 } });
    assertEquals(nomadOnly.out.trim(), "100");
  });

  await t.step(
    "group_add: names from the image's /etc/group and numbers, after the user's groups",
    async () => {
      const r = await s.sh(
        [
          "echo app=$(grep '^app:' /etc/group | cut -d: -f3)",
          "echo nogroup=$(grep '^nogroup:' /etc/group | cut -d: -f3)",
          "echo groups=$(grep '^Groups:' /proc/self/status | cut -f2)",
          "echo id=$(id -G)",
        ].join("\n"),
        { config: { group_add: ["app", "4321", "nogroup"] }, user: "1234:1234" },
      );
      assertEquals(r.exit.exitCode, 0, r.err);
      const kv = keyValues(r.out);
      assertMatch(kv.app, /^\d+$/, r.out);
      const groups = kv.groups.split(/\s+/).filter(Boolean);
      assertEquals(groups, [kv.app, "4321", kv.nogroup]);
      assert(kv.id.split(" ").includes("4321"), kv.id);
      const refused = await s.refused({
        config: { command: "/bin/true", group_add: ["cdrv-no-such-group"] },
      });
      assert(
        refused.includes(
          `task config "group_add[0]": "cdrv-no-such-group" is not in the image's /etc/group; use a group the image has, or a numeric gid`,
        ),
        refused,
      );
    },
  );

  await t.step("cgroupns: private shows its own cgroups as /; host shares the host's namespace", async () => {
    const hostNs = (await host("readlink", "/proc/self/ns/cgroup")).trim();
    const v2 = (await host("stat", "-fc", "%T", "/sys/fs/cgroup")).trim() === "cgroup2fs";
    // v1: the memory and pids lines; v2: the one "0::" line
    const script = `echo ns=$(readlink /proc/self/ns/cgroup)\ngrep -E '${
      v2 ? "^0::" : ":(memory|pids):"
    }' /proc/self/cgroup`;
    const priv = await s.sh(script, { config: { cgroupns: "private" } });
    assertEquals(priv.exit.exitCode, 0, priv.err);
    const hostMode = await s.sh(script, { config: { cgroupns: "host" } });
    const dflt = await s.sh(script);
    const ns = (o: string) => keyValues(o).ns;
    assert(ns(priv.out) !== hostNs, `private: ${ns(priv.out)} = host ${hostNs}`);
    assertEquals(ns(hostMode.out), hostNs);
    // Docker's default: private on cgroup v2, host on v1.
    assertEquals(ns(dflt.out) === hostNs, !v2);
    const paths = (o: string) => o.split("\n").filter((l) => /^\d+:/.test(l)).map((l) => l.split(":")[2]);
    assert(paths(priv.out).length > 0 && paths(priv.out).every((p) => p === "/"), priv.out);
    assert(paths(hostMode.out).every((p) => p.startsWith(`/${s.d.namespace}/`)), hostMode.out);
  });
});
