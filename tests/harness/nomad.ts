/**
 * A real Nomad agent for end-to-end tests, started the way users start it:
 * `nomad agent -dev -config example/agent.hcl -plugin-dir <dir>`, plus one override file of the test's
 * own (ports on 127.0.0.1, the test's containerd, log level). Stopped by the PID it was started with.
 *
 * @module
 */
import { ROOT, SLOW_FACTOR } from "./plugin.ts";
import { killMarked, shortTempDir, stopChild, TEST_TMP, waitFor } from "./services.ts";

/** The Nomad binary: the user's `CDRV_NOMAD_BIN`, else the 1.6.3 build of scripts/setup.sh. */
export const NOMAD_BIN = Deno.env.get("CDRV_NOMAD_BIN") ??
  `${Deno.env.get("HOME")}/.cache/cdrv/bin/nomad`;

let versionLine: Promise<string> | undefined;
/** The first line of `nomad version` of {@linkcode NOMAD_BIN} ("Nomad v1.6.3"), asked once. */
export function nomadVersion(): Promise<string> {
  return versionLine ??= new Deno.Command(NOMAD_BIN, { args: ["version"], stdout: "piped", stderr: "null" })
    .output()
    .then((o) => new TextDecoder().decode(o.stdout).split("\n")[0].trim())
    .catch((e) => `does not run: ${e}`);
}

