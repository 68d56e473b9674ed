/**
 * The soak's world, all on 127.0.0.1 and under one directory: a containerd whose root is a small
 * loop-mounted ext4 filesystem (so a pull can run out of space), a plain registry, fresh images made on
 * demand, and a non-dev Nomad 1.6.3 agent (state survives its restart) running our plugin. Everything is
 * started by PID and removed again by {@linkcode SoakEnv.teardown}.
 *
 * @module
 */
import type { NomadAgent } from "../tests/harness/nomad.ts";
import { libCall, PrivateContainerd } from "../tests/harness/services.ts";

const CACHE = Deno.env.get("CDRV_CACHE") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/cdrv`;

/** Size of the loop-mounted filesystem holding containerd's root. */
export const DISK_MB = 512;

/** Runs a command; throws with its stderr on failure; returns stdout. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} (exit ${out.code}): ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** Options of {@linkcode SoakEnv.start}. */
export interface EnvOptions {
  /** First port: the registry; the agent uses base+10..base+12. */
  portBase: number;
  /** containerd namespace of the plugin. */
  namespace: string;
  log: (s: string) => void;
}

/** The running services of one soak. */
export class SoakEnv {
  agent?: NomadAgent;
  readonly ctd: PrivateContainerd;
  private fresh = 0;

  private constructor(readonly dir: string, readonly opts: EnvOptions) {
    this.ctd = new PrivateContainerd(`${dir}/ctd`);
  }

  /** The registry's host:port. */
  get registry(): string {
    return `127.0.0.1:${this.opts.portBase}`;
  }
  /** The writers' image. */
  get busybox(): string {
    return `${this.registry}/cdrv/busybox:1`;
  }
  /** The loop mount: containerd's root. */
  get diskMount(): string {
    return `${this.dir}/ctd/root`;
  }

  /**
   * In `dir` (made by the caller, who sets CDRV_TEST_DIR to it before loading the test harness, so that
   * the harness's temp dirs land there too), makes the loop filesystem, containerd, the registry (busybox pushed) and the agent.
   * On failure it removes what it made before throwing.
   */
  static async start(dir: string, opts: EnvOptions): Promise<SoakEnv> {
    const env = new SoakEnv(dir, opts);
    try {
      await env.setup();
      return env;
    } catch (e) {
      await env.teardown();
      throw e;
    }
  }

  private async setup(): Promise<void> {
    const { log, portBase, namespace } = this.opts;
    log(`dir ${this.dir}; containerd root on a ${DISK_MB} MB loop-mounted ext4`);
    await sh("truncate", "-s", `${DISK_MB}M`, `${this.dir}/disk.img`);
    await sh("mkfs.ext4", "-q", "-F", "-m", "0", `${this.dir}/disk.img`);
    await Deno.mkdir(this.diskMount, { recursive: true });
    await sh("mount", "-o", "loop", `${this.dir}/disk.img`, this.diskMount);
    await this.ctd.start();
    await libCall("images", "cdrv_build_images", `${CACHE}/images`);
    await this.startRegistry();
    await this.skopeo(`oci:${CACHE}/images/oci:busybox`, `docker://${this.busybox}`);
    await sh(
      "skopeo",
      "--insecure-policy",
      "copy",
      "-q",
      `oci:${CACHE}/images/oci:busybox`,
      `oci:${this.dir}/img:base`,
    );
    // The agent's children (the plugin) inherit these.
    Deno.env.set("CDRV_TEST_REGISTRY_PLAIN", this.registry);
    Deno.env.set("CONTAINERD_DRIVER_LOG_LEVEL", "info");
    const { startTestAgent } = await import("../tests/harness/nomad.ts");
    log(`registry ${this.registry}; starting a non-dev Nomad agent on 127.0.0.1:${portBase + 10}`);
    this.agent = await startTestAgent({
      namespace,
      dev: false,
      containerdSock: this.ctd.socket,
      containerdDir: this.ctd.dir,
      httpPort: portBase + 10,
      // Short image GC delay: after the jobs are purged every image (and its content and snapshots)
      // must go, so that anything left in the namespace is a leak.
      extraPluginConfig: `gc {\n      image_delay = "5s"\n    }`,
    });
  }

  /** Starts (again) the registry; its data survives a stop. */
  async startRegistry(): Promise<void> {
    await libCall(
      "registry",
      "cdrv_registry_start",
      `${this.dir}/reg`,
      "plain",
      String(this.opts.portBase),
      "plain",
    );
  }

  /** Stops the registry (SIGTERM by PID). */
  async stopRegistry(): Promise<void> {
    await libCall("registry", "cdrv_registry_stop", `${this.dir}/reg`, "plain");
  }

  private skopeo(src: string, dst: string): Promise<string> {
    return sh("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", src, dst);
  }

  /**
   * Pushes an image no pull has seen: busybox plus a layer of `mb` MB of random bytes (so its content
   * is new to containerd). Returns its reference.
   */
  async freshImage(mb: number): Promise<string> {
    const n = ++this.fresh;
    const work = `${this.dir}/fresh${n}`;
    await Deno.mkdir(work);
    await sh("dd", "if=/dev/urandom", `of=${work}/blob.bin`, "bs=1M", `count=${mb}`, "status=none");
    await sh("tar", "-C", work, "-cf", `${this.dir}/fresh${n}.tar`, "blob.bin");
    await sh(
      "umoci",
      "raw",
      "add-layer",
      "--no-history",
      "--image",
      `${this.dir}/img:base`,
      "--tag",
      `f${n}`,
      `${this.dir}/fresh${n}.tar`,
    );
    const ref = `${this.registry}/soak/fresh${n}:1`;
    await this.skopeo(`oci:${this.dir}/img:f${n}`, `docker://${ref}`);
    await sh("umoci", "rm", "--image", `${this.dir}/img:f${n}`);
    await sh("umoci", "gc", "--layout", `${this.dir}/img`);
    await Deno.remove(work, { recursive: true });
    await Deno.remove(`${this.dir}/fresh${n}.tar`);
    return ref;
  }

  /** Free bytes on the loop filesystem. */
  async diskFree(): Promise<number> {
    const out = await sh("stat", "-f", "-c", "%a %S", this.diskMount);
    const [blocks, size] = out.trim().split(" ").map(Number);
    return blocks * size;
  }

  /** Stops and removes everything: agent (and what it left), registry, containerd, loop mount, dir. */
  async teardown(): Promise<void> {
    const step = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        this.opts.log(`teardown: ${what}: ${e instanceof Error ? e.message : e}`);
      }
    };
    if (this.agent) await step("agent", () => this.agent!.stop());
    await step("registry", () => this.stopRegistry());
    await step("containerd", () => this.ctd.purge());
    if (await isMount(this.diskMount)) {
      await step("loop mount", () => sh("umount", this.diskMount));
    }
    // `mount -o loop` detaches the loop device on umount; make sure none is left on the image.
    await step("loop device", async () => {
      for (const dev of (await sh("losetup", "-j", `${this.dir}/disk.img`)).split("\n")) {
        const d = dev.split(":")[0];
        if (d) await sh("losetup", "-d", d);
      }
    });
    await step("marked processes", async () => {
      const { killMarked } = await import("../tests/harness/services.ts");
      await killMarked(`CDRV_TEST_DIR=${this.dir}`);
    });
    await step("cgroup dirs", () => this.removeCgroups());
    await step("dir", () => Deno.remove(this.dir, { recursive: true }));
  }

  /** Removes the (empty) cgroup dirs containerd made for the namespace, children first. */
  private async removeCgroups(): Promise<void> {
    const ns = this.opts.namespace;
    const out = await sh("find", "/sys/fs/cgroup", "-maxdepth", "5", "-type", "d", "-path", `*/${ns}*`);
    const dirs = out.split("\n").filter((d) => d.split("/").includes(ns)).sort().reverse();
    for (const d of dirs) await Deno.remove(d).catch(() => {});
  }
}

/** Whether `path` is a mount point (per /proc/self/mounts). */
export async function isMount(path: string): Promise<boolean> {
  const mounts = await sh("cat", "/proc/self/mounts");
  return mounts.split("\n").some((l) => l.split(" ")[1] === path);
}
