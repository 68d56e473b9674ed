/**
 * A Nomad cluster on one machine for multi-node tests: one server and N clients, each client in a
 * network namespace of its own with its own address, data dir, plugin dir, cgroup parent and containerd
 * namespace (our `namespace` plugin option) in the run's shared containerd.
 *
 * Network: a bridge on the host holding 10.213.<k>.1/24 (k picked so that no interface on the host
 * already has an address in it), and per client a veth pair, one end in the bridge, the other in the
 * client's namespace as 10.213.<k>.<1+i>/24 with a default route to the bridge. Nothing is routed
 * anywhere else and no iptables rule is added. The server binds the bridge address; clients reach it
 * over the veths, and the host's CLI reaches every agent's HTTP API the same way.
 *
 * Everything is stopped and removed by {@linkcode Cluster.stop}: agents by PID (SIGINT, SIGKILL after
 * 20 s), mounts under the data dirs, netns (which removes their veth ends, and so the pairs), the bridge,
 * the clients' cgroup parents.
 *
 * @module
 */
import { type CliResult, NOMAD_BIN, nomadCli, nomadVersion, removeTree } from "./nomad.ts";
import { ROOT } from "./plugin.ts";
import { shortTempDir, stopChild, TEST_TMP, waitFor } from "./services.ts";

