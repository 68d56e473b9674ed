/**
 * Drives the playground in Debian's chromium with playwright-core; run by browser_test.ts as
 * `node tests/wasm/browser_driver.mjs <url> <artefact dir>`. It runs under Node, not Deno: playwright-core
 * reads /proc, which Deno grants only with its all-permissions flag, and nothing in this project runs with that.
 * playwright-core comes from the tools cache (scripts/lib/install.sh), its path in CDRV_PLAYWRIGHT_CORE.
 * Exits non-zero with the failed check on stderr.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { chromium } = await import(process.env.CDRV_PLAYWRIGHT_CORE);
const assertEquals = (a, b, msg) => assert.deepStrictEqual(a, b, msg);

const CHROMIUM = "/usr/bin/chromium";
const [url, artefacts] = process.argv.slice(2);

const cloneIs = (action) =>
  `document.querySelector("#verdicts tr[data-syscall=clone] td:nth-child(3)")?.textContent === "${action}"`;

const profileDir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "cdrv-chromium-"));
const browser = await chromium.launchPersistentContext(profileDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const wasmRequests = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasmRequests.push(new URL(r.url()).pathname);
  });
  await page.goto(url);
  await page.waitForSelector("#wasm-status[data-loaded=true]", { timeout: 20_000 });
  // the default config is HCL: HashiCorp's parser (hcl2json WASM) is fetched for it, then the page renders
  await page.waitForSelector("#hcl-status[data-loaded=true]", { timeout: 30_000 });
  await page.waitForFunction("document.body.dataset.rendered !== undefined");
  assertEquals(wasmRequests.sort(), [
    "/hcl2json.wasm",
    "/wasm/imageref.wasm",
    "/wasm/seccomp.wasm",
    "/wasm/stats.wasm",
  ]);
  assertEquals(await page.textContent("#errors"), "");
  console.log(await page.textContent("#hcl-status"));

  // a config of our own, in HCL
  const before = await page.getAttribute("body", "data-rendered");
  await page.fill(
    "#config",
    `config {
  image      = "ghcr.io/acme/api:2.1"
  args       = ["--listen", ":8080"]
  hostname   = "api-1"
  cap_drop   = ["ALL"]
  cap_add    = ["NET_BIND_SERVICE"]
  pids_limit = 64
  mounts {
type   = "tmpfs"
target = "/cache"
  }
}`,
  );
  await page.waitForFunction(`document.body.dataset.rendered !== ${JSON.stringify(before)}`);
  assertEquals(await page.textContent("#errors"), "");
  assertEquals(await page.textContent("[data-testid=ref-normalized]"), "ghcr.io/acme/api:2.1");
  const spec = JSON.parse(await page.textContent("#spec"));
  assertEquals(spec.hostname, "api-1");
  assertEquals(spec.linux.resources.pids, { limit: 64 });
  assertEquals(spec.process.capabilities.bounding, ["CAP_NET_BIND_SERVICE"]);
  assert(spec.process.args.includes("--listen"), JSON.stringify(spec.process.args));
  assert(
    spec.mounts.some((m) => m.destination === "/cache" && m.type === "tmpfs"),
  );
  assertEquals(spec.linux.seccomp.defaultAction, "SCMP_ACT_ERRNO");
  assert((await page.textContent("#seccomp-summary")).includes("WASM conversion matches"));

  // a whole job file: the config of its containerd-driver task
  const jobBefore = await page.getAttribute("body", "data-rendered");
  await page.fill(
    "#config",
    `job "web" {
  group "g" {
    task "setup" {
      driver = "exec"
      config {
        command = "/bin/true"
      }
    }
    task "api" {
      driver = "containerd-driver"
      config {
        image    = "ghcr.io/acme/web:3"
        hostname = "web-1"
      }
    }
  }
}`,
  );
  await page.waitForFunction(`document.body.dataset.rendered !== ${JSON.stringify(jobBefore)}`);
  assertEquals(await page.textContent("#errors"), "");
  assertEquals(await page.textContent("[data-testid=ref-normalized]"), "ghcr.io/acme/web:3");
  assertEquals(JSON.parse(await page.textContent("#spec")).hostname, "web-1");

  // what Nomad refuses, the page refuses, with HCL's line and column
  const badBefore = await page.getAttribute("body", "data-rendered");
  await page.fill("#config", 'config {\n  image = "a"\n  auth { username = "u" password = "p" }\n}');
  await page.waitForFunction(`document.body.dataset.rendered !== ${JSON.stringify(badBefore)}`);
  const bad = await page.textContent("#errors");
  assert(/^config: line 3, column \d+: /.test(bad), bad);

  // the image field overrides config.image
  await page.fill("#image", "redis");
  await page.waitForFunction(
    `document.querySelector("[data-testid=ref-normalized]")?.textContent === "docker.io/library/redis:latest"`,
  );

  // seccomp verdicts: search for a syscall
  await page.fill("#search", "kexec_load");
  const row = page.locator("#verdicts tr[data-syscall=kexec_load] td");
  assertEquals(await row.allTextContents(), ["246", "kexec_load", "SCMP_ACT_ERRNO", "1", ""]);
  await page.fill("#search", "getpid");
  assertEquals(
    await page.locator("#verdicts tr[data-syscall=getpid] td").nth(2).textContent(),
    "SCMP_ACT_ALLOW",
  );
  // clone with CLONE_NEWUSER is refused without CAP_SYS_ADMIN; plain fork flags pass
  await page.fill("#search", "clone");
  await page.fill("#args", "0x10000000");
  await page.waitForFunction(cloneIs("SCMP_ACT_ERRNO"));
  await page.fill("#args", "0x01200011");
  await page.waitForFunction(cloneIs("SCMP_ACT_ALLOW"));

  await page.fill("#search", "");
  await page.fill("#args", "");
  const shot = `${artefacts}/playground.png`;
  await page.screenshot({ path: shot, fullPage: true });
  assert(statSync(shot).size > 10_000, "screenshot written");
  console.log(`screenshot: ${shot}`);
  assertEquals(consoleErrors, []);
} finally {
  await browser.close();
  rmSync(profileDir, { recursive: true, force: true });
}
