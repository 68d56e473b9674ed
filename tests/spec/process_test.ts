// The process a task runs, proven from inside real containers (containerd + runc through the plugin):
// hostname, cwd (created when missing; the image's WorkingDir otherwise), entrypoint/command/args order,
// env (image + Nomad, Nomad wins), user (numbers and names from the image's /etc/passwd), ulimit, init
// (tini as PID 1 reaping zombies), oom_score_adj, labels and the per-task runtime on the container.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { REGISTRY } from "../harness/driver.ts";
import { host, keyValues, type Running, specTest } from "./suite.ts";
import { waitFor } from "../harness/services.ts";

const REDIS = `${REGISTRY}/cdrv/redis:1`;

specTest("spec: process, identity and environment inside the container", async (s, t) => {
  await t.step("hostname, cwd created when missing, env with Nomad winning, ulimit, labels", async () => {
    let labels: Record<string, string> = {};
    let runtime = "";
    const r = await s.sh(
      [
        "echo hostname=$(hostname)",
        "echo etc_hostname=$(cat /etc/hostname)",
        "echo pwd=$(pwd)",
        "echo nofile=$(ulimit -n)",
        "echo nofile_hard=$(ulimit -Hn)",
        "echo core=$(ulimit -c):$(ulimit -Hc)",
        "echo nproc=$(ulimit -u):$(ulimit -Hu)",
        "env | sed 's/^/env./'",
      ].join("\n"),
      {
        config: {
          hostname: "spec-host",
          cwd: "/work/new/dir",
          ulimit: [{ nofile: "4096:8192", core: "unlimited", nproc: "300" }],
          labels: [{ team: "spec", "com.example.tier": "db" }],
        },
        env: { PATH: "/cdrv/bin:/bin:/sbin", FOO: "from nomad" },
        inspect: async (r) => {
          const info = JSON.parse(await s.d.ctr("containers", "info", r.containerId));
          labels = info.Labels;
          runtime = info.Runtime?.Name;
        },
      },
    );
    assertEquals(r.exit.exitCode, 0, r.err);
    const kv = keyValues(r.out);
    assertEquals(kv.hostname, "spec-host");
    assertEquals(kv.etc_hostname, "spec-host");
    assertEquals(kv.pwd, "/work/new/dir");
    assertEquals(kv.nofile, "4096");
    assertEquals(kv.nofile_hard, "8192");
    assertEquals(kv.core, "unlimited:unlimited");
    assertEquals(kv.nproc, "300:300");
    // The image sets PATH; Nomad's PATH wins. Nomad's own variables are there too.
    assertEquals(kv["env.PATH"], "/cdrv/bin:/bin:/sbin");
    assertEquals(kv["env.FOO"], "from nomad");
    assertEquals(kv["env.NOMAD_TASK_DIR"], "/local");
    assertEquals(labels.team, "spec");
    assertEquals(labels["com.example.tier"], "db");
    assertEquals(labels["com.hashicorp.nomad.task_name"], r.task.config.name);
    assertEquals(labels["com.hashicorp.nomad.alloc_id"], r.task.config.allocId);
    assertEquals(labels["com.hashicorp.nomad.job_name"], "job");
    assertEquals(runtime, "io.containerd.runc.v2");
  });

  await t.step(
    "defaults: hostname is <task>-<alloc id>, cwd is the image's WorkingDir, image env kept, nofile 1024",
    async () => {
      const r = await s.sh(
        "echo hostname=$(hostname); echo pwd=$(pwd); echo nofile=$(ulimit -n):$(ulimit -Hn); echo PATH=$PATH",
        {
          config: { image: REDIS },
        },
      );
      assertEquals(r.exit.exitCode, 0, r.err);
      const kv = keyValues(r.out);
      assertEquals(kv.hostname, r.containerId);
      assertEquals(kv.pwd, "/data");
      assertEquals(kv.nofile, "1024:1024");
      assertEquals(kv.PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    },
  );

  await t.step("entrypoint, then command, then args, in that order; argv kept whole", async () => {
    const r = await s.run({
      config: {
        entrypoint: ["/bin/sh", "-c", 'for a in "$0" "$@"; do echo "[$a]"; done', "--"],
        command: "the command",
        args: ["arg one", "arg2"],
      },
    });
    assertEquals(r.exit.exitCode, 0, r.err);
    // sh -c takes the first word after the script as $0 ("--" here).
    assertEquals(r.out, "[--]\n[the command]\n[arg one]\n[arg2]\n");
  });

  await t.step(
    "entrypoint alone drops the image's CMD; command replaces it; args alone replace it",
    async () => {
      const e = await s.run({ config: { entrypoint: ["/bin/echo", "only", "entrypoint"] } });
      assertEquals(e.out, "only entrypoint\n"); // not "... /bin/sh"
      const c = await s.run({ config: { command: "/bin/echo", args: ["from", "command"] } });
      assertEquals(c.out, "from command\n");
      const a = await s.run({ config: { args: ["/bin/echo", "args", "alone"] } });
      assertEquals(a.out, "args alone\n");
    },
  );

  await t.step("user: a name and numbers, resolved in the image's /etc/passwd and /etc/group", async () => {
    const script =
      'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME"; grep ^CapEff /proc/self/status';
    const cases: [string, string][] = [
      ["app", "uid=1000 gid=1000 groups=1000 home=/home/app"],
      ["nobody", "uid=65534 gid=65534 groups=65534 home=/nonexistent"],
      ["1000", "uid=1000 gid=1000 groups=1000 home=/home/app"], // as Docker: a known uid takes its gid and home
      ["65534:0", "uid=65534 gid=0 groups=0 home=/nonexistent"],
      ["app:nogroup", "uid=1000 gid=65534 groups=65534 home=/home/app"],
      ["4242", "uid=4242 gid=0 groups=0 home=/"], // not in /etc/passwd: fine, gid 0
      ["", "uid=0 gid=0 groups=0 home=/root"],
    ];
    for (const [user, want] of cases) {
      const r = await s.sh(script, { user });
      assertEquals(r.exit.exitCode, 0, r.err);
      assertEquals(r.out.split("\n")[0], want, `user ${JSON.stringify(user)}`);
      if (user !== "") assertMatch(r.out, /CapEff:\s+0{16}/, `user ${user} keeps no effective capabilities`);
    }
  });

  await t.step("init: tini is PID 1, runs the command as its child and reaps orphaned zombies", async () => {
    // The subshell exits at once, so its `sleep` is reparented to PID 1, which must reap it when it
    // exits. The command then becomes a plain `sleep`, which reaps nothing.
    const task = { command: "/bin/sh", args: ["-c", "(/bin/sleep 0.2 &); exec /bin/sleep 30"] };
    const stat = "cat /proc/[0-9]*/stat 2>/dev/null";
    const probe = [
      "echo pid1=$(tr '\\0' ' ' </proc/1/cmdline)",
      `echo zombies=$(${stat} | awk '$3 == "Z"' | wc -l)`,
      `echo sleeping=$(${stat} | awk '$2 == "(sleep)" && $3 != "Z"' | wc -l)`,
    ].join("; ");
    // Probes until the orphan has exited (only the command's own sleep still runs).
    const settled = (r: Running) =>
      waitFor(
        "the orphan to exit",
        async () => {
          const kv = keyValues((await r.exec("/bin/sh", "-c", probe)).out);
          return kv.sleeping === "1" && kv;
        },
        10_000,
        100,
      );
    const withInit = await s.running({ config: { ...task, init: true } }, settled);
    assertEquals(withInit.pid1, `/.cdrv/init -- ${task.command} ${task.args.join(" ")}`);
    assertEquals(withInit.zombies, "0");
    const without = await s.running({ config: task }, settled);
    assertEquals(without.pid1, "/bin/sleep 30");
    assertEquals(without.zombies, "1", "the control without init should keep the zombie");
  });

  await t.step("init with readonly_rootfs and a non-root user", async () => {
    const r = await s.sh("echo pid1=$(cat /proc/1/comm) uid=$(id -u); touch /x 2>&1", {
      config: { init: true, readonly_rootfs: true },
      user: "app",
    });
    assertMatch(r.out, /^pid1=init uid=1000$/m);
    assertMatch(r.out, /Read-only file system/);
  });

  await t.step("exit code and a missing init_path fail clearly", async () => {
    const r = await s.sh("exit 7", { config: { init: true } });
    assertEquals(r.exit.exitCode, 7);
    const msg = await s.refused({
      config: { init: true, init_path: "/nonexistent/tini", command: "/bin/true" },
    });
    assert(msg.includes("/nonexistent/tini"), msg);
  });

  await t.step("oom_score_adj from Nomad's LinuxResources", async () => {
    const r = await s.sh("cat /proc/self/oom_score_adj", { linux: { oomScoreAdj: 321 } });
    assertEquals(r.out.trim(), "321");
  });

  await t.step("runtime per task: the container records it and the task runs on it", async () => {
    // Not the default: io.containerd.runc.v1 where containerd still has it (1.x); containerd 2.0 removed it
    // (refused, tests/cgroupv2/containerd2_test.ts), so there the runc shim by its absolute path.
    const server = /Server:[\s\S]*?Version:\s*v?(\d+)\./.exec(await s.d.ctr("version"))?.[1];
    const want = Number(server) >= 2
      ? (await host("sh", "-c", "command -v containerd-shim-runc-v2")).trim()
      : "io.containerd.runc.v1";
    let runtime = "";
    const r = await s.sh("echo ran", {
      config: { runtime: want },
      inspect: async (r) => {
        runtime = JSON.parse(await s.d.ctr("containers", "info", r.containerId)).Runtime?.Name;
      },
    });
    assertEquals(r.out, "ran\n");
    assertEquals(runtime, want);
  });
});
