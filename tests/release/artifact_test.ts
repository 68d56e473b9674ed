// What scripts/release.sh wrote to dist/: checksums that verify, an archive that holds the launcher, the
// bundle, the npm Deno runtime (its sha256 recorded), the licences of everything bundled, and no path of
// the build machine; a .deb with the same tree under /usr/lib/containerd-driver that installs into a
// scratch root and removes cleanly; the arm64 archive with an arm64 runtime.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { PLUGIN_BIN, ROOT } from "../harness/plugin.ts";
import { shortTempDir } from "../harness/services.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";
import { BUILD_PATHS, DEB, DIST, sh, TAR_NAME, unpackTarball } from "./operator.ts";

/** Every entry under `dir` (relative path → "dir", "-> target" or the file's sha256). */
async function treeOf(dir: string): Promise<Record<string, string>> {
  const out = await sh(
    "sh",
    "-c",
    `cd "$1" && find . -mindepth 1 | sort | while read -r f; do
      if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -d "$f" ]; then echo "$f dir";
      else echo "$f $(stat -c %a "$f") $(sha256sum <"$f" | cut -c1-64)"; fi; done`,
    "_",
    dir,
  );
  return Object.fromEntries(
    out.trim().split("\n").map((l) => [l.split(" ")[0], l.slice(l.indexOf(" ") + 1)]),
  );
}

Deno.test("release: SHA256SUMS verifies every artifact", async () => {
  const sums = await Deno.readTextFile(`${DIST}/SHA256SUMS`);
  const names = sums.trim().split("\n").map((l) => l.split(/\s+/)[1]);
  assert(names.includes(`${TAR_NAME}.tar.gz`) && names.includes(DEB.slice(DIST.length + 1)), sums);
  const out = await new Deno.Command("sha256sum", { args: ["-c", "SHA256SUMS"], cwd: DIST, stdout: "piped" })
    .output();
  assert(out.success, new TextDecoder().decode(out.stdout));
});

