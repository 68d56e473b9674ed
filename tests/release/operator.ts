/**
 * What a new operator has: the release artifacts in dist/, and a node with containerd and Nomad but no
 * Deno, no checkout and no ~/.cache. The agent runs in a mount namespace of its own (`unshare -m`) where
 * the repo and $HOME/.cache are covered by empty tmpfs mounts and PATH holds only the system's dirs.
 *
 * @module
 */
import { ROOT } from "../harness/plugin.ts";
import { killMarked, shortTempDir, stopChild, waitFor } from "../harness/services.ts";
import { NOMAD_BIN, nomadCli, type NomadNode, removeTree } from "../harness/nomad.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";

/** Where scripts/release.sh wrote the artifacts. */
export const DIST = `${ROOT}/dist`;
/** The amd64 archive's name without `.tar.gz` (also its top directory). */
export const TAR_NAME = `containerd-driver_${PLUGIN_VERSION}_linux_amd64`;
/** The amd64 Debian package. */
export const DEB = `${DIST}/containerd-driver_${PLUGIN_VERSION}_amd64.deb`;
/** Paths of the build machine that must not appear in what ships, nor be visible to the operator's agent. */
export const BUILD_PATHS = [ROOT, `${Deno.env.get("HOME")}/.cache`];
/** Deno's cache dir the launcher makes beside the plugins' socket dirs (here: /run's). */
export const RUN_CACHE = "/run/containerd-driver.cache";
/** Ports of the release tests' agents. */
export const PORT_BASE = Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 400;

/** Runs a program; throws with its output when it fails; returns stdout. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} (${out.code}): ${dec.decode(out.stderr)}${dec.decode(out.stdout)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** Unpacks the amd64 archive into a fresh dir; returns the unpacked top directory. */
export async function unpackTarball(prefix = "cdrv-op-"): Promise<string> {
  const dir = await shortTempDir(prefix);
  await sh("tar", "-xzf", `${DIST}/${TAR_NAME}.tar.gz`, "-C", dir);
  return `${dir}/${TAR_NAME}`;
}

/** Options of {@linkcode OperatorAgent.start}. */
export interface OperatorAgentOptions {
  /** The plugin_dir the operator points the agent at. */
  pluginDir: string;
  /** The test run's containerd directory (its socket is `containerd.sock` there). */
  containerdDir: string;
  /** containerd namespace of the plugin. */
  namespace: string;
  httpPort: number;
  /**
   * CONTAINERD_DRIVER_EXTRA_PATHS for the agent (default: containerd's dir and the agent's own dir, which
   * holds its data_dir); `(agentDir) => string`.
   */
  extraPaths?: (agentDir: string) => string;
}

/** A one-node Nomad server + client (state on disk, so it can restart) in a namespace without the build. */
export class OperatorAgent {
  private constructor(
    readonly dir: string,
    public child: Deno.ChildProcess,
    readonly opts: OperatorAgentOptions,
    /** Whether Deno's cache dir beside the plugins' socket dirs in /run was there before (else stop removes it). */
    private readonly hadRunCache: boolean,
  ) {}

  /** The HTTP API address. */
  get addr(): string {
    return `http://127.0.0.1:${this.opts.httpPort}`;
  }

