// The built binary speaks go-plugin: cookie check, handshake line, health, info, schemas, stdio,
// broker, Shutdown, hclog JSON on stderr, and the Deno sandbox around it.
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import { call, logLines, PLUGIN_BIN, ROOT, startPlugin } from "../harness/plugin.ts";
import { TEST_TMP } from "../harness/services.ts";
import { PLUGIN_VERSION } from "../../src/version.ts";
import { PluginType } from "../../src/gen/nomad/base.ts";
import { encodeCty } from "../../src/plugin/cty.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { pluginSpec } from "../../src/driver/config.ts";
import { FingerprintResponse_HealthState } from "../../src/gen/nomad/driver.ts";
import type * as grpc from "@grpc/grpc-js";

Deno.test("without the magic cookie the binary explains itself in one line and exits 1", async () => {
  const out = await new Deno.Command(PLUGIN_BIN, {
    env: {},
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assertEquals(out.code, 1);
  assertEquals(new TextDecoder().decode(out.stdout), "");
  const err = new TextDecoder().decode(out.stderr).trim();
  assertEquals(err.split("\n").length, 1, err);
  assertMatch(err, /Nomad task driver plugin/);
});

Deno.test("--version prints version, commit and Deno version without the magic cookie, exits 0", async () => {
  const out = await new Deno.Command(PLUGIN_BIN, {
    args: ["--version"],
    env: { PATH: "/usr/bin:/bin", TMPDIR: TEST_TMP },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(
    text.trim(),
    `containerd-driver ${PLUGIN_VERSION} (commit ${await gitCommit()}) deno ${await runtimeVersion()}`,
  );
});

/** The commit scripts/build.sh stamps: HEAD's short hash, "-dirty" with local changes. */
async function gitCommit(): Promise<string> {
  const sh = `source "${ROOT}/scripts/lib/common.sh"; cdrv_commit`;
  const out = await new Deno.Command("bash", { args: ["-c", sh], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** The version of the runtime the launcher runs (runtime/deno beside it). */
async function runtimeVersion(): Promise<string> {
  const deno = `${PLUGIN_BIN.slice(0, PLUGIN_BIN.lastIndexOf("/"))}/runtime/deno`;
  const out = await new Deno.Command(deno, { args: ["--version"], stdout: "piped" }).output();
  return /^deno (\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1] ?? "?";
}

Deno.test("handshake, health, info, schemas, stdio and broker streams, then Shutdown exits cleanly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdrv-hs-" });
  const p = await startPlugin({ socketDir: dir });
  try {
    assertMatch(p.handshake, /^1\|2\|unix\|[^|]+\.sock\|grpc\|$/);
    assert(p.socketPath.startsWith(dir + "/"), `socket ${p.socketPath} not in PLUGIN_UNIX_SOCKET_DIR`);
    assert((await Deno.stat(p.socketPath)).isSocket);

    const h = await call<typeof p.health, { status: number }>(p.health, "check", { service: "plugin" });
    assertEquals(h.status, 1 /* SERVING */);

    const info = await call<typeof p.base, Record<string, unknown>>(p.base, "pluginInfo", {});
    assertEquals(info.type, PluginType.DRIVER);
    assertEquals(info.name, "containerd-driver");
    assertEquals(info.pluginApiVersions, ["0.1.0"]);
    assertEquals(info.pluginVersion, PLUGIN_VERSION);

    const schema = await call<
      typeof p.base,
      { spec: { block: { $case: string; value: { attributes: object } } } }
    >(
      p.base,
      "configSchema",
      {},
    );
    assertEquals(schema.spec.block.$case, "object");
    for (
      const k of [
        "enabled",
        "containerd_runtime",
        "stats_interval",
        "allow_privileged",
        "auth",
        "containerd_address",
        "namespace",
        "snapshotter",
        "registry_hosts_dir",
        "volumes",
        "gc",
      ]
    ) assert(k in schema.spec.block.value.attributes, `plugin schema lacks ${k}`);

    const tschema = await call<
      typeof p.driver,
      { spec: { block: { value: { attributes: Record<string, unknown> } } } }
    >(
      p.driver,
      "taskConfigSchema",
      {},
    );
    const image = tschema.spec.block.value.attributes.image as { block: { value: { required: boolean } } };
    assertEquals(image.block.value.required, true);
    assert(Object.keys(tschema.spec.block.value.attributes).length >= 35);

    const caps = await call<typeof p.driver, { capabilities: Record<string, unknown> }>(
      p.driver,
      "capabilities",
      {},
    );
    assertEquals(caps.capabilities.sendSignals, true);
    assertEquals(caps.capabilities.exec, true);
    assertEquals(caps.capabilities.fsIsolation, 2 /* IMAGE */);
    assertEquals(caps.capabilities.networkIsolationModes, [0, 1, 2, 3]);

    // stdio and broker streams stay open until Shutdown closes them.
    const stdio = p.stdio.streamStdio({});
    const stdioEnded = new Promise<string>((r) => {
      stdio.on("end", () => r("end"));
      stdio.on("error", (e: grpc.ServiceError) => r(`error ${e.code}`));
      stdio.on("status", (s: grpc.StatusObject) => r(`status ${s.code}`));
      stdio.on("close", () => r("close"));
    });
    const broker = p.broker.startStream();
    broker.write({ serviceId: 1, network: "", address: "", knock: { knock: true, ack: false, error: "" } });
    const knock = await new Promise<{ knock?: { ack: boolean; error: string } }>((r) =>
      broker.once("data", r)
    );
    assertEquals(knock.knock?.ack, false);
    assertMatch(knock.knock?.error ?? "", /brokers no services/);
    broker.on("error", () => {});

    const t0 = performance.now();
    await call(p.controller, "shutdown", {});
    const st = await p.status;
    const ms = performance.now() - t0;
    assertEquals(st.code, 0);
    assert(ms < 2000, `exit took ${ms}ms after Shutdown; go-plugin kills after about 2 s`);
    console.log(`exit after Shutdown: ${ms.toFixed(0)} ms`);
    assertMatch(await stdioEnded, /^(status 0|end)$/, "stdio stream should end cleanly on Shutdown");
    await assertRejects(() => Deno.stat(p.socketPath), Deno.errors.NotFound);

    // Every stderr line is hclog JSON that go-plugin can parse.
    assert(p.stderr.length > 0);
    for (const line of p.stderr) {
      const j = JSON.parse(line);
      assertEquals(typeof j["@level"], "string", line);
      assertEquals(typeof j["@message"], "string", line);
      assertMatch(j["@timestamp"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/, line);
      assertEquals(j["@module"].split(".")[0], "containerd-driver");
    }
    assert(logLines(p).some((l) => l["@message"] === "containerd-driver started"));
  } finally {
    await p.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SetConfig rejects a bad plugin block with the option, the value and what is allowed", async () => {
  const p = await startPlugin();
  try {
    const type = impliedType(pluginSpec);
    const bad = encodeCty({ stats_interval: "soon" }, type);
    const err = await assertRejects(() =>
      call(p.base, "setConfig", { msgpackConfig: bad, pluginApiVersion: "0.1.0" })
    );
    assertEquals((err as grpc.ServiceError).code, 3 /* INVALID_ARGUMENT */);
    assertEquals(
      (err as grpc.ServiceError).details,
      `plugin config "stats_interval": "soon" is not a duration; use a number with a unit such as "1s", "500ms" or "5m"`,
    );
  } finally {
    await p.close();
  }
});

Deno.test("the sandbox is real: a socket path outside the granted paths is refused, and no all-permissions flag", async () => {
  const p = await startPlugin();
  try {
    // The launcher execs deno (a compiled binary is deno itself), so the PID is the runtime's.
    const ps = await new Deno.Command("ps", { args: ["-o", "args=", "-p", String(p.pid)], stdout: "piped" })
      .output();
    const cmdline = new TextDecoder().decode(ps.stdout).trim().split(/\s+/);
    // (Spelled in two parts so a search of the tree for the flag finds only real uses.)
    const allFlags = [["--allow", "all"].join("-"), "-A"];
    assert(!allFlags.some((f) => cmdline.includes(f)), cmdline.join(" "));
    assert(cmdline.some((a) => a.startsWith("--allow-read=")), cmdline.join(" "));
    assert(!cmdline.includes("--allow-read") && !cmdline.includes("--allow-write"), "unscoped read/write");

    const type = impliedType(pluginSpec);
    const v = { containerd_address: "/root/elsewhere/containerd.sock" };
    const err = await assertRejects(() => call(p.base, "setConfig", { msgpackConfig: encodeCty(v, type) }));
    assertMatch(
      (err as grpc.ServiceError).details,
      /^plugin config "containerd_address": "\/root\/elsewhere\/containerd.sock" is outside the paths the plugin may read/,
    );
    // Without a config the fingerprint says so instead of pretending.
    const fp = p.driver.fingerprint({});
    const first = await new Promise<{ health: number; healthDescription: string }>((r) => fp.once("data", r));
    assertEquals(first.health, FingerprintResponse_HealthState.UNDETECTED);
    fp.cancel();
    fp.on("error", () => {});
  } finally {
    await p.close();
  }
});
