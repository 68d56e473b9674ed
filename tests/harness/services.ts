/**
 * Starts and stops the real services tests use, through the same bash libraries the scripts use
 * (scripts/lib/*.sh), so tests and scripts share one way of running containerd and registries.
 *
 * @module
 */
import { ROOT } from "./plugin.ts";

/** Runs a function of scripts/lib/<lib>.sh with arguments; throws with its stderr on failure. */
export async function libCall(lib: string, fn: string, ...args: string[]): Promise<string> {
  const script = `source "${ROOT}/scripts/lib/common.sh"; source "${ROOT}/scripts/lib/${lib}.sh"; ${fn} "$@"`;
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "_", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${fn} ${args.join(" ")} failed (${out.code}):\n${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** A private containerd under one directory. */
export class PrivateContainerd {
  constructor(readonly dir: string) {}
  /** containerd's gRPC socket. */
  get socket(): string {
    return `${this.dir}/containerd.sock`;
  }
  /** Starts it and waits until it answers. */
  start(): Promise<string> {
    return libCall("containerd", "cdrv_containerd_start", this.dir);
  }
  /** Stops the daemon only (shims and their tasks keep running). */
  async stopDaemon(): Promise<void> {
    const pid = Number((await Deno.readTextFile(`${this.dir}/containerd.pid`)).trim());
    Deno.kill(pid, "SIGTERM");
    for (let i = 0; i < 100; i++) {
      try {
        Deno.kill(pid, "SIGCONT"); // still alive?
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`containerd ${pid} did not stop`);
  }
  /** Stops everything it started (daemon, shims, mounts) and removes the directory. */
  purge(): Promise<string> {
    return libCall("containerd", "cdrv_containerd_stop", this.dir, "--purge");
  }
  /** Runs `ctr` against it. */
  async ctr(...args: string[]): Promise<string> {
    const out = await new Deno.Command("ctr", {
      args: ["--address", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    if (!out.success) throw new Error(`ctr ${args.join(" ")}: ${dec.decode(out.stderr)}`);
    return dec.decode(out.stdout);
  }
}

/**
 * Where tests make their temp dirs: the run's own directory when run by scripts/test.sh (removed at
 * the end of the run whatever happened), else /tmp. Short, as unix socket paths are limited to 107 bytes.
 */
export const TEST_TMP = Deno.env.get("CDRV_TEST_DIR") ?? "/tmp";

/** A temp dir with a short path (unix socket paths are limited to 107 bytes). */
export function shortTempDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ dir: TEST_TMP, prefix });
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the value. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20000,
  everyMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastErr ? `: ${lastErr}` : ""}`);
}

/** Stops a child process we started: `signal` first, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopChild(
  child: Deno.ChildProcess,
  signal: Deno.Signal = "SIGINT",
  graceMs = 20_000,
): Promise<void> {
  const kill = (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch { /* already gone */ }
  };
  kill(signal);
  const t = setTimeout(() => kill("SIGKILL"), graceMs);
  await child.status;
  clearTimeout(t);
}

/**
 * Kills (by PID) every process whose environment carries `marker` (e.g. `CDRV_TEST_AGENT=<dir>`, which a
 * test agent passes down to everything it starts): after the agent stopped, what is left of it. Nomad
 * leaves its plugin running when it exits on a startup error, and a client that stops (or is killed)
 * leaves its tasks' logmon processes; tests must not leave them behind. Deno cannot read
 * /proc/<pid>/environ, so scripts/lib/common.sh's cdrv_marked_pids (which test.sh uses too) finds them.
 */
export async function killMarked(marker: string): Promise<void> {
  const pids = (await libCall("common", "cdrv_marked_pids", marker)).split("\n").filter(Boolean);
  for (const pid of pids) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch { /* gone meanwhile */ }
  }
}
