/**
 * The plugin's way of loading the modules: `deno bundle --platform deno` (what scripts/build.sh does)
 * keeps the embedded bytes, and the bundle runs with no permission at all — loading the WASM widens
 * nothing.
 */
import { assertEquals } from "../harness/assert.ts";

Deno.test("bundle: the wrappers run from a deno bundle with no permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdrv-wasm-bundle-" });
  try {
    const src = new URL("../../src/wasm/", import.meta.url).href;
    const spec = new URL("../../src/spec/", import.meta.url).href;
    const image = new URL("../../src/image/", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/entry.ts`,
      `import { parseReference } from "${image}reference.ts";
import { newStatsState, statsFromMetrics } from "${src}stats.ts";
import { DEFAULT_PROFILE, seccompVerdict, toOciSeccomp } from "${spec}seccomp.ts";
const state = newStatsState();
statsFromMetrics(2, new Uint8Array(), 1, state, 2000);
const s = toOciSeccomp(DEFAULT_PROFILE, { arch: "amd64", kernel: "6.1", capabilities: [] });
console.log(JSON.stringify([
  parseReference("redis:7"),
  statsFromMetrics(2, new Uint8Array([0x12, 0x04, 0x08, 0xa0, 0xc2, 0x1e]), 1e9 + 1, state, 2000).result.cpuPercent,
  seccompVerdict(s, "kexec_load").action,
]));
`,
    );
    const deno = Deno.execPath();
    const bundle = await new Deno.Command(deno, {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", `${dir}/out.js`, `${dir}/entry.ts`],
      stderr: "piped",
    }).output();
    assertEquals(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const run = await new Deno.Command(deno, {
      args: ["run", "--no-prompt", "--no-config", `${dir}/out.js`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(run.stdout)), [
      { domain: "docker.io", path: "library/redis", tag: "7" },
      50,
      "SCMP_ACT_ERRNO",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
