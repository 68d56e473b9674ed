/**
 * The benchmark runner (`deno task bench`): builds the plugin, starts containerd and a plain local
 * registry the way scripts/test.sh does (through scripts/lib), or uses the test run's services when the
 * CDRV_TEST_* environment is set, runs every benchmark in bench/suite.ts and writes bench/results.md,
 * bench/results.json and bench/results.svg. Removes everything it started. About 6–8 minutes on 2 cores.
 *
 *   deno task bench                  (own services on 127.0.0.1, ports CDRV_BENCH_PORT_BASE, default 16200)
 *   deno task bench --repeat 3       every figure is the median of 3 runs; their values and spread in details
 *   deno task bench --only handshake,idle   only these steps (bench/suite.ts STEPS; results files not written
 *                                    unless --write)
 *   deno task bench --quick          small counts: a smoke run, figures not comparable
 *   deno task bench --scaling 10,50  the scaling curve's points (default 10,50,100,200,500)
 *   CDRV_BENCH_SKIP_BUILD=1 deno task bench
 *
 * Runs with named permissions (read, write, run, net, env, sys; /proc is read through cat(1)). Run it
 * alone on the machine for figures to quote; it never fails on a missed target, it reports it.
 *
 * @module
 */
import { libCall } from "../tests/harness/services.ts";
import { json, markdown, svg } from "./report.ts";
import { procFile } from "./lib.ts";
import { aggregate, parseArgs } from "./repeat.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const OUT = `${ROOT}/bench`;
const env = (k: string) => Deno.env.get(k);
const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

const args = parseArgs(Deno.args, Deno.env.get("CDRV_BENCH_ONLY"), Deno.env.get("CDRV_BENCH_QUICK") === "1");
const t0 = performance.now();
let own: { dir: string } | undefined;
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned || !own) return;
  cleaned = true;
  log("stopping the services it started");
  await libCall("registry", "cdrv_registry_stop", `${own.dir}/reg`, "plain").catch(() => {});
  await libCall("containerd", "cdrv_containerd_stop", `${own.dir}/ctd`, "--purge").catch(() => {});
  await Deno.remove(own.dir, { recursive: true }).catch(() => {});
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, async () => {
    await cleanup();
    Deno.exit(130);
  });
}

try {
  if (env("CDRV_BENCH_SKIP_BUILD") !== "1") {
    log("building bin/containerd-driver");
    const b = await new Deno.Command(`${ROOT}/scripts/build.sh`, { args: ["--no-codegen"], stdout: "null" })
      .output();
    if (!b.success) throw new Error("scripts/build.sh failed");
  }
  let services: string;
  if (
    env("CDRV_TEST_CONTAINERD_SOCK") && env("CDRV_TEST_CONTAINERD_DIR") && env("CDRV_TEST_REGISTRY_PLAIN")
  ) {
    services = "the test run's containerd and registry (CDRV_TEST_*)";
  } else {
    const base = Number(env("CDRV_BENCH_PORT_BASE") ?? 16200);
    const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "cdrv-bench-" });
    own = { dir };
    const cache = env("CDRV_CACHE") ?? `${env("XDG_CACHE_HOME") ?? `${env("HOME")}/.cache`}/cdrv`;
    log(`starting containerd and a registry on 127.0.0.1:${base} under ${dir}`);
    await libCall("images", "cdrv_build_images", `${cache}/images`);
    await libCall("containerd", "cdrv_containerd_start", `${dir}/ctd`);
    await libCall("registry", "cdrv_registry_start", `${dir}/reg`, "plain", String(base), "plain");
    await libCall("images", "cdrv_push_images", `${cache}/images`, `127.0.0.1:${base}`, "--plain");
    Deno.env.set("CDRV_TEST_DIR", dir);
    Deno.env.set("CDRV_TEST_CONTAINERD_DIR", `${dir}/ctd`);
    Deno.env.set("CDRV_TEST_CONTAINERD_SOCK", `${dir}/ctd/containerd.sock`);
    Deno.env.set("CDRV_TEST_REGISTRY_PLAIN", `127.0.0.1:${base}`);
    Deno.env.set("CDRV_TEST_PORT_BASE", String(base));
    services = `its own containerd and registry (127.0.0.1:${base})`;
  }
  // The harness reads the environment when loaded: load the suite only now.
  const { runAll } = await import("./suite.ts");
  const runs = [];
  for (let i = 0; i < args.repeat; i++) {
    if (args.repeat > 1) log(`repeat ${i + 1} of ${args.repeat}`);
    runs.push(await runAll({ only: args.only, quick: args.quick, scalingPoints: args.scaling }));
  }
  const r = aggregate(runs);
  const load = procFile("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const cpu = procFile("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "?";
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine:
      `${navigator.hardwareConcurrency} cores (${cpu}), ${Deno.osRelease()}, deno ${Deno.version.deno}`,
    services,
    repeats: String(args.repeat),
    load_at_end: `${load} (1/5/15-min load average on ${navigator.hardwareConcurrency} cores)`,
    ...(args.only ? { only: args.only.join(",") } : {}),
    total_s: ((performance.now() - t0) / 1000).toFixed(0),
  };
  if (args.only && !args.write) {
    console.log(JSON.stringify(JSON.parse(json(r, meta)), null, 2));
    log(`--only: results files left as they were (--write writes them) in ${meta.total_s} s`);
  } else {
    await Deno.writeTextFile(`${OUT}/results.json`, json(r, meta));
    await Deno.writeTextFile(`${OUT}/results.md`, markdown(r, meta));
    await Deno.writeTextFile(`${OUT}/results.svg`, svg(r));
    console.log(Deno.readTextFileSync(`${OUT}/results.md`).split("\n## Details")[0]);
    log(`wrote bench/results.{md,json,svg} in ${meta.total_s} s`);
  }
} finally {
  await cleanup();
}