  /** Writes the config (registry mirror for docker.io included), starts the agent, waits for the driver. */
  static async start(opts: OperatorAgentOptions): Promise<OperatorAgent> {
    const dir = await shortTempDir("cdrv-opa-");
    // The operator's own Nomad binary: a copy, since $HOME/.cache is hidden from the agent.
    await Deno.mkdir(`${dir}/bin`);
    await Deno.copyFile(NOMAD_BIN, `${dir}/bin/nomad`);
    await Deno.chmod(`${dir}/bin/nomad`, 0o755);
    await Deno.mkdir(`${dir}/certs.d/docker.io`, { recursive: true });
    const registry = Deno.env.get("CDRV_TEST_REGISTRY_PLAIN")!;
    await Deno.writeTextFile(
      `${dir}/certs.d/docker.io/hosts.toml`,
      `server = "https://registry-1.docker.io"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    await Deno.writeTextFile(`${dir}/agent.hcl`, agentHcl(dir, opts));
    const hadRunCache = await Deno.stat(RUN_CACHE).then(() => true, () => false);
    const agent = new OperatorAgent(dir, spawnHidden(dir, opts), opts, hadRunCache);
    await agent.waitHealthy();
    return agent;
  }

  /** Waits until the node is ready and the driver healthy; returns the driver's attributes. */
  async waitHealthy(): Promise<Record<string, string>> {
    return await waitFor(
      "containerd-driver healthy under the operator's agent",
      async () => {
        const nodes = await this.api<{ ID: string; Status: string }[]>("/v1/nodes");
        if (nodes[0]?.Status !== "ready") return undefined;
        const node = await this.api<NomadNode>(`/v1/node/${nodes[0].ID}`);
        const d = node.Drivers["containerd-driver"];
        return d?.Healthy ? d.Attributes ?? {} : undefined;
      },
      60_000,
      250,
    );
  }

  /** Stops the agent (tasks keep running) and starts it again on the same state. */
  async restart(): Promise<void> {
    await stopChild(this.child);
    this.child = spawnHidden(this.dir, this.opts, true);
    await this.waitHealthy();
  }

  /** GET on the HTTP API, parsed as JSON. */
  async api<T>(path: string): Promise<T> {
    const res = await fetch(this.addr + path);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Runs the nomad CLI against the agent; throws when it fails. */
  async cli(...args: string[]): Promise<string> {
    const r = await nomadCli(this.addr, ...args);
    if (r.code !== 0) throw new Error(`nomad ${args.join(" ")}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** The PID of the agent's long-lived plugin process (a child of the agent running the bundle). */
  async pluginPid(): Promise<number | undefined> {
    const out = await sh("ps", "-o", "pid=,args=", "--ppid", String(this.child.pid));
    const line = out.split("\n").find((l) => l.includes("containerd-driver.js"));
    return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
  }

  /** Waits until a job has a running allocation; returns its id. */
  async runningAlloc(job: string): Promise<string> {
    return await waitFor(
      `a running allocation of ${job}`,
      async () => {
        const allocs = await this.api<{ ID: string; ClientStatus: string }[]>(`/v1/job/${job}/allocations`);
        return allocs.find((a) => a.ClientStatus === "running")?.ID;
      },
      90_000,
      250,
    );
  }

  /** Stops the agent and whatever it left, and removes its directory. */
  async stop(): Promise<void> {
    await stopChild(this.child);
    await killMarked(`CDRV_TEST_AGENT=${this.dir}`);
    await removeTree(this.dir);
    if (!this.hadRunCache) await Deno.remove(RUN_CACHE, { recursive: true }).catch(() => {});
  }
}

function agentHcl(dir: string, o: OperatorAgentOptions): string {
  return `data_dir   = "${dir}/data"
plugin_dir = "${o.pluginDir}"
bind_addr  = "127.0.0.1"
log_level  = "DEBUG"
disable_update_check = true
ports {
  http = ${o.httpPort}
  rpc  = ${o.httpPort + 1}
  serf = ${o.httpPort + 2}
}
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
  enabled           = true
  network_interface = "lo"
  options {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}
plugin "containerd-driver" {
  config {
    containerd_address = "${o.containerdDir}/containerd.sock"
    namespace          = "${o.namespace}"
    registry_hosts_dir = "${dir}/certs.d"
  }
}
`;
}

/**
 * Starts `nomad agent` inside `unshare -m` with the build's paths under empty tmpfs mounts (private
 * propagation: nothing leaks out, and the mounts go when the namespace's last process ends). unshare and
 * sh exec, so the child's PID is the agent's. The agent's data dir and containerd's dir are granted to
 * the plugin through CONTAINERD_DRIVER_EXTRA_PATHS; XDG_RUNTIME_DIR is emptied so the socket dir is /run's.
 */
function spawnHidden(dir: string, o: OperatorAgentOptions, append = false): Deno.ChildProcess {
  const hide = BUILD_PATHS.map((p) => `mount -t tmpfs -o size=1m,mode=0755 cdrv-hidden '${p}'`).join(" && ");
  const redirect = append ? ">>" : ">";
  const script = `${hide} && exec "$@" ${redirect}'${dir}/nomad.log' 2>&1`;
  return new Deno.Command("unshare", {
    args: [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      `${dir}/bin/nomad`,
      "agent",
      "-config",
      `${dir}/agent.hcl`,
    ],
    env: {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      CONTAINERD_DRIVER_EXTRA_PATHS: o.extraPaths ? o.extraPaths(dir) : `${o.containerdDir}:${dir}`,
      XDG_RUNTIME_DIR: "",
      TMPDIR: "",
      CDRV_TEST_AGENT: dir,
      CDRV_TEST_DIR: Deno.env.get("CDRV_TEST_DIR") ?? "",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
