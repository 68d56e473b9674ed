// Security options, proven from inside real containers: the effective capability set (default, cap_add,
// cap_drop, ALL, privileged) decoded from /proc/self/status, no_new_privs, seccomp (Docker's default
// denies a call it denies, a custom profile denies a chosen one with its errno), pids_limit stopping a
// fork loop, readonly_rootfs, pid_mode and ipc_mode "host".
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { capsFromStatus, host, hostFile, keyValues, specTest } from "./suite.ts";
import { DEFAULT_CAPABILITIES } from "../../src/spec/capabilities.ts";
import { DEFAULT_PROFILE, seccompVerdict, toOciSeccomp } from "../../src/spec/seccomp.ts";

const STATUS = "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status";
// What a privileged task can get here: the capabilities root holds (this machine's root lacks some).
const HOST_CAPS = capsFromStatus(await hostFile("/proc/self/status"), "CapEff");
const sorted = (a: readonly string[]) => [...a].sort();

specTest("spec: security options inside the container", async (s, t) => {
  await t.step("capabilities: default set, cap_add/cap_drop, ALL either way, privileged", async () => {
    const cases: [string, Record<string, string[] | boolean>, readonly string[]][] = [
      ["default", {}, DEFAULT_CAPABILITIES],
      [
        "cap_add + cap_drop",
        { cap_add: ["net_admin", "CAP_SYS_TIME"], cap_drop: ["CHOWN", "cap_kill"] },
        [
          ...DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN" && c !== "CAP_KILL"),
          "CAP_NET_ADMIN",
          "CAP_SYS_TIME",
        ],
      ],
      ["cap_drop ALL + one", { cap_drop: ["ALL"], cap_add: ["NET_BIND_SERVICE"] }, ["CAP_NET_BIND_SERVICE"]],
      [
        "cap_add ALL - one",
        { cap_add: ["ALL"], cap_drop: ["SYS_ADMIN"] },
        HOST_CAPS.filter((c) => c !== "CAP_SYS_ADMIN"),
      ],
      ["privileged", { privileged: true }, HOST_CAPS],
    ];
    for (const [what, config, want] of cases) {
      const r = await s.sh(STATUS, { config });
      assertEquals(r.exit.exitCode, 0, r.err);
      assertEquals(sorted(capsFromStatus(r.out, "CapEff")), sorted(want), `${what}: CapEff`);
      assertEquals(sorted(capsFromStatus(r.out, "CapBnd")), sorted(want), `${what}: CapBnd`);
      const kv = keyValues(r.out, ":");
      // privileged: no seccomp and setuid binaries may gain privileges; otherwise filter mode and no_new_privs
      assertEquals(kv.NoNewPrivs, what === "privileged" ? "0" : "1", `${what}: NoNewPrivs`);
      assertEquals(kv.Seccomp, what === "privileged" ? "0" : "2", `${what}: Seccomp`);
    }
  });

  await t.step(
    "privileged sees the host's devices, unmasked /proc and writable /sys; others do not",
    async () => {
      const script = [
        "ls /dev/fuse 2>&1",
        "echo masked=$(grep -cE ' /proc/(keys|timer_list|sched_debug|scsi|acpi|kcore) ' /proc/self/mounts)",
        "echo procsys=$(grep ' /proc/sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1)",
        "echo sys=$(grep ' /sys sysfs ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1)",
      ].join("\n");
      // Nested device nodes too, as Docker gives them (whichever this host has).
      const nested =
        (await host("sh", "-c", "ls /dev/net/tun /dev/cpu/0/cpuid /dev/dri/* 2>/dev/null || true"))
          .split("\n").filter(Boolean);
      const p = await s.sh(`${script}\nls ${nested.join(" ")} 2>&1`, { config: { privileged: true } });
      assertMatch(p.out, /^\/dev\/fuse$/m);
      for (const d of nested) assertMatch(p.out, new RegExp(`^${d}$`, "m"), `privileged: ${d}`);
      const n = await s.sh(script);
      assertMatch(n.out, /\/dev\/fuse: No such file or directory/);
      const pk = keyValues(p.out);
      const nk = keyValues(n.out);
      assert(Number(nk.masked) >= 2, `masked paths: ${nk.masked}`);
      assertEquals([nk.procsys, nk.sys], ["ro", "ro"]);
      assertEquals([pk.masked, pk.procsys, pk.sys], ["0", "", "rw"]);
    },
  );

  await t.step(
    "seccomp: Docker's default profile denies unshare(2) without CAP_SYS_ADMIN; off allows it",
    async () => {
      const oci = toOciSeccomp(DEFAULT_PROFILE, {
        arch: "amd64",
        kernel: Deno.osRelease(),
        capabilities: [...DEFAULT_CAPABILITIES],
      });
      const verdict = seccompVerdict(oci, "unshare");
      assertEquals(verdict.action, "SCMP_ACT_ERRNO", "the evaluator's verdict for unshare");
      // A user namespace needs no capability from the kernel, so only seccomp can refuse it.
      const script = "unshare -U /bin/true && echo unshare=ok";
      const on = await s.sh(script);
      assertMatch(on.err, /unshare.*Operation not permitted/);
      assertEquals(on.out, "");
      const off = await s.sh(script, { config: { seccomp: false } });
      assertEquals(off.out, "unshare=ok\n", off.err);
      // The profile follows the capabilities: with CAP_SYS_ADMIN, Docker's profile allows unshare.
      const admin = await s.sh(script, { config: { cap_add: ["SYS_ADMIN"] } });
      assertEquals(admin.out, "unshare=ok\n", admin.err);
    },
  );

  await t.step(
    "seccomp_profile: a Docker-format file denies the calls it names, with their errno",
    async () => {
      const profile = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" },
          { names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
        ],
      };
      const r = await s.sh(
        [
          "mkdir /tmp/x 2>&1; echo mkdir=$?",
          "rmdir /home/app 2>&1; echo rmdir=$?",
          "touch /tmp/file && echo touch=ok",
          // unshare is allowed by this profile (it replaces Docker's default)
          "unshare -U /bin/true && echo unshare=ok",
        ].join("\n"),
        {
          config: { seccomp_profile: "seccomp.json" },
          prepare: (t) => Deno.writeTextFile(`${t.taskDir}/seccomp.json`, JSON.stringify(profile)),
        },
      );
      assertMatch(r.out, /mkdir: can't create directory '\/tmp\/x': Operation not permitted\nmkdir=1/);
      assertMatch(r.out, /rmdir: '\/home\/app': Function not implemented\nrmdir=1/);
      assertMatch(r.out, /^touch=ok$/m);
      assertMatch(r.out, /^unshare=ok$/m);
    },
  );

  await t.step("pids_limit stops a fork loop at the limit", async () => {
    const r = await s.sh(
      [
        // cgroup v1: the pids controller's dir; v2: the unified one
        "f=/sys/fs/cgroup/pids/pids.max; [ -e $f ] || f=/sys/fs/cgroup/pids.max; read max <$f; echo max=$max",
        "( i=0; while [ $i -lt 40 ]; do /bin/sleep 30 & i=$((i+1)); done ) 2>/tmp/fork.err",
        // builtins only from here: the cgroup is full
        "set -- /proc/[0-9]*; echo procs=$#",
        "read err </tmp/fork.err; echo err=$err",
      ].join("\n"),
      { config: { pids_limit: 12 } },
    );
    const kv = keyValues(r.out);
    assertEquals(kv.max, "12");
    assert(Number(kv.procs) <= 12 && Number(kv.procs) >= 10, `processes after the fork loop: ${kv.procs}`);
    assertMatch(kv.err ?? "", /can't fork/);
  });

  await t.step("readonly_rootfs: writes to / fail; the task dirs stay writable", async () => {
    const r = await s.sh(
      "touch /x 2>&1; touch /tmp/y 2>&1; touch /local/z && echo local=ok; grep ' / ' /proc/self/mounts",
      { config: { readonly_rootfs: true } },
    );
    assertMatch(r.out, /touch: \/x: Read-only file system/);
    assertMatch(r.out, /touch: \/tmp\/y: Read-only file system/);
    assertMatch(r.out, /^local=ok$/m);
    assertMatch(r.out, /^\S+ \/ \S+ ro[,\s]/m);
    const rw = await s.sh("touch /x && echo root=ok");
    assertEquals(rw.out, "root=ok\n");
  });

  await t.step('pid_mode "host" shares the host\'s PID namespace; default has its own', async () => {
    const script = "echo pid1=$(cat /proc/1/comm); echo self=$$";
    const host = await s.sh(script, { config: { pid_mode: "host" } });
    const hostInit = (await hostFile("/proc/1/comm")).trim();
    assertEquals(keyValues(host.out).pid1, hostInit);
    assert(Number(keyValues(host.out).self) > 1);
    const own = await s.sh(script);
    assertEquals(keyValues(own.out).pid1, "sh");
  });

  await t.step('ipc_mode "host" shares /dev/shm with the host; default has its own', async () => {
    const name = `cdrv-spec-${crypto.randomUUID().slice(0, 8)}`;
    await host("sh", "-c", `printf 'from the host' >/dev/shm/${name}`);
    try {
      const script = `cat /dev/shm/${name} 2>&1`;
      const host = await s.sh(script, { config: { ipc_mode: "host" } });
      assertEquals(host.out, "from the host");
      const own = await s.sh(script);
      assertMatch(own.out, /No such file or directory/);
    } finally {
      await host("rm", "-f", `/dev/shm/${name}`);
    }
  });
});