Deno.test("release: the archive holds launcher, bundle, npm Deno with its sha256, licences, no build path", async () => {
  const top = await unpackTarball("cdrv-art-");
  try {
    const tree = await treeOf(top);
    for (
      const f of [
        "containerd-driver",
        "containerd-driver.js",
        "containerd-driver.shared.js",
        "containerd-driver.driver.js",
        "runtime/deno",
        "runtime/SOURCE",
        "README.md",
        "VERSION",
      ]
    ) {
      assert(`./${f}` in tree, `${f} missing: ${Object.keys(tree).join(" ")}`);
    }
    assertEquals(tree["./plugin/containerd-driver"], "-> ../containerd-driver");
    assertMatch(tree["./containerd-driver"], /^755 /);
    assertMatch(tree["./runtime/deno"], /^755 /);
    // The launcher is the one the tests run; the runtime is npm's at the pinned version, as recorded.
    assertEquals(await Deno.readTextFile(`${top}/containerd-driver`), await Deno.readTextFile(PLUGIN_BIN));
    const source = await Deno.readTextFile(`${top}/runtime/SOURCE`);
    const denoVersion = (await sh("bash", "-c", `source "${ROOT}/scripts/lib/common.sh"; echo $DENO_VERSION`))
      .trim();
    assertMatch(source, new RegExp(`^npm package: @deno/linux-x64-glibc@${denoVersion}$`, "m"));
    assertMatch(source, /^npm integrity: sha512-[A-Za-z0-9+/=]{80,}$/m);
    assertEquals(source.match(/^sha256 of deno: (\w+)$/m)?.[1], tree["./runtime/deno"].split(" ")[1]);
    const version = await sh(`${top}/plugin/containerd-driver`, "--version");
    assertMatch(
      version,
      new RegExp(`^containerd-driver ${PLUGIN_VERSION} \\(commit \\S+\\) deno ${denoVersion}\\n$`),
    );
    // Licences: the project's, Deno's and those of the npm packages the bundle inlines.
    for (
      const l of [
        "containerd-driver.LICENSE",
        "deno.LICENSE",
        "@grpc__grpc-js@",
        "@msgpack__msgpack@",
        "smol-toml@",
        "protobufjs@",
        "@bufbuild__protobuf@",
      ]
    ) {
      assert(Object.keys(tree).some((k) => k.startsWith(`./LICENSES/${l}`)), `no licence for ${l}`);
    }
    // No path of the build machine, in any file (the bundle and the runtime included).
    for (const p of BUILD_PATHS) {
      const hit = await new Deno.Command("grep", { args: ["-rlF", p, top], stdout: "piped" }).output();
      assertEquals(new TextDecoder().decode(hit.stdout), "", `${p} appears in the archive`);
    }
    const readme = await Deno.readTextFile(`${top}/README.md`);
    assertMatch(readme, /plugin "containerd-driver" \{/);
    assertMatch(readme, /plugin_dir = "\/opt\/containerd-driver\/plugin"/);
  } finally {
    await Deno.remove(top.slice(0, top.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("release: the .deb holds the archive's tree under /usr/lib/containerd-driver, installs and removes cleanly", async () => {
  const top = await unpackTarball("cdrv-art-");
  const root = await shortTempDir("cdrv-debroot-");
  try {
    const x = await shortTempDir("cdrv-debx-");
    await sh("dpkg-deb", "-x", DEB, x);
    assertEquals(await treeOf(`${x}/usr/lib/containerd-driver`), await treeOf(top));
    await Deno.remove(x, { recursive: true });
    // dpkg into a scratch root with its own database: the real system's stays untouched.
    for (const d of ["info", "updates", "triggers"]) {
      await Deno.mkdir(`${root}/var/lib/dpkg/${d}`, { recursive: true });
    }
    await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, "");
    await sh("dpkg", `--root=${root}`, "--log=/dev/null", "-i", DEB);
    assertMatch(
      await sh("dpkg", `--root=${root}`, "-s", "containerd-driver"),
      /Status: install ok installed/,
    );
    const v = await sh(`${root}/usr/lib/containerd-driver/plugin/containerd-driver`, "--version");
    assertMatch(v, new RegExp(`^containerd-driver ${PLUGIN_VERSION} `));
    await sh("dpkg", `--root=${root}`, "--log=/dev/null", "-r", "containerd-driver");
    const left = (await sh("find", root, "-mindepth", "1", "-not", "-path", `${root}/var*`)).trim();
    assertEquals(left, "", "dpkg -r left files");
    const real = await new Deno.Command("dpkg", {
      args: ["-s", "containerd-driver"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    assert(!real.success, "the package is in the real system's dpkg database");
  } finally {
    await Deno.remove(top.slice(0, top.lastIndexOf("/")), { recursive: true });
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("release: the arm64 archive carries npm's arm64 runtime (or the README says it is not served)", async () => {
  const tar = `${DIST}/containerd-driver_${PLUGIN_VERSION}_linux_arm64.tar.gz`;
  const exists = await Deno.stat(tar).then(() => true, () => false);
  if (!exists) {
    assertMatch(await Deno.readTextFile(`${ROOT}/README.md`), /no arm64 archive/);
    return;
  }
  const dir = await shortTempDir("cdrv-arm-");
  try {
    const name = `containerd-driver_${PLUGIN_VERSION}_linux_arm64`;
    await sh("tar", "-xzf", tar, "-C", dir, `${name}/runtime/deno`, `${name}/runtime/SOURCE`);
    assertMatch(await sh("file", "-b", `${dir}/${name}/runtime/deno`), /ELF 64-bit .* ARM aarch64/);
    assertMatch(await Deno.readTextFile(`${dir}/${name}/runtime/SOURCE`), /@deno\/linux-arm64-glibc@/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
