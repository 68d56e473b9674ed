// Fingerprint against a real containerd: healthy with attributes, unhealthy with a readable reason when
// containerd stops, healthy again by itself when it returns, undetected when disabled.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { call, startPlugin } from "../harness/plugin.ts";
import { PrivateContainerd, shortTempDir } from "../harness/services.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";
import { FINGERPRINT_PERIOD_MS } from "../../src/driver/fingerprint.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";
import {
  type FingerprintResponse,
  FingerprintResponse_HealthState as Health,
} from "../../src/gen/nomad/driver.ts";

const pluginType = impliedType(pluginSpec);

/** Collects fingerprints from the stream and lets a test wait for one that matches. */
function watch(stream: NodeJS.ReadableStream) {
  const seen: { at: number; fp: FingerprintResponse }[] = [];
  const waiters: {
    pred: (fp: FingerprintResponse) => boolean;
    resolve: (fp: FingerprintResponse) => void;
  }[] = [];
  stream.on("data", (fp: FingerprintResponse) => {
    seen.push({ at: Date.now(), fp });
    for (const w of [...waiters]) {
      if (w.pred(fp)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(fp);
      }
    }
  });
  stream.on("error", () => {});
  return {
    seen,
    next(
      pred: (fp: FingerprintResponse) => boolean,
      timeoutMs: number,
      what: string,
    ): Promise<FingerprintResponse> {
      const last = seen.at(-1)?.fp;
      if (last && pred(last)) return Promise.resolve(last);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no ${what} fingerprint within ${timeoutMs}ms`)),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (fp) => (clearTimeout(t), resolve(fp)) });
      });
    },
  };
}

function attr(fp: FingerprintResponse, k: string): unknown {
  return fp.attributes[k]?.value?.value;
}

Deno.test("fingerprint follows containerd: healthy, unhealthy when it stops, healthy when it returns", async () => {
  const dir = await shortTempDir("cdrv-fp-");
  const ctd = new PrivateContainerd(dir);
  await ctd.start();
  const p = await startPlugin({ env: { CONTAINERD_DRIVER_EXTRA_PATHS: dir } });
  try {
    const cfg = { containerd_address: ctd.socket, namespace: "cdrv-fp", snapshotter: "native" };
    await call(p.base, "setConfig", { msgpackConfig: encodeCty(cfg, pluginType), pluginApiVersion: "0.1.0" });
    const stream = p.driver.fingerprint({});
    const w = watch(stream);
    const healthy = await w.next((f) => f.health === Health.HEALTHY, 10000, "healthy");
    assertEquals(healthy.healthDescription, "Healthy");
    assertMatch(String(attr(healthy, "driver.containerd.containerd_version")), /^1\.\d+\.\d+/);
    assert(String(attr(healthy, "driver.containerd.containerd_revision")).length > 0);
    assertEquals(attr(healthy, "driver.containerd.runtime"), "io.containerd.runc.v2");
    assertEquals(attr(healthy, "driver.containerd.snapshotter"), "native");
    assertEquals(attr(healthy, "driver.containerd.namespace"), "cdrv-fp");
    assertEquals(attr(healthy, "driver.containerd.plugin_version"), PLUGIN_VERSION);
    assertMatch(
      String(attr(healthy, "driver.containerd.plugin_commit")),
      /^([0-9a-f]{12}(-dirty)?|unknown)$/,
    );

    const stoppedAt = Date.now();
    await ctd.stopDaemon();
    const sick = await w.next(
      (f) => f.health === Health.UNHEALTHY,
      2 * FINGERPRINT_PERIOD_MS + 3000,
      "unhealthy",
    );
    console.log(`unhealthy ${Date.now() - stoppedAt} ms after containerd stopped: ${sick.healthDescription}`);
    assertMatch(sick.healthDescription, new RegExp(`^containerd at ${ctd.socket} is not reachable: `));
    assertEquals(Object.keys(sick.attributes).length, 0);

    const startedAt = Date.now();
    await ctd.start();
    await w.next((f) => f.health === Health.HEALTHY, 2 * FINGERPRINT_PERIOD_MS + 3000, "healthy again");
    console.log(`healthy again ${Date.now() - startedAt} ms after containerd started`);

    // Disabling the driver through SetConfig is seen at once on the open stream.
    await call(p.base, "setConfig", {
      msgpackConfig: encodeCty({ ...cfg, enabled: false }, pluginType),
      pluginApiVersion: "0.1.0",
    });
    const off = await w.next((f) => f.health === Health.UNDETECTED, 3000, "undetected");
    assertMatch(off.healthDescription, /disabled/);
    stream.cancel();
  } finally {
    await p.close();
    await ctd.purge();
  }
});
