// The release as a new operator installs it: the amd64 archive unpacked on a node where the repo and
// $HOME/.cache are hidden (a mount namespace; no Deno on PATH), plugin_dir pointed at its plugin/ dir, a
// real Nomad agent. Then: the sandbox the installed plugin runs in (its command line, a probe run with
// exactly those flags, and the plugin's own path checks), a redis job (log line, PONG, exec), and an
// upgrade that replaces the files under a running task.
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import { call, cmdline, ROOT, startPlugin } from "../harness/plugin.ts";
import { purgeNamespace } from "../harness/driver.ts";
import { waitFor } from "../harness/services.ts";
import { permissionFlags } from "../../src/driver/sandbox.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";
import { BUILD_PATHS, OperatorAgent, PORT_BASE, sh, unpackTarball } from "./operator.ts";
import type * as grpc from "@grpc/grpc-js";

const CTD_DIR = Deno.env.get("CDRV_TEST_CONTAINERD_DIR") ?? "";
const REDIS_PORT = PORT_BASE + 20;

function redisJob(): string {
  return `job "rel-redis" {
  datacenters = ["dc1"]
  group "cache" {
    task "redis" {
      driver = "containerd-driver"
      config {
        image   = "docker.io/library/redis:7"
        command      = "redis-server"
        host_network = true
        args         = ["--port", "${REDIS_PORT}", "--protected-mode", "no", "--save", ""]
      }
      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
`;
}

/** The private socket dir among a plugin's read grants. */
function socketDirOf(flags: string[]): string {
  const read = flags.find((f) => f.startsWith("--allow-read="))!.slice("--allow-read=".length).split(",");
  return read[0];
}

async function checkCommandLine(agent: OperatorAgent, op: string, pid: number): Promise<string[]> {
  const argv = await cmdline(pid);
  assertEquals(argv[0], `${op}/runtime/deno`, "the plugin runs the archive's own Deno");
  assert(argv.includes(`${op}/containerd-driver.js`), argv.join(" "));
  const flags = argv.filter((a) => a.startsWith("--allow-"));
  const socketDir = socketDirOf(flags);
  assertMatch(socketDir, new RegExp(`^/run/containerd-driver\\.${pid}\\.[A-Za-z0-9]+$`));
  assertEquals((await Deno.stat(socketDir)).mode! & 0o777, 0o700);
  assertEquals(flags, permissionFlags({ socketDir, extraPaths: [CTD_DIR, agent.dir] }));
  for (const f of flags.filter((f) => /^--allow-(read|write)=/.test(f))) {
    const grants = f.split("=")[1].split(",");
    for (const bad of ["/tmp", "/", "/etc", "/root", "/run", "/var"]) {
      assert(!grants.includes(bad), `${bad} granted: ${f}`);
    }
  }
  console.log(`  plugin ${pid}: ${flags.join(" ")}`);
  return flags;
}