/** What a CLI run gave. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the nomad CLI ({@linkcode NOMAD_BIN}) against the agent at `addr`. */
export async function nomadCli(addr: string, ...args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(NOMAD_BIN, {
    args,
    env: { NOMAD_ADDR: addr },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Options for {@linkcode NomadAgent.start}. */
export interface AgentOptions {
  /** Extra HCL appended to the override file (e.g. a plugin block). */
  hcl: string;
  /** Environment for the agent (the plugin inherits it). */
  env?: Record<string, string>;
  /** HTTP port; RPC and Serf use the next two. */
  httpPort?: number;
  /** Config files given before the override (default: example/agent.hcl). */
  configs?: string[];
  /** Wait for the node to be ready (default true). */
  waitReady?: boolean;
  /**
   * `-dev` (default) keeps the server's state in memory; false runs a one-node server + client whose
   * state survives an agent restart (needed to test restarts).
   */
  dev?: boolean;
}

/** A running Nomad dev agent. */
export class NomadAgent {
  private constructor(
    readonly dir: string,
    public child: Deno.ChildProcess,
    readonly httpPort: number,
    readonly logPath: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  /** The agent's HTTP API address. */
  get addr(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Starts an agent in a fresh directory holding its data dir, plugin dir and log. */
  static async start(opts: AgentOptions): Promise<NomadAgent> {
    // Every e2e test's output names the Nomad it ran under.
    console.log(`nomad: ${NOMAD_BIN} (${await nomadVersion()})`);
    const dir = await shortTempDir("cdrv-nomad-");
    const httpPort = opts.httpPort ?? Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 100;
    await Deno.mkdir(`${dir}/plugins`);
    // Users often symlink the plugin into plugin_dir; the launcher must resolve its own path.
    await Deno.symlink(`${ROOT}/bin/containerd-driver`, `${dir}/plugins/containerd-driver`);
    const override = `${dir}/test.hcl`;
    await Deno.writeTextFile(
      override,
      `log_level = "DEBUG"
bind_addr = "127.0.0.1"
disable_update_check = true
ports {
  http = ${httpPort}
  rpc  = ${httpPort + 1}
  serf = ${httpPort + 2}
}
${opts.dev === false ? nonDevConfig(dir) : ""}
${opts.hcl}
`,
    );
    const logPath = `${dir}/nomad.log`;
    const cgroupsBefore = new Set(await nomadCgroupDirs());
    const configs = (opts.configs ?? [`${ROOT}/example/agent.hcl`]).flatMap((c) => ["-config", c]);
    const args = [
      "agent",
      ...(opts.dev === false ? [] : ["-dev", "-data-dir", `${dir}/data`]),
      ...configs,
      "-config",
      override,
      "-plugin-dir",
      `${dir}/plugins`,
    ];
    // Plugins inherit this: stop() finds and ends any the agent leaves behind.
    const env = { ...opts.env, CDRV_TEST_AGENT: dir };
    const agent = new NomadAgent(dir, spawnAgent(logPath, args, env), httpPort, logPath, args, env);
    agent.cgroupsBefore = cgroupsBefore;
    if (opts.waitReady ?? true) {
      try {
        await agent.waitReady();
      } catch (e) {
        // Why it never came up is in its log; the agent must not outlive the failure.
        const tail = (await agent.log().catch(() => "")).split("\n").slice(-40).join("\n");
        await agent.stop();
        throw new Error(`${(e as Error).message}\nthe agent's last log lines:\n${tail}`);
      }
    }
    return agent;
  }

  /** Waits until the node is ready. */
  async waitReady(): Promise<void> {
    await waitFor(
      "the Nomad node to be ready",
      async () => {
        const nodes = await this.api<{ Status: string }[]>("/v1/nodes");
        return nodes.length > 0 && nodes[0].Status === "ready";
      },
      60000 * SLOW_FACTOR,
      250,
    );
  }

  /** Stops the agent (its tasks keep running) and starts it again on the same data dir. */
  async restart(): Promise<void> {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    await this.child.status;
    this.child = spawnAgent(this.logPath, this.args, this.env, true);
    await this.waitReady();
  }

  /** The PID of the agent's long-lived containerd-driver plugin process. */
  async pluginPid(): Promise<number | undefined> {
    const out = await new Deno.Command("ps", {
      args: ["-o", "pid=,args=", "--ppid", String(this.child.pid)],
      stdout: "piped",
    })
      .output();
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) =>
      l.includes("containerd-driver.js")
    );
    return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
  }

  /** GET (or another method) on the HTTP API, parsed as JSON. */
  async api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(this.addr + path, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The one node of this dev agent. */
  async node(): Promise<NomadNode> {
    const nodes = await this.api<{ ID: string }[]>("/v1/nodes");
    return await this.api<NomadNode>(`/v1/node/${nodes[0].ID}`);
  }

  /** The agent's log so far. */
  log(): Promise<string> {
    return Deno.readTextFile(this.logPath);
  }

  /** Runs the nomad CLI against this agent. */
  cli(...args: string[]): Promise<CliResult> {
    return nomadCli(this.addr, ...args);
  }

  /** Stops the agent (SIGINT, then SIGKILL after 20 s) and removes its directory. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    await stopChild(this.child);
    await killMarked(`CDRV_TEST_AGENT=${this.dir}`);
    if (!opts.keepDir) await removeTree(this.dir);
    for (const d of this.cleanupDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
    // The Nomad client leaves empty cgroup dirs behind; remove the ones that were not there before.
    const after = await nomadCgroupDirs();
    for (const d of after.filter((d) => !this.cgroupsBefore.has(d)).reverse()) {
      await Deno.remove(d).catch(() => {});
    }
  }

  /** Extra directories removed at stop. */
  cleanupDirs: string[] = [];

  /** Runs a job file (`nomad job run -detach`); returns the job's id as the file names it. */
  async run(file: string, ...vars: string[]): Promise<void> {
    const r = await this.cli("job", "run", "-detach", ...vars.flatMap((v) => ["-var", v]), file);
    if (r.code !== 0) throw new Error(`nomad job run ${file}: ${r.stderr}${r.stdout}`);
  }

  /** The allocations of a job. */
  allocs(job: string): Promise<AllocStub[]> {
    return this.api<AllocStub[]>(`/v1/job/${job}/allocations`);
  }

  /** Waits until the job has an allocation in `status` (running, complete, failed). */
  waitAlloc(job: string, status: string, timeoutMs = 60000): Promise<AllocStub> {
    return waitFor(
      `an allocation of ${job} ${status}`,
      async () => {
        const a = await this.allocs(job);
        return a.find((x) => x.ClientStatus === status);
      },
      timeoutMs,
      250,
    );
  }

  /** Nomad cgroup dirs that existed before this agent started. */
  cgroupsBefore = new Set<string>();
}

/** Nomad's cgroup dirs (/sys/fs/cgroup/<controller>/nomad...), parents first. */
async function nomadCgroupDirs(): Promise<string[]> {
  const out = await new Deno.Command("find", {
    args: ["/sys/fs/cgroup", "-maxdepth", "3", "-type", "d", "-path", "*/nomad*"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).sort();
}

/** A one-node server + client whose state lives in `dir` (what a dev agent keeps in memory). */
function nonDevConfig(dir: string): string {
  return `data_dir = "${dir}/data"
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  network_interface = "lo"
}
`;
}

/** Starts Nomad through a shell that execs it (same PID) with both streams in one log file. */
function spawnAgent(
  logPath: string,
  args: string[],
  env: Record<string, string>,
  append = false,
): Deno.ChildProcess {
  const redirect = append ? ">>" : ">";
  return new Deno.Command("sh", {
    args: ["-c", `log=$1; shift; exec "$@" ${redirect}"$log" 2>&1`, "sh", logPath, NOMAD_BIN, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Removes a Nomad data tree: unmounts what the client mounted under it first (secrets tmpfs etc.). */
export async function removeTree(dir: string): Promise<void> {
  // Deno opens /proc only with its all-permissions flag; ask cat.
  const out = await new Deno.Command("cat", { args: ["/proc/self/mounts"], stdout: "piped" }).output();
  const mounts = new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m && (m === dir || m.startsWith(dir + "/")))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    await new Deno.Command("umount", { args: ["-l", m], stderr: "null" }).output();
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** The parts of Nomad's node JSON the tests read. */
export interface NomadNode {
  ID: string;
  Status: string;
  Attributes: Record<string, string>;
  Drivers: Record<string, {
    Attributes: Record<string, string> | null;
    Detected: boolean;
    Healthy: boolean;
    HealthDescription: string;
  }>;
}

/** One allocation as `/v1/job/<id>/allocations` lists it. */
export interface AllocStub {
  ID: string;
  ClientStatus: string;
  TaskStates?: Record<
    string,
    { State: string; Failed: boolean; Events: { Type: string; DisplayMessage: string }[] }
  >;
}

/** A Nomad agent set up for our plugin against the test run's containerd, with a docker.io mirror. */
export async function startTestAgent(opts: {
  namespace: string;
  /** HCL inside the plugin's `config {}` block (e.g. `allow_privileged = false`). */
  extraPluginConfig?: string;
  /** Agent HCL appended after the plugin block, e.g. `client { host_volume "x" { path = "/srv/x" } }`. */
  extraAgentConfig?: string;
  httpPort?: number;
  dev?: boolean;
  containerdSock?: string;
  containerdDir?: string;
}): Promise<NomadAgent> {
  const ctdSock = opts.containerdSock ?? Deno.env.get("CDRV_TEST_CONTAINERD_SOCK")!;
  const ctdDir = opts.containerdDir ?? Deno.env.get("CDRV_TEST_CONTAINERD_DIR")!;
  const registry = Deno.env.get("CDRV_TEST_REGISTRY_PLAIN")!;
  const hostsDir = await shortTempDir("cdrv-certs-");
  await Deno.mkdir(`${hostsDir}/docker.io`);
  await Deno.writeTextFile(
    `${hostsDir}/docker.io/hosts.toml`,
    `server = "https://registry-1.docker.io"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  const agent = await NomadAgent.start({
    httpPort: opts.httpPort,
    dev: opts.dev,
    env: { CONTAINERD_DRIVER_EXTRA_PATHS: `${ctdDir}:${TEST_TMP}` },
    hcl: `plugin "containerd-driver" {
  config {
    containerd_address = "${ctdSock}"
    namespace          = "${opts.namespace}"
    registry_hosts_dir = "${hostsDir}"
    ${opts.extraPluginConfig ?? ""}
  }
}
${opts.extraAgentConfig ?? ""}`,
  });
  agent.cleanupDirs.push(hostsDir);
  await waitFor(
    "containerd-driver healthy",
    async () => (await agent.node()).Drivers["containerd-driver"]?.Healthy,
    30000 * SLOW_FACTOR,
  );
  return agent;
}
