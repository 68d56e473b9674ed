/**
 * Plays Nomad's part of go-plugin in tests: execs the built plugin binary with the magic cookie, reads
 * the handshake line, and dials the announced unix socket with the generated clients.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from "../../src/plugin/goplugin.ts";
import { BasePluginClient } from "../../src/gen/nomad/base.ts";
import { DriverClient } from "../../src/gen/nomad/driver.ts";
import { HealthClient } from "../../src/gen/grpc/health/v1/health.ts";
import { GRPCControllerClient } from "../../src/gen/goplugin/grpc_controller.ts";
import { GRPCStdioClient } from "../../src/gen/goplugin/grpc_stdio.ts";
import { GRPCBrokerClient } from "../../src/gen/goplugin/grpc_broker.ts";

/** The repo root. */
/** How much slower than a plain host the tests run here (CDRV_TEST_SLOW_FACTOR, default 1). */
export const SLOW_FACTOR = Math.max(1, Number(Deno.env.get("CDRV_TEST_SLOW_FACTOR") ?? 1) || 1);
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
/** The built plugin binary (scripts/build.sh). */
export const PLUGIN_BIN = Deno.env.get("CDRV_PLUGIN_BIN") ?? `${ROOT}/bin/containerd-driver`;

/** A running plugin process with clients on its socket. */
export interface PluginProcess {
  child: Deno.ChildProcess;
  pid: number;
  handshake: string;
  socketPath: string;
  base: BasePluginClient;
  driver: DriverClient;
  health: HealthClient;
  controller: GRPCControllerClient;
  stdio: GRPCStdioClient;
  broker: GRPCBrokerClient;
  /** Every stderr line so far (hclog JSON). */
  stderr: string[];
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  /**
   * Closes the gRPC clients only (the plugin keeps running). Call it right after a Shutdown RPC returns: a
   * client still open when the plugin's server goes away crashed the deno test process now and then
   * (SIGSEGV in Deno 2.9.6's http2 on a unix socket, about every other run of one test).
   */
  closeClients(): void;
  /** Closes the clients and kills the process if it still runs. */
  close(): Promise<void>;
}

/** Options for {@linkcode startPlugin}. */
export interface StartOptions {
  env?: Record<string, string>;
  /** The plugin executable (default {@linkcode PLUGIN_BIN}), e.g. an installed release's launcher. */
  bin?: string;
  socketDir?: string;
  /** Milliseconds to wait for the handshake line. */
  timeoutMs?: number;
}

/**
 * Starts the plugin as Nomad would and returns connected clients.
 *
 * @example
 * ```ts ignore
 * const p = await startPlugin({ socketDir: tmp });
 * await p.close();
 * ```
 */
export async function startPlugin(opts: StartOptions = {}): Promise<PluginProcess> {
  // One socket dir for the run's plugins, as on a node (each plugin makes its private dir inside): Deno's
  // code cache beside them then outlives one plugin, as it does under Nomad. (A fresh dir per plugin made every
  // start compile the bundle cold: +40 MB of RSS and slower starts than a node sees.)
  const socketDir = opts.socketDir ?? `${Deno.env.get("CDRV_TEST_DIR") ?? "/tmp"}/cdrv-plugins`;
  if (!opts.socketDir) await Deno.mkdir(socketDir, { recursive: true, mode: 0o755 });
  const cmd = new Deno.Command(opts.bin ?? PLUGIN_BIN, {
    env: {
      [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
      PLUGIN_PROTOCOL_VERSIONS: "2",
      PLUGIN_UNIX_SOCKET_DIR: socketDir,
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  const stderr: string[] = [];
  pumpLines(child.stderr, (l) => stderr.push(l));
  const stdoutLines: string[] = [];
  let gotLine!: (l: string) => void;
  const firstLine = new Promise<string>((r) => gotLine = r);
  pumpLines(child.stdout, (l) => {
    stdoutLines.push(l);
    if (stdoutLines.length === 1) gotLine(l);
  });
  const status = child.status;
  // CDRV_TEST_SLOW_FACTOR stretches the waits where everything is slower, as in the SELinux VM under
  // software emulation (TCG), where a plugin's start took over 15 s on a loaded host.
  const timeoutMs = (opts.timeoutMs ?? 15000) * SLOW_FACTOR;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const handshake = await Promise.race([
    firstLine,
    status.then((s) => {
      throw new Error(`plugin exited (${s.code}) before the handshake; stderr:\n${stderr.join("\n")}`);
    }),
    new Promise<never>((_, rej) =>
      timer = setTimeout(
        () => rej(new Error(`no handshake within ${timeoutMs}ms; stderr:\n${stderr.join("\n")}`)),
        timeoutMs,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  const parts = handshake.split("|");
  if (parts.length < 5 || parts[2] !== "unix") throw new Error(`bad handshake line: ${handshake}`);
  const socketPath = parts[3];
  const target = `unix://${socketPath}`;
  const creds = grpc.credentials.createInsecure();
  // go-plugin's Go client sends ":authority: unused" — do the same to catch authority trouble.
  const options = { "grpc.default_authority": "unused" };
  const base = new BasePluginClient(target, creds, options);
  const driver = new DriverClient(target, creds, options);
  const health = new HealthClient(target, creds, options);
  const controller = new GRPCControllerClient(target, creds, options);
  const stdio = new GRPCStdioClient(target, creds, options);
  const broker = new GRPCBrokerClient(target, creds, options);
  const clients = [base, driver, health, controller, stdio, broker];
  return {
    child,
    pid: child.pid,
    handshake,
    socketPath,
    base,
    driver,
    health,
    controller,
    stdio,
    broker,
    stderr,
    status,
    closeClients() {
      for (const c of clients) c.close();
    },
    async close() {
      for (const c of clients) c.close();
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await status;
      // (A SIGKILLed plugin's private dir is removed by the next plugin's start, or with the run's dir.)
    },
  };
}

async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
  } catch { /* process killed */ }
  if (buf) onLine(buf);
}

/**
 * Promisifies one unary call of a generated client.
 *
 * @example
 * ```ts ignore
 * const info = await call(p.base, "pluginInfo", {});
 * ```
 */
export function call<C extends grpc.Client, Res>(
  client: C,
  method: keyof C & string,
  req: unknown,
  timeoutMs = 30000 * SLOW_FACTOR,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    // deno-lint-ignore no-explicit-any -- generated clients' methods share this callback signature
    const fn = (client as any)[method].bind(client);
    fn(
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, res: Res) => {
        if (err) reject(err);
        else resolve(res);
      },
    );
  });
}

/** Parses the hclog JSON lines the plugin wrote. */
export function logLines(p: PluginProcess): Record<string, unknown>[] {
  return p.stderr.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

/** The command line (argv) of a process, read through cat (Deno reads /proc only with all permissions). */
export async function cmdline(pid: number): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\0").filter(Boolean);
}
