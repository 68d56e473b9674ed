// The plugin's permissions have one definition (src/driver/sandbox.ts). The built launcher, the flags a
// running plugin got, and the README's table are all checked against it here: any of them drifting fails.
import { assert, assertEquals } from "../harness/assert.ts";
import { cmdline, PLUGIN_BIN, ROOT, startPlugin } from "../harness/plugin.ts";
import { permissionFlags, permissionTable, RUNTIME_ENV, v8FlagsArg } from "../../src/driver/sandbox.ts";
import { fillLauncher, markedSandboxTable } from "../../scripts/sandbox.ts";

/** deno fmt aligns Markdown tables: compare cell by cell. */
function cells(t: string): string[] {
  return t.trim().split("\n").map((l) => l.split("|").map((c) => c.trim().replace(/^-+$/, "-")).join("|"));
}

Deno.test("README's permission table is the sandbox definition's", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const t = markedSandboxTable(readme);
  assert(t !== undefined, "README.md has no <!-- sandbox-table --> … <!-- /sandbox-table --> markers");
  assertEquals(
    cells(t),
    cells(permissionTable()),
    "README.md is stale: run deno run --allow-read=README.md --allow-write=README.md " +
      "scripts/sandbox.ts --write README.md && deno fmt README.md",
  );
});

Deno.test("the built launcher is the template filled from the sandbox definition", async () => {
  const built = await Deno.readTextFile(PLUGIN_BIN);
  const template = await Deno.readTextFile(`${ROOT}/scripts/launcher.sh`);
  assertEquals(built, fillLauncher(template));
});

Deno.test("a running plugin's deno command line carries exactly the definition's flags (permissions, V8)", async () => {
  const extra = ["/srv/cdrv-extra-a", "/srv/cdrv-extra-b"];
  const p = await startPlugin({
    env: { CONTAINERD_DRIVER_EXTRA_PATHS: extra.join(":"), CONTAINERD_DRIVER_CREDENTIAL_HELPERS: "pass" },
  });
  try {
    const argv = await cmdline(p.pid);
    const flags = argv.filter((a) => a.startsWith("--allow-"));
    const socketDir = p.socketPath.slice(0, p.socketPath.lastIndexOf("/"));
    assertEquals(flags, permissionFlags({ socketDir, extraPaths: extra, credentialHelpers: ["pass"] }));
    assertEquals(argv.filter((a) => a.startsWith("--v8-flags")), [v8FlagsArg()]);
    const environ = new TextDecoder().decode(
      (await new Deno.Command("cat", { args: [`/proc/${p.pid}/environ`], stdout: "piped" }).output()).stdout,
    ).split("\0");
    for (const e of RUNTIME_ENV) {
      assert(environ.includes(`${e.name}=${e.value}`), `plugin runs without ${e.name}`);
    }
  } finally {
    await p.close();
  }
});

Deno.test("the deno compile flags build.sh uses are the definition's", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read=scripts",
      `${ROOT}/scripts/sandbox.ts`,
      "compile-flags",
      "/run/containerd-driver",
      "pass",
    ],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const flags = new TextDecoder().decode(out.stdout).trim().split("\n");
  assertEquals(flags, [
    ...permissionFlags({ socketDir: "/run/containerd-driver", credentialHelpers: ["pass"] }),
    v8FlagsArg(),
  ]);
  const build = await Deno.readTextFile(`${ROOT}/scripts/build.sh`);
  assert(
    /sandbox compile-flags /.test(build) && /"\$\{COMPILE_FLAGS\[@\]\}" mod\.ts/.test(build),
    "build.sh does not compile with them",
  );
});
