// A real Nomad agent loads containerd-driver from its plugin dir (through a symlink), shows it detected
// and healthy with its attributes, follows containerd going away and coming back, shows our JSON logs
// in its own log, and reports a bad plugin block with the option named.
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { NomadAgent } from "../harness/nomad.ts";
import { PrivateContainerd, shortTempDir, waitFor } from "../harness/services.ts";
import { FINGERPRINT_PERIOD_MS } from "../../src/driver/fingerprint.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";

function pluginBlock(socket: string, extra = ""): string {
  return `plugin "containerd-driver" {
  config {
    containerd_address = "${socket}"
    namespace = "cdrv-e2e-load"
    ${extra}
  }
}`;
}

Deno.test("Nomad loads the plugin: detected, healthy, attributes; unhealthy and back with containerd", async () => {
  const dir = await shortTempDir("cdrv-e2e-");
  const ctd = new PrivateContainerd(dir);
  await ctd.start();
  let agent: NomadAgent | undefined;
  try {
    agent = await NomadAgent.start({
      hcl: pluginBlock(ctd.socket),
      env: { CONTAINERD_DRIVER_EXTRA_PATHS: dir },
    });
    const a = agent;
    const driver = async () => (await a.node()).Drivers["containerd-driver"];
    const healthy = await waitFor("containerd-driver healthy in Nomad", async () => {
      const d = await driver();
      return d?.Healthy ? d : undefined;
    }, 30000);
    assertEquals(healthy.Detected, true);
    assertEquals(healthy.HealthDescription, "Healthy");
    const attrs = healthy.Attributes ?? {};
    assertMatch(attrs["driver.containerd.containerd_version"] ?? "", /^1\.\d+\.\d+/);
    assert((attrs["driver.containerd.containerd_revision"] ?? "").length > 0);
    assertEquals(attrs["driver.containerd.runtime"], "io.containerd.runc.v2");
    assertEquals(attrs["driver.containerd.snapshotter"], "overlayfs");
    assertEquals(attrs["driver.containerd.plugin_version"], PLUGIN_VERSION);
    // The node's own attributes carry them too, for constraints.
    const node = await a.node();
    assertEquals(node.Attributes["driver.containerd-driver"], "1");

    const t0 = Date.now();
    await ctd.stopDaemon();
    const sick = await waitFor(
      "containerd-driver unhealthy",
      async () => {
        const d = await driver();
        return d && !d.Healthy ? d : undefined;
      },
      2 * FINGERPRINT_PERIOD_MS + 2000,
      250,
    );
    console.log(
      `Nomad shows unhealthy ${Date.now() - t0} ms after containerd stopped: ${sick.HealthDescription}`,
    );
    assertMatch(sick.HealthDescription, /^containerd at .* is not reachable/);
    assertEquals(sick.Detected, true);

    const t1 = Date.now();
    await ctd.start();
    await waitFor(
      "containerd-driver healthy again",
      async () => (await driver())?.Healthy,
      2 * FINGERPRINT_PERIOD_MS + 2000,
      250,
    );
    console.log(`Nomad shows healthy again ${Date.now() - t1} ms after containerd started`);

    // Our hclog JSON lines are parsed by go-plugin and shown, re-levelled, in Nomad's own log.
    const log = await a.log();
    assertMatch(log, /\[INFO\]\s+agent\.plugin_loader\.containerd-driver: containerd-driver started/);
    assertMatch(log, /\[INFO\]\s+client\.driver_mgr\.containerd-driver: plugin config set:/);
    assert(!/"@level"/.test(log), "a raw JSON log line reached Nomad's log: hclog parsing failed");
  } finally {
    await agent?.stop();
    await ctd.purge();
  }
});

Deno.test("a bad plugin block makes Nomad report a clear error naming the option", async () => {
  const dir = await shortTempDir("cdrv-e2e-");
  const ctd = new PrivateContainerd(dir);
  await ctd.start();
  let agent: NomadAgent | undefined;
  try {
    agent = await NomadAgent.start({
      hcl: pluginBlock(ctd.socket, `stats_interval = "soon"`),
      env: { CONTAINERD_DRIVER_EXTRA_PATHS: dir },
      httpPort: Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 110,
      waitReady: false,
    });
    const a = agent;
    const needle = `plugin config "stats_interval": "soon" is not a duration`;
    const line = await waitFor("the error in Nomad's log", async () => {
      const log = await a.log();
      return log.split("\n").find((l) => l.includes(needle));
    }, 30000);
    console.log(line);
    // The agent does not run the driver with a config it could not apply.
    const exited = await Promise.race([
      a.child.status.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 500)),
    ]);
    if (!exited) {
      const d = (await a.node()).Drivers["containerd-driver"];
      assert(!d?.Healthy, "driver healthy despite a bad config");
    }
  } finally {
    await agent?.stop();
    await ctd.purge();
  }
});