/** Runs a command; throws with its output on failure; returns stdout. */
export async function run(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.code}): ${dec.decode(out.stderr)}${dec.decode(out.stdout)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** One Nomad agent process of the cluster. */
export interface ClusterAgent {
  name: string;
  /** address its HTTP/RPC/Serf bind to */
  address: string;
  httpPort: number;
  child: Deno.ChildProcess;
  logPath: string;
  /** data dir */
  dir: string;
  /** network namespace (clients) */
  netns?: string;
  /** containerd namespace (clients) */
  namespace?: string;
}

/** Options of {@linkcode Cluster.start}. */
export interface ClusterOptions {
  clients: number;
  /** first port; the server uses base..base+2, client i base+10*i.. */
  portBase: number;
  containerdSock: string;
  containerdDir: string;
  /** HCL inside each client's plugin `config {}` beside address and namespace */
  extraPluginConfig?: string;
}

function spawn(logPath: string, argv: string[], env: Record<string, string>): Deno.ChildProcess {
  // `ip netns exec` execs its command, and sh execs that: the child's PID is the agent's.
  return new Deno.Command("sh", {
    args: ["-c", `log=$1; shift; exec "$@" >"$log" 2>&1`, "sh", logPath, ...argv],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A server and clients in their own network namespaces. */
export class Cluster {
  readonly agents: ClusterAgent[] = [];
  readonly netns: string[] = [];
  bridge = "";
  cgroupParents: string[] = [];
  private constructor(readonly id: string, readonly subnet: string, readonly root: string) {}

  get server(): ClusterAgent {
    return this.agents[0];
  }

  get clients(): ClusterAgent[] {
    return this.agents.slice(1);
  }

  /** The server's HTTP API address. */
  get addr(): string {
    return `http://${this.server.address}:${this.server.httpPort}`;
  }

  /** Sets up the network and starts the agents; on failure, removes what it made and rethrows. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const id = crypto.randomUUID().slice(0, 4);
    const used = await run("ip", "-4", "-o", "addr");
    let k = 0;
    for (let tries = 0; tries < 50 && k === 0; tries++) {
      const c = 100 + Math.floor(Math.random() * 150);
      if (!used.includes(` 10.213.${c}.`)) k = c;
    }
    if (k === 0) throw new Error("no free 10.213.x.0/24 on this host");
    const c = new Cluster(id, `10.213.${k}`, await shortTempDir("cdrv-mn-"));
    try {
      await c.#network(opts.clients);
      await c.#startServer(opts.portBase);
      for (let i = 1; i <= opts.clients; i++) await c.#startClient(i, opts);
      await c.#waitNodes(opts.clients);
      return c;
    } catch (e) {
      const logs = await c.logs().catch(() => "");
      await c.stop();
      throw new Error(`${(e as Error).message}\n${logs}`);
    }
  }

  async #network(clients: number): Promise<void> {
    this.bridge = `cdmn${this.id}b`;
    await run("ip", "link", "add", this.bridge, "type", "bridge");
    await run("ip", "addr", "add", `${this.subnet}.1/24`, "dev", this.bridge);
    await run("ip", "link", "set", this.bridge, "up");
    for (let i = 1; i <= clients; i++) {
      const ns = `cdrv-mn-${this.id}-${i}`;
      await run("ip", "netns", "add", ns);
      this.netns.push(ns);
      const h = `cdmn${this.id}h${i}`;
      const inner = `cdmn${this.id}c${i}`;
      await run("ip", "link", "add", h, "type", "veth", "peer", "name", inner);
      await run("ip", "link", "set", h, "master", this.bridge);
      await run("ip", "link", "set", h, "up");
      await run("ip", "link", "set", inner, "netns", ns);
      const x = (...a: string[]) => run("ip", "netns", "exec", ns, ...a);
      await x("ip", "addr", "add", `${this.subnet}.${1 + i}/24`, "dev", inner);
      await x("ip", "link", "set", inner, "up");
      await x("ip", "link", "set", "lo", "up");
      await x("ip", "route", "add", "default", "via", `${this.subnet}.1`);
    }
  }

  async #startServer(port: number): Promise<void> {
    const dir = `${this.root}/server`;
    await Deno.mkdir(dir, { recursive: true });
    const address = `${this.subnet}.1`;
    await Deno.writeTextFile(
      `${dir}/server.hcl`,
      `name = "mn-server-${this.id}"
data_dir = "${dir}/data"
log_level = "DEBUG"
disable_update_check = true
bind_addr = "${address}"
advertise {
  http = "${address}"
  rpc  = "${address}"
  serf = "${address}"
}
ports {
  http = ${port}
  rpc  = ${port + 1}
  serf = ${port + 2}
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled = false
}
`,
    );
    const logPath = `${dir}/nomad.log`;
    console.log(`nomad: ${NOMAD_BIN} (${await nomadVersion()})`);
    const child = spawn(logPath, [NOMAD_BIN, "agent", "-config", `${dir}/server.hcl`], {});
    this.agents.push({ name: `mn-server-${this.id}`, address, httpPort: port, child, logPath, dir });
    await waitFor(
      "the Nomad server to elect itself",
      async () => {
        const r = await fetch(`${this.addr}/v1/status/leader`).catch(() => undefined);
        const t = r ? await r.text() : "";
        return r?.ok && t.includes(address) ? true : undefined;
      },
      60_000,
      250,
    );
  }

  async #startClient(i: number, opts: ClusterOptions): Promise<void> {
    const dir = `${this.root}/client${i}`;
    const plugins = `${dir}/plugins`;
    await Deno.mkdir(plugins, { recursive: true });
    await Deno.symlink(`${ROOT}/bin/containerd-driver`, `${plugins}/containerd-driver`);
    const ns = this.netns[i - 1];
    const address = `${this.subnet}.${1 + i}`;
    const port = opts.portBase + 10 * i;
    const namespace = `cdrv-mn-${this.id}-${i}`;
    const cgroupParent = `cdrv-mn-${this.id}-${i}`;
    this.cgroupParents.push(cgroupParent);
    await Deno.writeTextFile(
      `${dir}/client.hcl`,
      `name = "mn-client-${this.id}-${i}"
data_dir = "${dir}/data"
plugin_dir = "${plugins}"
log_level = "DEBUG"
disable_update_check = true
bind_addr = "${address}"
advertise {
  http = "${address}"
  rpc  = "${address}"
  serf = "${address}"
}
ports {
  http = ${port}
  rpc  = ${port + 1}
  serf = ${port + 2}
}
client {
  enabled           = true
  servers           = ["${this.subnet}.1:${this.server.httpPort + 1}"]
  network_interface = "cdmn${this.id}c${i}"
  cgroup_parent     = "${cgroupParent}"
  options {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}
plugin "containerd-driver" {
  config {
    containerd_address = "${opts.containerdSock}"
    namespace          = "${namespace}"
    ${opts.extraPluginConfig ?? ""}
  }
}
`,
    );
    const logPath = `${dir}/nomad.log`;
    const child = spawn(
      logPath,
      ["ip", "netns", "exec", ns, NOMAD_BIN, "agent", "-config", `${dir}/client.hcl`],
      { CONTAINERD_DRIVER_EXTRA_PATHS: `${opts.containerdDir}:${TEST_TMP}` },
    );
    this.agents.push({
      name: `mn-client-${this.id}-${i}`,
      address,
      httpPort: port,
      child,
      logPath,
      dir,
      netns: ns,
      namespace,
    });
  }

  async #waitNodes(n: number): Promise<void> {
    await waitFor(
      `${n} Nomad clients ready with containerd-driver healthy`,
      async () => {
        const nodes = await this.api<{ ID: string; Name: string; Status: string }[]>("/v1/nodes");
        const ours = nodes.filter((x) => x.Name.startsWith(`mn-client-${this.id}-`) && x.Status === "ready");
        if (ours.length < n) return undefined;
        for (const x of ours) {
          const node = await this.api<{ Drivers: Record<string, { Healthy: boolean }> }>(`/v1/node/${x.ID}`);
          if (!node.Drivers["containerd-driver"]?.Healthy) return undefined;
        }
        return true;
      },
      90_000,
      500,
    );
  }

  /** GET (or another method) on the server's HTTP API, parsed as JSON. */
  async api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(this.addr + path, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The node id of client `i` (1-based). */
  async nodeId(i: number): Promise<string> {
    const nodes = await this.api<{ ID: string; Name: string }[]>("/v1/nodes");
    const n = nodes.find((x) => x.Name === this.agents[i].name);
    if (!n) throw new Error(`no node ${this.agents[i].name}`);
    return n.ID;
  }

  /** Runs the nomad CLI against the server. */
  cli(...args: string[]): Promise<CliResult> {
    return nomadCli(this.addr, ...args);
  }

  /** The tail of every agent's log, for failure messages. */
  async logs(lines = 30): Promise<string> {
    const out: string[] = [];
    for (const a of this.agents) {
      const text = await Deno.readTextFile(a.logPath).catch(() => "");
      out.push(`--- ${a.name} (${a.logPath})\n${text.split("\n").slice(-lines).join("\n")}`);
    }
    return out.join("\n");
  }

  /** Stops every agent by PID (clients first), then removes data dirs, netns, bridge and cgroup parents. */
  async stop(): Promise<void> {
    for (const a of [...this.clients, this.server].filter(Boolean)) await stopChild(a.child);
    await removeTree(this.root);
    for (const ns of this.netns) await run("ip", "netns", "del", ns).catch(() => {});
    if (this.bridge) await run("ip", "link", "del", this.bridge).catch(() => {});
    for (const parent of this.cgroupParents) {
      const dirs =
        (await run("find", "/sys/fs/cgroup", "-maxdepth", "4", "-type", "d", "-path", `*/${parent}*`)
          .catch(() => "")).split("\n").filter(Boolean).sort().reverse();
      for (const d of dirs) await Deno.remove(d).catch(() => {});
    }
  }
}
