// `load`: image archives imported into containerd instead of pulled, proven by running them. The
// archives are made with skopeo from the test images ($CDRV_TEST_IMAGES): an OCI layout tar
// (`oci-archive:`) and a classic `docker save` tar (`docker-archive:`), both under a name no registry
// serves (cdrv.invalid), so a pull would fail. A name the archive does not hold, and a file that is not
// an archive, are refused naming `load`.
import { assert, assertEquals } from "../harness/assert.ts";
import { host, specTest } from "../spec/suite.ts";

const IMAGES = Deno.env.get("CDRV_TEST_IMAGES") ?? `${Deno.env.get("HOME")}/.cache/cdrv/images`;

async function archive(kind: "oci-archive" | "docker-archive", path: string, name: string): Promise<void> {
  await host(
    "skopeo",
    "--insecure-policy",
    "copy",
    "-q",
    `oci:${IMAGES}/oci:busybox`,
    `${kind}:${path}:${name}`,
  );
}

specTest("load imports OCI and docker-save archives instead of pulling", async (s, t) => {
  for (const kind of ["oci-archive", "docker-archive"] as const) {
    await t.step(
      `${kind}: imported, unpacked and run; the image record carries the archive's name`,
      async () => {
        const name = `cdrv.invalid/loaded/busybox:${kind}`;
        const r = await s.sh("echo loaded-ok; cat /etc/group | head -1", {
          config: { image: name, load: `local/${kind}.tar` },
          prepare: (t) => archive(kind, `${t.taskDir}/local/${kind}.tar`, name),
        });
        assertEquals(r.exit.exitCode, 0, r.err);
        assertEquals(r.out.split("\n")[0], "loaded-ok");
        const images = (await s.d.ctr("images", "ls", "-q")).split("\n");
        assert(images.includes(name), images.join(", "));
      },
    );
  }

  await t.step(
    "an archive without the task's image, and a file that is no archive, are refused",
    async () => {
      const wrong = await s.refused({
        config: { image: "cdrv.invalid/other:1", load: "local/a.tar", command: "/bin/true" },
        prepare: (t) => archive("oci-archive", `${t.taskDir}/local/a.tar`, "cdrv.invalid/held:1"),
      });
      assert(
        wrong.includes(
          `task config "load": "local/a.tar" cannot be loaded: it holds cdrv.invalid/held:1, not cdrv.invalid/other:1`,
        ),
        wrong,
      );
      const junk = await s.refused({
        config: { image: "cdrv.invalid/x:1", load: "local/junk.tar", command: "/bin/true" },
        prepare: (t) => Deno.writeTextFile(`${t.taskDir}/local/junk.tar`, "not a tar\n".repeat(200)),
      });
      assert(junk.includes(`task config "load": "local/junk.tar" cannot be loaded:`), junk);
      assert(junk.includes("not a tar archive"), junk);
    },
  );
});
