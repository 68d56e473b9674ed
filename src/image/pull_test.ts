import { createHash } from "node:crypto";
import { assertEquals } from "../../tests/harness/assert.ts";
import { chainIds, type Platform, platformScore, selectManifest } from "./pull.ts";

const sha = (s: string) => "sha256:" + createHash("sha256").update(s).digest("hex");

Deno.test("pull: chain ids follow the OCI definition", () => {
  const a = sha("a"), b = sha("b"), c = sha("c");
  const ab = sha(`${a} ${b}`);
  assertEquals(chainIds([a, b, c]), [a, ab, sha(`${ab} ${c}`)]);
  assertEquals(chainIds([]), []);
});

Deno.test("pull: platform matching and manifest selection", () => {
  const amd64 = { os: "linux", architecture: "amd64" };
  const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
  assertEquals(platformScore(amd64, amd64), 2);
  assertEquals(platformScore(amd64, arm64), -1);
  assertEquals(platformScore(arm64, { os: "linux", architecture: "arm64" }), 2);
  assertEquals(
    platformScore({ os: "linux", architecture: "arm", variant: "v7" }, { os: "linux", architecture: "arm" }),
    1,
  );
  assertEquals(
    platformScore({ os: "linux", architecture: "arm", variant: "v7" }, {
      os: "linux",
      architecture: "arm",
      variant: "v6",
    }),
    -1,
  );
  const m = (digest: string, platform?: Platform) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest,
    size: 1,
    platform,
  });
  const index = {
    manifests: [
      m("d-arm", arm64),
      m("d-win", { os: "windows", architecture: "amd64" }),
      m("d-amd", amd64),
      m("d-att"),
    ],
  };
  assertEquals(selectManifest(index, amd64)?.desc.digest, "d-amd");
  assertEquals(selectManifest(index, amd64)?.position, 2);
  assertEquals(selectManifest(index, arm64)?.desc.digest, "d-arm");
  assertEquals(selectManifest(index, { os: "linux", architecture: "s390x" }), undefined);
});
