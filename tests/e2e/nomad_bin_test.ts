// CDRV_NOMAD_BIN: the scripts build no Nomad when it names one, and the demo runs under that binary (a copy
// of the 1.6.3 build under another path stands for the operator's own Nomad) and ends with PONG. Stopping
// the demo removes only the cgroup dirs of its own agent, not those another agent made meanwhile.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { NOMAD_BIN } from "../harness/nomad.ts";
import { ROOT } from "../harness/plugin.ts";
import { shortTempDir } from "../harness/services.ts";

const dec = new TextDecoder();

async function bash(script: string, env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Whether a cgroup dir exists (Deno touches nothing under /sys/fs/cgroup without all permissions). */
async function cgroupDir(path: string): Promise<boolean> {
  return (await bash(`test -d '${path}'`, {})).code === 0;
}

Deno.test("CDRV_NOMAD_BIN: nothing is built; the demo runs under that Nomad and ends with PONG", async (t) => {
  const dir = await shortTempDir("cdrv-nb-");
  const copy = `${dir}/elsewhere/nomad`;
  await Deno.mkdir(`${dir}/elsewhere`);
  await Deno.copyFile(NOMAD_BIN, copy);
  await Deno.chmod(copy, 0o755);
  const demoDir = `${dir}/demo`;
  const base = Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000);
  const demoEnv = {
    CDRV_NOMAD_BIN: copy,
    CDRV_DEMO_DIR: demoDir,
    CDRV_DEMO_PORT: String(base + 300),
    CDRV_DEMO_REGISTRY_PORT: String(base + 310),
  };
  // Another agent's cgroup dir, made after the demo started: the demo's stop must leave it.
  const v2 = (await bash("test -f /sys/fs/cgroup/cgroup.controllers", {})).code === 0;
  const decoyParent = v2 ? "/sys/fs/cgroup/nomad.slice" : "/sys/fs/cgroup/cpuset/nomad";
  const decoy = `${decoyParent}/cdrv-decoy-${crypto.randomUUID().slice(0, 6)}`;
  const parentWasThere = await cgroupDir(decoyParent);
  try {
    await t.step("the install step uses the binary and builds nothing", async () => {
      const cache = `${dir}/empty-cache`;
      const lib = "source scripts/lib/common.sh && source scripts/lib/nomad.sh && cdrv_install_nomad";
      const r = await bash(lib, { CDRV_CACHE: cache, CDRV_NOMAD_BIN: copy });
      assertEquals(r.code, 0, r.stderr);
      assertMatch(
        r.stderr,
        new RegExp(`using CDRV_NOMAD_BIN=${copy} \\(Nomad v\\d+\\.\\d+\\.\\d+\\); nothing is built`),
      );
      assertEquals(await exists(`${cache}/bin/nomad`), false, "a Nomad was put in the cache");
      assertEquals(await exists(`${cache}/nomad-build`), false, "a Nomad build was started");
      const bad = await bash(lib, { CDRV_CACHE: cache, CDRV_NOMAD_BIN: `${dir}/no-such-nomad` });
      assert(bad.code !== 0, "a missing CDRV_NOMAD_BIN was accepted");
      assertMatch(bad.stderr, /CDRV_NOMAD_BIN=.*no-such-nomad does not run/);
    });

    await t.step("./scripts/demo.sh under CDRV_NOMAD_BIN ends with PONG", async () => {
      const r = await bash("./scripts/demo.sh", demoEnv);
      console.log(r.stdout.trim().split("\n").slice(-3).join("\n"));
      assertEquals(r.code, 0, `demo failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
      assertMatch(r.stdout, /ping → PONG/);
      assertMatch(r.stderr, new RegExp(`demo: Nomad v\\d+\\.\\d+\\.\\d+ \\(${copy}\\)`));
      const pid = (await Deno.readTextFile(`${demoDir}/nomad.pid`)).trim();
      // (Deno reads nothing under /proc without all permissions: readlink does.)
      const exe = await bash(`readlink /proc/${pid}/exe`, {});
      assertEquals(exe.stdout.trim(), copy, "the demo's agent is not the given binary");
      const cgroups = await bash(`find /sys/fs/cgroup -maxdepth 3 -type d -name "cdrv-demo-nomad*"`, {});
      console.log(`demo agent's cgroup parent dirs: ${cgroups.stdout.trim().split("\n").join(" ")}`);
      assertEquals((await bash(`mkdir -p '${decoy}'`, {})).code, 0, "cannot make the decoy cgroup dir");
    });

    await t.step("./scripts/demo.sh stop removes what the demo made, and only that", async () => {
      const r = await bash("./scripts/demo.sh stop", demoEnv);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(await cgroupDir(decoy), true, "the demo's stop removed another agent's cgroup dir");
      const left = await bash(
        `find /sys/fs/cgroup -maxdepth 3 -type d \\( -name "cdrv-demo-nomad*" -o -name nomad-demo \\)`,
        {},
      );
      assertEquals(left.stdout.trim(), "", "cgroup dirs of the demo left");
      assertEquals(await exists(demoDir), false, "the demo dir is left");
      const procs = await bash(
        `for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = "${copy}" ] && echo $p; done; true`,
        {},
      );
      assertEquals(procs.stdout.trim(), "", "a process of the demo's Nomad is left");
    });
  } finally {
    if (await exists(demoDir)) await bash("./scripts/demo.sh stop", demoEnv);
    await bash(
      `rmdir '${decoy}' 2>/dev/null; ${parentWasThere ? "" : `rmdir '${decoyParent}' 2>/dev/null;`} true`,
      {},
    );
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
