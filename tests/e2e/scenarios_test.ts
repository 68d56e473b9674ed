// The Roblox containerd driver's test-suite scenarios, as the example jobs users copy, under a real Nomad
// agent: each job is run with `nomad job run`, its effect checked from inside (`nomad alloc exec`), from its
// output (`nomad alloc logs`) or from its alloc events, and the job purged before the next one.
// Signal handling and entrypoint logs are in jobs_test.ts; this file has the rest: redis cwd/hostname/
// seccomp/memory limit, capabilities, privileged, host volumes, dns + sysctl, extra_hosts, private
// registry auth (a wrong password is a clear event without the password), templates with a relative
// mount, host networking, memory_max + cpu, exec; and a second agent with allow_privileged = false.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { type AllocStub, NOMAD_BIN, type NomadAgent, startTestAgent } from "../harness/nomad.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { shortTempDir, waitFor } from "../harness/services.ts";
import { ROOT } from "../harness/plugin.ts";

const EX = `${ROOT}/example`;
const BASE = Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000);
const BASIC_REGISTRY = Deno.env.get("CDRV_TEST_REGISTRY_BASIC") ?? "127.0.0.1:5001";
const REG_USER = "cdrv";
const REG_PASSWORD = "s3cret-pw";
const MB = 1024 * 1024;

