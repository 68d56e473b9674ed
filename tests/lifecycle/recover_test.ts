// The plugin is SIGKILLed mid-stream and restarted: RecoverTask reattaches from the handle Nomad kept,
// the task's log lines kept flowing (Nomad's FIFOs are the task's stdout, not a pipe through us), and
// the real exit status is reported even for a task that exited while the plugin was down.
import { assert, assertEquals } from "../harness/assert.ts";
import { BUSYBOX, driverOn, purgeNamespace, startDriver } from "../harness/driver.ts";
import { call, startPlugin } from "../harness/plugin.ts";
import { CTD_DIR, CTD_SOCK } from "../harness/driver.ts";
import { makeTask } from "../harness/task.ts";
import { TEST_TMP, waitFor } from "../harness/services.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";

async function restartPlugin(namespace: string) {
  const p = await startPlugin({ env: { CONTAINERD_DRIVER_EXTRA_PATHS: `${CTD_DIR}:${TEST_TMP}` } });
  const cfg = { containerd_address: CTD_SOCK, namespace, snapshotter: "overlayfs" };
  await call(p.base, "setConfig", {
    msgpackConfig: encodeCty(cfg, impliedType(pluginSpec)),
    pluginApiVersion: "0.1.0",
  });
  return driverOn(p, namespace);
}

Deno.test("plugin SIGKILLed mid-stream: recovered, no log line lost, real exit codes", async () => {
  const d1 = await startDriver();
  const ns = d1.namespace;
  const writer = await makeTask({
    config: {
      image: BUSYBOX,
      command: "/bin/sh",
      args: ["-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); sleep 0.01; done; exit 5"],
    },
  });
  const quick = await makeTask({
    config: { image: BUSYBOX, command: "/bin/sh", args: ["-c", "sleep 0.5; exit 7"] },
  });
  let d2: Awaited<ReturnType<typeof restartPlugin>> | undefined;
  try {
    const h1 = (await d1.start(writer.config)).handle!;
    const h2 = (await d1.start(quick.config)).handle!;
    await waitFor("some lines", () => writer.stdout.lines().length > 20, 10_000);
    d1.p.child.kill("SIGKILL");
    await d1.p.status;
    const linesWhileDown = writer.stdout.lines().length;
    await new Promise((r) => setTimeout(r, 1000)); // the plugin stays down a while; `quick` exits meanwhile
    const grown = writer.stdout.lines().length;
    assert(grown > linesWhileDown, `logs stopped while the plugin was down (${linesWhileDown} → ${grown})`);

    d2 = await restartPlugin(ns);
    await d2.recover(h1);
    await d2.recover(h2);
    await d2.recover(h1); // twice is fine
    assertEquals((await d2.wait(quick.config.id)).exitCode, 7);
    assertEquals((await d2.wait(writer.config.id)).exitCode, 5);
    await waitFor("all lines", () => writer.stdout.lines().length >= 300, 5000);
    const lines = writer.stdout.lines();
    assertEquals(lines, Array.from({ length: 300 }, (_, i) => `line-${i}`));
    await d2.destroy(writer.config.id);
    await d2.destroy(quick.config.id);
  } finally {
    await d1.close();
    await d2?.close();
    await writer.cleanup();
    await quick.cleanup();
    await purgeNamespace(ns);
  }
});
