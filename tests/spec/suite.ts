/**
 * One plugin process and one containerd namespace shared by the checks of a tests/spec file, and the
 * few moves those checks make: run a shell script in the busybox test image as a Nomad task and collect
 * its output and exit code (the container is inspected, then destroyed), or expect a start to be refused.
 * Each file runs one `Deno.test` whose steps are the checks, so the plugin starts once per file.
 *
 * @module
 */
import { BUSYBOX, details, purgeNamespace, startDriver, type TestDriver } from "../harness/driver.ts";
import { makeTask, type PreparedTask, type TaskOptions } from "../harness/task.ts";
import { waitFor } from "../harness/services.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import type { ExecTaskResponse, ExitResult } from "../../src/gen/nomad/driver.ts";
import { call } from "../harness/plugin.ts";
import { ALL_CAPABILITIES } from "../../src/spec/capabilities.ts";

/** Printed after a script's own output so the log reader knows it has everything. */
const END = "__cdrv_spec_end__";

/** What a task left behind. */
export interface Ran {
  exit: ExitResult;
  /** stdout, without the end marker */
  out: string;
  err: string;
  containerId: string;
  task: PreparedTask;
}

/** A task while it runs. */
export interface Running {
  task: PreparedTask;
  containerId: string;
  /** ExecTask (Nomad's script checks' path) in the task */
  exec(...command: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** Options for one run: the task's `config {}` extras and Nomad's side of the task. */
export interface RunOptions extends Omit<TaskOptions, "config"> {
  /** `config {}` entries beside `image` (BUSYBOX unless given) */
  config?: Record<string, CtyValue>;
  /** called after the task dir exists and before StartTask (write files the task reads) */
  prepare?: (t: PreparedTask) => Promise<void> | void;
  /** called after the task exited and before it is destroyed (inspect the container) */
  inspect?: (r: Ran) => Promise<void> | void;
}

/** A plugin and namespace shared by one test file. */
export class SpecSuite {
  private constructor(readonly d: TestDriver) {}

  /** Starts the plugin with this plugin config (over the test containerd) in a fresh namespace. */
  static async open(pluginConfig: Record<string, CtyValue> = {}): Promise<SpecSuite> {
    return new SpecSuite(await startDriver(pluginConfig));
  }

  /** Runs `script` with /bin/sh in the busybox image; returns its output once it exited. */
  sh(script: string, o: RunOptions = {}): Promise<Ran> {
    return this.run({
      ...o,
      config: {
        command: "/bin/sh",
        args: ["-c", `( ${script}\n); rc=$?; echo ${END}; exit $rc`],
        ...o.config,
      },
    });
  }

  /** Starts a task as Nomad would, waits for its exit and returns its output. */
  async run(o: RunOptions): Promise<Ran> {
    const { config, prepare, inspect, ...nomad } = o;
    const t = await makeTask({ ...nomad, config: { image: BUSYBOX, ...config } });
    try {
      await prepare?.(t);
      const res = await this.d.start(t.config);
      const state = JSON.parse(new TextDecoder().decode(res.handle!.driverState));
      const exit = await this.d.wait(t.config.id, 30_000);
      // The exit can be reported before the shim has copied the last bytes into the FIFO.
      const marked = o.config?.args === undefined ? false : JSON.stringify(o.config.args).includes(END);
      if (marked) {
        await waitFor("the end of the task's output", () => t.stdout.text().includes(END), 5000, 20)
          .catch(() => {});
      } else await settle(t);
      const r: Ran = {
        exit,
        out: t.stdout.text().replace(`${END}\n`, ""),
        err: t.stderr.text(),
        containerId: state.containerId,
        task: t,
      };
      await inspect?.(r);
      await this.d.destroy(t.config.id, true);
      return r;
    } finally {
      await t.cleanup();
    }
  }

  /**
   * Starts a task and hands it to `fn` while it runs (exec into it, look at it from the host), then
   * destroys it.
   */
  async running<T>(o: RunOptions, fn: (r: Running) => Promise<T>): Promise<T> {
    const { config, prepare, inspect: _, ...nomad } = o;
    const t = await makeTask({ ...nomad, config: { image: BUSYBOX, ...config } });
    try {
      await prepare?.(t);
      const res = await this.d.start(t.config);
      const state = JSON.parse(new TextDecoder().decode(res.handle!.driverState));
      try {
        return await fn({
          task: t,
          containerId: state.containerId,
          exec: async (...command: string[]) => {
            const r = await call<typeof this.d.p.driver, ExecTaskResponse>(this.d.p.driver, "execTask", {
              taskId: t.config.id,
              command,
              timeout: { seconds: 20n, nanos: 0 },
            });
            const dec = new TextDecoder();
            return { code: r.result?.exitCode ?? -1, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
          },
        });
      } finally {
        await this.d.destroy(t.config.id, true);
      }
    } finally {
      await t.cleanup();
    }
  }

  /** Expects StartTask to fail; returns the error's message. */
  async refused(o: RunOptions): Promise<string> {
    const { config, prepare, inspect: _, ...nomad } = o;
    const t = await makeTask({ ...nomad, config: { image: BUSYBOX, ...config } });
    try {
      await prepare?.(t);
      try {
        await this.d.start(t.config);
      } catch (e) {
        return details(e);
      }
      await this.d.destroy(t.config.id, true).catch(() => {});
      throw new Error(`StartTask with ${JSON.stringify(config)} succeeded; it should have been refused`);
    } finally {
      await t.cleanup();
    }
  }

  /** What the namespace holds, by kind (`ctr ... ls -q` lines). */
  async contents(): Promise<Record<string, string[]>> {
    const ls = async (...args: string[]) => (await this.d.ctr(...args)).split("\n").filter(Boolean);
    return {
      containers: await ls("containers", "ls", "-q"),
      tasks: await ls("tasks", "ls", "-q"),
      snapshots: (await ls("snapshots", "ls")).slice(1),
      images: await ls("images", "ls", "-q"),
      leases: await ls("leases", "ls", "-q"),
      content: await ls("content", "ls", "-q"),
    };
  }

  /** Stops the plugin and removes everything in its namespace. */
  async close(): Promise<void> {
    await this.d.close();
    await purgeNamespace(this.d.namespace);
  }
}

async function settle(t: PreparedTask): Promise<void> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const n = t.stdout.text().length + t.stderr.text().length;
    if (n === last && n > 0) return;
    last = n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `fn` as the only Deno.test of a file: opens the suite, hands it over, closes it whatever happens.
 * Checks are `t.step`s, so each is reported on its own and a failing one does not stop the rest.
 */
export function specTest(
  name: string,
  fn: (s: SpecSuite, t: Deno.TestContext) => Promise<void>,
  pluginConfig: Record<string, CtyValue> = {},
): void {
  Deno.test(name, async (t) => {
    const s = await SpecSuite.open(pluginConfig);
    try {
      await fn(s, t);
    } finally {
      await s.close();
    }
  });
}

/** The CapEff/CapBnd/... line of /proc/<pid>/status as capability names, from `status` text. */
export function capsFromStatus(status: string, field = "CapEff"): string[] {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status);
  if (!m) throw new Error(`no ${field} line in:\n${status}`);
  const bits = BigInt(`0x${m[1]}`);
  return ALL_CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

/** Runs a host command; returns its stdout (throws with stderr on failure). */
export async function host(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** A host file under /proc or /dev, which Deno reads only with its all-permissions flag: through cat(1). */
export function hostFile(path: string): Promise<string> {
  return host("cat", path);
}

/** Lines of `text` that look like `key=value`, as a map. */
export function keyValues(text: string, sep = "="): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split("\n")) {
    const i = l.indexOf(sep);
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + sep.length).trim();
  }
  return out;
}
