import { assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { decodePluginConfig, pluginSpec, readPluginConfig } from "./config.ts";
import { encodeCty } from "../plugin/cty.ts";
import { impliedType } from "../schema/hclspec.ts";
import { RUNC_OPTIONS_TYPE_URL, RUNTIME_OPTIONS_TYPE_URL, shimOptionsAny } from "../containerd/containers.ts";
import { Options as RuncOptions } from "../gen/containerd/runc/options/oci.ts";
import { Options as RuntimeOptions } from "../gen/containerd/runtimeoptions/v1/api.ts";

const runtimeOptions = (blocks: Record<string, string | Record<string, string>>[]) =>
  readPluginConfig({ runtime_options: blocks }).runtimeOptions;

Deno.test("runtime_options: binary_name for the runc shim, config_path for any other, by runtime name", () => {
  assertEquals(readPluginConfig(null).runtimeOptions, {});
  assertEquals(
    runtimeOptions([
      { runtime: "io.containerd.runc.v2", binary_name: "crun" },
      { runtime: "io.containerd.runsc.v1", config_path: "/etc/containerd/runsc.toml" },
    ]),
    {
      "io.containerd.runc.v2": { binaryName: "crun", annotations: {} },
      "io.containerd.runsc.v1": { configPath: "/etc/containerd/runsc.toml", annotations: {} },
    },
  );
  // As Nomad sends it: its agent config is HCL1, where `annotations = { ... }` is a list of maps.
  const bytes = encodeCty({
    runtime_options: [{
      runtime: "io.containerd.runsc.v1",
      annotations: [{ "io.kubernetes.cri.container-type": "sandbox" }],
    }],
  }, impliedType(pluginSpec));
  assertEquals(
    decodePluginConfig(bytes).runtimeOptions,
    {
      "io.containerd.runsc.v1": {
        configPath: undefined,
        annotations: { "io.kubernetes.cri.container-type": "sandbox" },
      },
    },
  );
});

Deno.test("runtime_options: each mistake names the option, the value and what is allowed", () => {
  const cases: [Record<string, string | Record<string, string>>[], string][] = [
    [
      [{ runtime: "io.containerd.runsc.v1", annotations: { "": "x" } }],
      `plugin config "runtime_options[0].annotations": has an empty key; annotation keys must not be empty`,
    ],
    [
      [{ binary_name: "crun" }],
      `plugin config "runtime_options[0].runtime": is required and must not be empty`,
    ],
    [
      [{ runtime: "runsc", config_path: "/x.toml" }],
      `plugin config "runtime_options[0].runtime": "runsc" is not a containerd runtime; use a name such as "io.containerd.runsc.v1" or a shim's absolute path`,
    ],
    [
      [{ runtime: "io.containerd.runc.v2", config_path: "/x.toml" }],
      `plugin config "runtime_options[0].config_path": is not an option of io.containerd.runc.v2; it takes binary_name (e.g. "crun")`,
    ],
    [
      [{ runtime: "io.containerd.runsc.v1", binary_name: "runsc" }],
      `plugin config "runtime_options[0].binary_name": is an option of io.containerd.runc.v2 only; "io.containerd.runsc.v1" takes config_path`,
    ],
    [
      [{ runtime: "io.containerd.runsc.v1", config_path: "runsc.toml" }],
      `plugin config "runtime_options[0].config_path": "runsc.toml" is not an absolute path such as "/etc/containerd/runsc.toml"`,
    ],
    [
      [{ runtime: "io.containerd.runc.v2", binary_name: "../crun" }],
      `plugin config "runtime_options[0].binary_name": "../crun" is not a program name such as "crun" or an absolute path`,
    ],
    [
      [{ runtime: "io.containerd.runc.v2", binary_name: "crun" }, {
        runtime: "io.containerd.runc.v2",
        binary_name: "runc",
      }],
      `plugin config "runtime_options[1].runtime": "io.containerd.runc.v2" has options already (runtime_options[1] repeats it)`,
    ],
  ];
  for (const [blocks, message] of cases) {
    assertThrows(() => runtimeOptions(blocks), Error, message);
  }
});

Deno.test("shimOptionsAny: the Any types containerd's shims unmarshal (runc: BinaryName; runsc: ConfigPath)", () => {
  assertEquals(shimOptionsAny({}), undefined);
  const runc = shimOptionsAny({ binaryName: "crun" })!;
  assertEquals(runc.typeUrl, RUNC_OPTIONS_TYPE_URL);
  assertEquals(RuncOptions.decode(runc.value).binaryName, "crun");
  // field 6, length-delimited: 0x32, length 4, "crun"
  assertEquals([...runc.value], [0x32, 4, ...new TextEncoder().encode("crun")]);
  const runsc = shimOptionsAny({ configPath: "/r.toml" })!;
  assertEquals(runsc.typeUrl, RUNTIME_OPTIONS_TYPE_URL);
  assertEquals(RuntimeOptions.decode(runsc.value), { typeUrl: "", configPath: "/r.toml" });
  assertEquals([...runsc.value], [0x12, 7, ...new TextEncoder().encode("/r.toml")]);
});