async function probe(op: string, flags: string[], secret: string, granted: string, scratch: string) {
  const out = await new Deno.Command(`${op}/runtime/deno`, {
    args: ["run", "--no-prompt", "--no-config", ...flags, `${ROOT}/tests/release/probe.ts`, secret, granted],
    env: { DENO_DIR: `${scratch}/probe-deno-dir`, DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assertEquals(out.code, 0, dec.decode(out.stderr));
  const r = JSON.parse(dec.decode(out.stdout)) as Record<string, string>;
  for (const [k, v] of Object.entries(r)) console.log(`  probe: ${k}: ${v}`);
  for (const k of Object.keys(r).filter((k) => !["write the granted dir", "run mkfifo"].includes(k))) {
    assertMatch(r[k], /^refused: /, `the sandbox let the plugin ${k}`);
  }
  assertEquals(r["write the granted dir"], "allowed");
  assertEquals(r["run mkfifo"], "allowed");
}

async function pluginRefuses(op: string, paths: string[]): Promise<void> {
  const p = await startPlugin({ bin: `${op}/containerd-driver` });
  try {
    for (const path of paths) {
      const v = encodeCty({ containerd_address: path }, impliedType(pluginSpec));
      const err = await assertRejects(() => call(p.base, "setConfig", { msgpackConfig: v }));
      assertMatch((err as grpc.ServiceError).details, /is outside the paths the plugin may read/);
    }
  } finally {
    await p.close();
  }
}

/** The seq-N lines of the writer's log; asserts 0..n-1 with no gap; returns n. */
async function seqLines(agent: OperatorAgent, alloc: string): Promise<number> {
  const nums = (await agent.cli("alloc", "logs", alloc, "w")).split("\n").filter((l) => l.startsWith("seq-"))
    .map((l) => Number(l.slice(4)));
  nums.forEach((n, i) => assertEquals(n, i, `log line ${i} is seq-${n}: lines were lost`));
  return nums.length;
}

/**
 * Replaces the installed files as the README's upgrade says: each new file beside the old, then renamed; the
 * runtime, the bundle's chunks, its entry, the launcher last. The new bundle carries `newVersion`.
 */
async function replaceFiles(op: string, newVersion: string): Promise<void> {
  const literal = `PLUGIN_VERSION = "${PLUGIN_VERSION}"`;
  let marked = 0;
  const files = [
    "runtime/deno",
    "containerd-driver.shared.js",
    "containerd-driver.driver.js",
    "containerd-driver.js",
    "containerd-driver",
  ];
  for (const f of files) {
    if (f.endsWith(".js")) {
      const text = await Deno.readTextFile(`${op}/${f}`);
      if (text.includes(literal)) marked++;
      await Deno.writeTextFile(`${op}/${f}.new`, text.replace(literal, `PLUGIN_VERSION = "${newVersion}"`));
    } else {
      await Deno.copyFile(`${op}/${f}`, `${op}/${f}.new`);
    }
    await Deno.rename(`${op}/${f}.new`, `${op}/${f}`);
  }
  assertEquals(marked, 1, "the bundle's version literal is not in exactly one of its files");
}

/** What the steps share. */
interface Ctx {
  op: string;
  agent: OperatorAgent;
  secret: string;
  /** Every plugin PID seen, for the /run check at the end. */
  pids: number[];
}

/** The agent (and so the plugin) sees no build: the repo and $HOME/.cache are empty, no Deno on PATH. */
async function checkHidden(a: OperatorAgent): Promise<void> {
  const list = BUILD_PATHS.map((p) => `'${p}'`).join(" ");
  const seen = await sh(
    "nsenter",
    ...["-t", String(a.child.pid), "-m", "--", "sh", "-c", `ls -A ${list}; command -v deno || true`],
  );
  assertEquals(seen.split("\n").filter((l) => l && !l.endsWith(":")), [], seen);
}

async function sandboxStep({ op, agent, secret, pids }: Ctx): Promise<void> {
  const pid = (await agent.pluginPid())!;
  assert(pid, "no plugin process under the agent");
  pids.push(pid);
  const flags = await checkCommandLine(agent, op, pid);
  await probe(op, flags, secret, socketDirOf(flags), agent.dir);
  await pluginRefuses(op, [secret, "/etc/shadow", "/root/.cache/containerd.sock"]);
}

async function redisStep({ agent: a }: Ctx): Promise<void> {
  await Deno.writeTextFile(`${a.dir}/redis.nomad`, redisJob());
  await a.cli("job", "run", "-detach", `${a.dir}/redis.nomad`);
  const alloc = await a.runningAlloc("rel-redis");
  const pong = await waitFor("PONG", async () => {
    const r = await sh("redis-cli", "-p", String(REDIS_PORT), "ping").catch(() => "");
    return r.trim() === "PONG" ? r.trim() : undefined;
  }, 30_000);
  assertEquals(pong, "PONG");
  const logs = await waitFor("redis's log line", async () => {
    const l = await a.cli("alloc", "logs", alloc, "redis");
    return /Ready to accept connections/.test(l) ? l : undefined;
  }, 15_000);
  assertMatch(logs, /Ready to accept connections/);
  const exec = await a.cli(
    ...["alloc", "exec", "-i=false", "-t=false", "-task", "redis", alloc, "/bin/sh", "-c", "echo exec-ok"],
  );
  assertEquals(exec.trim(), "exec-ok");
  await a.cli("job", "stop", "-detach", "-purge", "rel-redis");
}

async function upgradeStep({ op, agent: a, pids }: Ctx): Promise<void> {
  await a.cli("job", "run", "-detach", `${ROOT}/tests/fixtures/jobs/seq.nomad`);
  const alloc = await a.runningAlloc("seq");
  await waitFor("log lines", async () => (await seqLines(a, alloc)) > 20, 20_000);
  const oldPid = (await a.pluginPid())!;
  pids.push(oldPid);
  const upgraded = `${PLUGIN_VERSION}-upgrade`;
  await replaceFiles(op, upgraded);
  const before = await seqLines(a, alloc);
  await a.restart();
  await waitFor("the upgraded plugin's fingerprint", async () => {
    return (await a.waitHealthy())["driver.containerd.plugin_version"] === upgraded;
  }, 30_000);
  const newPid = (await a.pluginPid())!;
  pids.push(newPid);
  assert(newPid !== oldPid);
  await waitFor(
    "more log lines after the upgrade",
    async () => (await seqLines(a, alloc)) > before + 50,
    20_000,
  );
  const st = await a.api<{ ClientStatus: string; TaskStates: Record<string, { Restarts: number }> }>(
    `/v1/allocation/${alloc}`,
  );
  assertEquals(st.ClientStatus, "running");
  assertEquals(st.TaskStates.w.Restarts, 0, "the task was restarted, not recovered");
  console.log(`  upgraded: plugin ${oldPid} → ${newPid}; ${await seqLines(a, alloc)} log lines, none lost`);
  await a.cli("job", "stop", "-detach", "-purge", "seq");
}

/** Every plugin the agent ran removed its private socket dir when it exited (removes any left, then fails). */
async function checkRunClean(pids: number[]): Promise<void> {
  const left = [...Deno.readDirSync("/run")].filter((e) =>
    pids.some((p) => e.name.startsWith(`containerd-driver.${p}.`))
  );
  for (const e of left) await Deno.remove(`/run/${e.name}`, { recursive: true });
  assertEquals(left.map((e) => e.name), [], "socket dirs left in /run");
}

Deno.test({
  name: "release: installed from the archive with no build around, sandboxed, runs redis, upgrades in place",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const op = await Deno.realPath(await unpackTarball());
    const namespace = `cdrv-rel-${crypto.randomUUID().slice(0, 6)}`;
    const secret = `/tmp/cdrv-secret-${crypto.randomUUID()}`;
    await Deno.writeTextFile(secret, "not for the plugin\n", { mode: 0o644 });
    const pids: number[] = [];
    let agent: OperatorAgent | undefined;
    try {
      agent = await OperatorAgent.start({
        pluginDir: `${op}/plugin`,
        containerdDir: CTD_DIR,
        namespace,
        httpPort: PORT_BASE,
      });
      const commit = (await Deno.readTextFile(`${op}/VERSION`)).match(/^commit (.*)$/m)![1];
      const attrs = await agent.waitHealthy();
      assertEquals(attrs["driver.containerd.plugin_version"], PLUGIN_VERSION);
      assertEquals(attrs["driver.containerd.plugin_commit"], commit);
      await checkHidden(agent);
      const ctx: Ctx = { op, agent, secret, pids };
      await t.step(
        "the installed plugin's sandbox: command line, a probe with its flags, its own checks",
        () => sandboxStep(ctx),
      );
      await t.step("a redis job starts, logs, answers PONG and execs", () => redisStep(ctx));
      await t.step(
        "upgrade: files replaced under a running task, agent restarted, task recovered, no log line lost",
        () => upgradeStep(ctx),
      );
    } finally {
      await agent?.stop();
      await Deno.remove(secret).catch(() => {});
      await purgeNamespace(namespace);
      await Deno.remove(op.slice(0, op.lastIndexOf("/")), { recursive: true });
    }
    await checkRunClean(pids);
  },
});
