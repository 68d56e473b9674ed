/**
 * The playground in a real browser: bundles the page (as `deno task playground` does), serves it with
 * web/serve.ts on 127.0.0.1, and drives Debian's chromium with playwright-core: the page loads the three
 * .wasm files and HashiCorp's HCL parser (hcl2json WASM, copied by web/vendor.ts), a pasted config and a
 * whole job file give the expected spec, HCL Nomad refuses is refused, a syscall search shows its seccomp
 * verdict, and a screenshot is saved as a test artefact ($CDRV_TEST_DIR, else the system temp dir).
 *
 * Skipped (with a message) when /usr/bin/chromium is not installed.
 */
import { assert } from "../harness/assert.ts";

const CHROMIUM = "/usr/bin/chromium";
const root = new URL("../../", import.meta.url);

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: root, stderr: "piped", stdout: "piped" }).output();
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Starts web/serve.ts on a free port; returns its URL and a stop function. */
async function serve(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read=web,wasm,dist/web",
      "--allow-env=CDRV_PLAYGROUND_PORT",
      "web/serve.ts",
    ],
    cwd: root,
    env: { CDRV_PLAYGROUND_PORT: "0" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/http:\/\/127\.0\.0\.1:\d+\//.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`web/serve.ts exited: ${text}`);
    text += value;
  }
  const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(text)![0];
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}

Deno.test({
  name: "browser: the playground loads the WASM files, builds the spec and shows seccomp verdicts",
  fn: async () => {
    // scripts/lib/apt.sh installs Debian's chromium; without it this fails here, by name.
    Deno.statSync(CHROMIUM);
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "-o",
      "dist/web/app.js",
      "web/app.ts",
    ]);
    await run(Deno.execPath(), [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write=dist/web",
      "web/vendor.ts",
    ]);
    const server = await serve();
    const artefacts = Deno.env.get("CDRV_TEST_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";
    try {
      const playwright = `${Deno.env.get("CDRV_CACHE") ?? `${Deno.env.get("HOME")}/.cache/cdrv`}` +
        "/tools/node_modules/playwright-core/index.mjs";
      Deno.statSync(playwright); // installed by scripts/lib/install.sh (cdrv_install_codegen)
      const out = await new Deno.Command("node", {
        args: ["tests/wasm/browser_driver.mjs", server.url, artefacts],
        env: { CDRV_PLAYWRIGHT_CORE: playwright },
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert(out.code === 0, `browser_driver.mjs failed:\n${text}`);
      console.log(text.trim());
    } finally {
      await server.stop();
    }
  },
});