/** `cat` on the host (Deno reads /proc only with its all-permissions flag). */
async function hostCat(path: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [path], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

/** Interface names in a /proc/net/dev text. */
function netDevNames(text: string): string[] {
  return text.split("\n").slice(2).map((l) => l.split(":")[0].trim()).filter(Boolean).sort();
}

/** What the scenarios do with one agent. */
class Jobs {
  constructor(readonly agent: NomadAgent) {}

  /** `nomad job run` and wait for an allocation in `status`. */
  async run(file: string, job: string, status = "running", ...vars: string[]): Promise<AllocStub> {
    await this.agent.run(`${EX}/${file}`, ...vars);
    return await this.agent.waitAlloc(job, status, 60000);
  }

  /** `nomad alloc exec` without stdin or tty. */
  async exec(alloc: AllocStub, task: string, ...cmd: string[]) {
    return await this.agent.cli("alloc", "exec", "-i=false", "-t=false", "-task", task, alloc.ID, ...cmd);
  }

  /** `sh -c script` in the task; asserts exit 0 and returns stdout. */
  async sh(alloc: AllocStub, task: string, script: string): Promise<string> {
    const r = await this.exec(alloc, task, "/bin/sh", "-c", script);
    assertEquals(r.code, 0, `exec ${script}: ${JSON.stringify(r)}`);
    return r.stdout;
  }

  /** `nomad alloc logs` (stdout), waiting until it contains `until`. */
  async logs(alloc: AllocStub, task: string, until: string): Promise<string> {
    return await waitFor(`"${until}" in the logs of ${task}`, async () => {
      const r = await this.agent.cli("alloc", "logs", alloc.ID, task);
      return r.stdout.includes(until) && r.stdout;
    }, 15000);
  }

  /** The task's events, one "Type: DisplayMessage" line each. */
  async events(alloc: AllocStub, task: string): Promise<string> {
    const a = await this.agent.api<AllocStub>(`/v1/allocation/${alloc.ID}`);
    return (a.TaskStates?.[task]?.Events ?? []).map((e) => `${e.Type}: ${e.DisplayMessage}`).join("\n");
  }

  /** Stops and purges a job without waiting for its tasks to exit. */
  async purge(job: string): Promise<void> {
    await this.agent.cli("job", "stop", "-purge", "-detach", job);
  }
}

/** cgroup v2 file, else the v1 one, inside the container. */
function cgroupFile(v2: string, v1: string): string {
  return `cat /sys/fs/cgroup/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v1}`;
}

Deno.test({
  name: "Roblox driver scenarios as example jobs under one Nomad agent",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const t0 = performance.now();
    const namespace = `cdrv-sc-${crypto.randomUUID().slice(0, 6)}`;
    const volDir = await shortTempDir("cdrv-vol-");
    await Deno.mkdir(`${volDir}/data`);
    await Deno.mkdir(`${volDir}/config`);
    await Deno.writeTextFile(`${volDir}/config/settings.txt`, "mode=production\n");
    const agent = await startTestAgent({
      namespace,
      httpPort: BASE + 130,
      extraAgentConfig: `client {
  host_volume "cdrv-data" {
    path      = "${volDir}/data"
    read_only = false
  }
  host_volume "cdrv-config" {
    path      = "${volDir}/config"
    read_only = true
  }
}`,
    });
    const jobs = new Jobs(agent);
    const ran: string[] = [];
    const step = (name: string, job: string, fn: () => Promise<void>) =>
      t.step(name, async () => {
        ran.push(job);
        try {
          await fn();
        } finally {
          await jobs.purge(job);
        }
      });
    try {
      await step("redis: cwd from the image, hostname, seccomp on, memory limit", "redis", async () => {
        const a = await jobs.run("redis.nomad", "redis");
        const out = await jobs.sh(
          a,
          "redis",
          `pwd; hostname; grep Seccomp: /proc/1/status; ${
            cgroupFile("memory.max", "memory/memory.limit_in_bytes")
          }`,
        );
        const [cwd, hostname, seccomp, limit] = out.trim().split("\n");
        assertEquals(cwd, "/data"); // the image's WorkingDir
        assertEquals(hostname, "redis");
        assertMatch(seccomp, /^Seccomp:\s+2$/); // 2: a filter is installed
        assertEquals(Number(limit), 128 * MB);
      });

      await step("capabilities: cap_drop ALL + cap_add gives exactly those", "capabilities", async () => {
        const a = await jobs.run("capabilities.nomad", "capabilities");
        const logs = await jobs.logs(a, "caps", "mknod");
        assertMatch(logs, /CapEff:\s+0000000000000401\n/);
        assertMatch(logs, /chown allowed/);
        assertMatch(logs, /mknod refused/);
        // PID 1 (tini) and an exec'd process have the same set.
        const out = await jobs.sh(a, "caps", "grep CapEff /proc/1/status /proc/self/status");
        assertEquals(out.match(/0000000000000401/g)?.length, 2, out);
      });

      await step("privileged: all capabilities, no seccomp, may mount", "privileged", async () => {
        const a = await jobs.run("privileged.nomad", "privileged");
        const logs = await jobs.logs(a, "priv", "tmpfs mounted");
        // Every capability the host's bounding set holds (runc cannot give more; a sandboxed CI host
        // may lack some, e.g. CAP_SYS_RESOURCE).
        const all = (await hostCat("/proc/self/status")).match(/CapBnd:\s+([0-9a-f]+)/)![1];
        assertMatch(logs, new RegExp(`CapEff:\\s+${all}\\n`));
        assertMatch(logs, /Seccomp:\s+0\n/);
        // Host devices are there (a non-privileged task has only the standard few).
        const devs = await jobs.sh(a, "priv", "ls /dev | wc -l");
        assert(Number(devs) > 20, `only ${devs.trim()} entries in /dev`);
      });

      await step("volume_mount: host volumes, read-write and read-only", "volume-mount", async () => {
        const a = await jobs.run("volume_mount.nomad", "volume-mount");
        const logs = await jobs.logs(a, "app", "read-only");
        assertMatch(logs, /config says: mode=production\n/);
        assertMatch(logs, /wrote \/data\/from-task.txt\n/);
        assertMatch(logs, /\/etc\/app is read-only\n/);
        assertEquals(await Deno.readTextFile(`${volDir}/data/from-task.txt`), `written by ${a.ID}\n`);
      });

      await step(
        "dns + sysctl: group dns block in bridge mode, net.core.somaxconn",
        "dns-sysctl",
        async () => {
          const a = await jobs.run("dns_sysctl.nomad", "dns-sysctl");
          const out = await jobs.sh(
            a,
            "app",
            "cat /etc/resolv.conf; echo; cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/ip_local_port_range",
          );
          assertMatch(out, /^nameserver 192\.0\.2\.53$/m);
          assertMatch(out, /^nameserver 192\.0\.2\.54$/m);
          assertMatch(out, /^search service\.internal example\.internal$/m);
          assertMatch(out, /^options ndots:2 timeout:1$/m);
          assertMatch(out, /^16384$/m);
          assertMatch(out, /^20000\s+40000$/m);
          const hostValue = (await hostCat("/proc/sys/net/core/somaxconn")).trim();
          assert(hostValue !== "16384", "the host's somaxconn changed");
        },
      );

      await step("extra_hosts: entries in /etc/hosts; own netns holds only lo", "extra-hosts", async () => {
        const a = await jobs.run("extra_hosts.nomad", "extra-hosts");
        const out = await jobs.sh(
          a,
          "app",
          "cat /etc/hosts; echo ---; cat /proc/net/dev; echo ---; hostname",
        );
        const [hosts, netdev, hostname] = out.split("---\n");
        assertMatch(hosts, /^10\.0\.0\.5\s+db\.internal$/m);
        assertMatch(hosts, /^10\.0\.0\.6\s+cache\.internal$/m);
        assertMatch(hosts, /^fd00::7\s+v6\.internal$/m);
        assertMatch(hosts, /^127\.0\.0\.1\s+localhost/m);
        // No address in a namespace of its own, so no line for its hostname (as Docker's --network none).
        assertEquals(hostname, "web-1\n");
        assertEquals(netDevNames(netdev), ["lo"]);
      });

      await step(
        "registry auth: a wrong password fails with a clear event and no password; the right one runs",
        "registry-auth",
        async () => {
          const wrong = "wr0ng-Passw0rd-xyz";
          const vars = (
            pw: string,
          ) => [`registry=${BASIC_REGISTRY}`, `username=${REG_USER}`, `password=${pw}`];
          const a = await jobs.run("registry_auth.nomad", "registry-auth", "failed", ...vars(wrong));
          const ev = await jobs.events(a, "private");
          const ref = `${BASIC_REGISTRY}/cdrv/busybox:1`;
          assertMatch(ev, new RegExp(`Driver Failure: .*${ref.replace(/\./g, "\\.")}.*`), ev);
          assertMatch(ev, new RegExp(`registry (http://)?${BASIC_REGISTRY.replace(/\./g, "\\.")}`), ev);
          assertMatch(ev, /unauthorized|authenticat|credentials|denied/i, ev);
          const status = await agent.cli("alloc", "status", a.ID);
          assertMatch(status.stdout, /authentication failed/);
          assert(!status.stdout.includes(wrong), "the password shows in nomad alloc status");
          assert(!ev.includes(wrong), "the password shows in an alloc event");
          const leaks = (await agent.log()).split("\n").filter((l) => l.includes(wrong));
          assertEquals(leaks, [], "the password shows in the agent's log (the plugin logs through it)");
          console.log(`wrong password → ${ev.split("\n").find((l) => l.startsWith("Driver Failure"))}`);
          await jobs.purge("registry-auth");
          await waitFor("registry-auth purged", async () => {
            const r = await agent.cli("job", "status", "registry-auth");
            return r.code !== 0;
          }, 10000);

          const b = await jobs.run("registry_auth.nomad", "registry-auth", "complete", ...vars(REG_PASSWORD));
          const logs = await jobs.logs(b, "private", "private registry");
          assertEquals(logs, "running an image from a private registry\n");
        },
      );

      await step(
        "template: rendered into /local, and into /srv/www through a relative mount",
        "template",
        async () => {
          const a = await jobs.run("template.nomad", "template");
          const logs = await jobs.logs(a, "web", "</h1>");
          assertMatch(logs, /^job=template$/m);
          assertMatch(logs, new RegExp(`^alloc=${a.ID}$`, "m"));
          assertMatch(logs, /^listen=0\.0\.0\.0:8080$/m);
          assertMatch(logs, /^<h1>hello from web in dc1<\/h1>$/m);
          // The mounted directory is what httpd serves; the mount is read-only.
          const page = await waitFor("httpd serving", async () => {
            const r = await jobs.exec(a, "web", "wget", "-qO-", "http://127.0.0.1:8080/index.html");
            return r.code === 0 && r.stdout;
          }, 10000);
          assertEquals(page, "<h1>hello from web in dc1</h1>\n");
          const ro = await jobs.exec(a, "web", "touch", "/srv/www/x");
          assert(ro.code !== 0, "the ro template mount is writable");
        },
      );

      await step("host_network: the task sees the host's interfaces", "host-network", async () => {
        const before = netDevNames(await hostCat("/proc/net/dev"));
        const a = await jobs.run("host_network.nomad", "host-network");
        const inside = netDevNames(await jobs.sh(a, "app", "cat /proc/net/dev"));
        const after = netDevNames(await hostCat("/proc/net/dev"));
        // Interfaces that were there before and after (veths of other tests come and go).
        const stable = before.filter((n) => after.includes(n));
        assert(stable.some((n) => n !== "lo"), `no host interface but lo: ${stable}`);
        for (const n of stable) assert(inside.includes(n), `host interface ${n} not seen inside: ${inside}`);
      });

      await step(
        "resources: memory_max is the limit, memory the soft limit, cpu shares + quota",
        "resources",
        async () => {
          // memory_max needs memory oversubscription (off by default), as the example says.
          const sc = await agent.api<{ SchedulerConfig: Record<string, unknown> }>(
            "/v1/operator/scheduler/configuration",
          );
          await agent.api("/v1/operator/scheduler/configuration", {
            method: "PUT",
            body: JSON.stringify({ ...sc.SchedulerConfig, MemoryOversubscriptionEnabled: true }),
          });
          const a = await jobs.run("resources.nomad", "resources");
          const out = await jobs.sh(
            a,
            "app",
            [
              cgroupFile("memory.max", "memory/memory.limit_in_bytes"),
              cgroupFile("memory.low", "memory/memory.soft_limit_in_bytes"),
              cgroupFile("cpu.weight", "cpu/cpu.shares"),
              cgroupFile("cpu.max", "cpu/cpu.cfs_quota_us; cat /sys/fs/cgroup/cpu/cpu.cfs_period_us"),
            ].join("; "),
          );
          const v = out.trim().split(/\s+/);
          assertEquals(Number(v[0]), 128 * MB, out);
          assertEquals(Number(v[1]), 64 * MB, out);
          // cgroup v1: cpu.shares = Nomad's cpu; v2: runc's weight for those shares.
          const shares = 250;
          const weight = 1 + Math.floor(((shares - 2) * 9999) / 262142);
          assert(Number(v[2]) === shares || Number(v[2]) === weight, out);
          // CFS quota as Nomad's docker driver computes it: cpu / node's total compute × period × cpus.
          const node = await agent.node();
          const total = Number(node.Attributes["cpu.totalcompute"]);
          const cpus = Number(node.Attributes["cpu.numcores"]);
          const quota = Math.max(1000, Math.floor((shares / total) * 100000) * cpus);
          assertEquals([Number(v[3]), Number(v[4])], [quota, 100000], out);
          // The limit holds: a process that grows past 128 MiB is OOM-killed; the task keeps running.
          const th = performance.now();
          // busybox tail keeps the one 200 MiB line in memory.
          const hog = await jobs.exec(
            a,
            "app",
            "/bin/sh",
            "-c",
            "head -c 200m /dev/zero | tail >/dev/null; echo tail exit $?",
          );
          console.log(
            `200 MiB in a 128 MiB task: ${hog.stdout.trim()} after ${(performance.now() - th).toFixed(0)} ms`,
          );
          assertEquals(hog.stdout, "tail exit 137\n", JSON.stringify(hog)); // 128 + SIGKILL
          const st = await agent.api<{ ClientStatus: string }>(`/v1/allocation/${a.ID}`);
          assertEquals(st.ClientStatus, "running");
        },
      );

      await step("OOM: a task that outgrows its memory is reported OOM killed", "oom", async () => {
        const file = `${volDir}/oom.nomad`;
        await Deno.writeTextFile(
          file,
          `job "oom" {
  type = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "hog" {
      driver = "containerd-driver"
      config {
        image   = "docker.io/library/busybox:1.36"
        command = "/bin/sh"
        args    = ["-c", "echo start; head -c 200m /dev/zero | tail"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`,
        );
        await agent.run(file);
        const a = await agent.waitAlloc("oom", "failed", 60000);
        // Nomad records the driver's OOM flag in the Terminated event's details (its display message
        // shows only the exit code and signal).
        const full = await agent.api<
          { TaskStates: Record<string, { Events: { Type: string; Details: Record<string, string> }[] }> }
        >(`/v1/allocation/${a.ID}`);
        const term = full.TaskStates.hog.Events.find((e) => e.Type === "Terminated");
        assertEquals(term?.Details.exit_code, "137", JSON.stringify(term));
        assertEquals(term?.Details.oom_killed, "true", JSON.stringify(term));
      });

      await step("exec: user, cwd, env, stdin, exit code through nomad alloc exec", "exec", async () => {
        const a = await jobs.run("exec.nomad", "exec");
        const out = await jobs.sh(a, "shell", 'id -un; pwd; echo "$GREETING"; cat /local/motd');
        assertEquals(out, `app\n/home/app\nhello from exec\nwelcome to ${a.ID}\n`);
        const code = await jobs.exec(a, "shell", "/bin/sh", "-c", "echo to-stderr >&2; exit 7");
        assertEquals([code.code, code.stderr.trim()], [7, "to-stderr"]);
        const child = new Deno.Command(NOMAD_BIN, {
          args: ["alloc", "exec", "-t=false", "-task", "shell", a.ID, "/bin/sh", "-c", "tr a-z A-Z"],
          env: { NOMAD_ADDR: agent.addr },
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode("through stdin\n"));
        await w.close();
        const res = await child.output();
        assertEquals(new TextDecoder().decode(res.stdout), "THROUGH STDIN\n");
        assertEquals(res.code, 0);
        // A command that cannot start: the CLI prints the runtime's reason and exits non-zero at once (it
        // used to hang: the plugin closed the stream without a status).
        for (
          const [cmd, reason] of [
            ["/nonexistent", /exec: "\/nonexistent": no such file or directory/],
            ["nonexistent", /exec: "nonexistent": executable file not found in \$PATH/],
            ["/etc/passwd", /exec: "\/etc\/passwd": permission denied/],
            // Longer than a websocket close frame holds: cut to fit, so the reason still reaches the CLI.
            [`/${"x".repeat(150)}`, /exec: "\/x+…/],
          ] as const
        ) {
          for (const tty of [false, true]) {
            const t0 = performance.now();
            const bad = tty
              ? await execInTerminal(agent, a.ID, "shell", cmd)
              : await jobs.exec(a, "shell", cmd);
            const ms = Math.round(performance.now() - t0);
            const said = (bad.stderr + bad.stdout).trim();
            console.log(`nomad alloc exec -t=${tty} ${cmd}: exit ${bad.code} in ${ms} ms: ${said}`);
            assert(bad.code !== 0, `nomad alloc exec ${cmd} succeeded`);
            assertMatch(said, reason);
            assert(ms < 2000, `nomad alloc exec -t=${tty} ${cmd} took ${ms} ms`);
          }
        }
      });

      await t.step('script checks: Nomad refuses them for provider = "nomad" services', async () => {
        const dir = await shortTempDir("cdrv-sc-job-");
        const file = `${dir}/script-check.nomad`;
        await Deno.writeTextFile(
          file,
          `job "script-check" {
  group "g" {
    service {
      provider = "nomad"
      name     = "shell"
      check {
        type     = "script"
        task     = "shell"
        command  = "/bin/true"
        interval = "5s"
        timeout  = "2s"
      }
    }
    task "shell" {
      driver = "containerd-driver"
      config {
        image = "docker.io/library/busybox:1.36"
      }
    }
  }
}
`,
        );
        const r = await agent.cli("job", "validate", file);
        assert(r.code !== 0, `nomad accepted a script check on a nomad service: ${r.stdout}`);
        console.log(`nomad job validate: ${(r.stderr + r.stdout).trim().split("\n").slice(-2).join(" ")}`);
        await Deno.remove(dir, { recursive: true });
      });
    } finally {
      for (const job of ran) await jobs.purge(job);
      await agent.stop();
      await purgeNamespace(namespace);
      await Deno.remove(volDir, { recursive: true }).catch(() => {});
      console.log(`scenarios: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  },
});

Deno.test({
  name: "a node with allow_privileged = false refuses a privileged job; plugin-level registry auth",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const namespace = `cdrv-np-${crypto.randomUUID().slice(0, 6)}`;
    const agent = await startTestAgent({
      namespace,
      httpPort: BASE + 140,
      extraPluginConfig: `allow_privileged = false
    auth {
      username = "${REG_USER}"
      password = "${REG_PASSWORD}"
    }`,
    });
    const jobs = new Jobs(agent);
    try {
      await t.step("privileged job fails with an event naming privileged and allow_privileged", async () => {
        const a = await jobs.run("privileged.nomad", "privileged", "failed");
        const ev = await jobs.events(a, "priv");
        assertMatch(ev, /Driver Failure: .*"privileged".*"allow_privileged" is false/, ev);
        console.log(
          `allow_privileged = false → ${ev.split("\n").find((l) => l.startsWith("Driver Failure"))}`,
        );
        await jobs.purge("privileged");
      });

      await t.step(
        "the plugin's auth block pulls from the private registry for a job without one",
        async () => {
          const dir = await shortTempDir("cdrv-np-job-");
          const file = `${dir}/plugin-auth.nomad`;
          await Deno.writeTextFile(
            file,
            `job "plugin-auth" {
  type = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "containerd-driver"
      config {
        image   = "${BASIC_REGISTRY}/cdrv/busybox:1"
        command = "/bin/echo"
        args    = ["pulled with the plugin's credentials"]
      }
    }
  }
}
`,
          );
          await agent.run(file);
          const a = await agent.waitAlloc("plugin-auth", "complete", 60000);
          assertEquals(
            await jobs.logs(a, "t", "credentials"),
            "pulled with the plugin's credentials\n",
          );
          await jobs.purge("plugin-auth");
          await Deno.remove(dir, { recursive: true });
        },
      );
    } finally {
      await jobs.purge("privileged");
      await jobs.purge("plugin-auth");
      await agent.stop();
      await purgeNamespace(namespace);
    }
  },
});

/** `nomad alloc exec -i -t` as from a terminal: the CLI runs under `script`, which gives it a pty. */
async function execInTerminal(agent: NomadAgent, alloc: string, task: string, cmd: string) {
  const line = [NOMAD_BIN, "alloc", "exec", "-i=true", "-t=true", "-task", task, alloc, cmd].join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    env: { NOMAD_ADDR: agent.addr },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
