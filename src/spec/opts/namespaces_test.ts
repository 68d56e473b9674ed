import { assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { withNamespaces } from "./namespaces.ts";

const types = (i: ReturnType<typeof exampleInput>) => {
  const spec = baseSpec();
  withNamespaces(spec, i);
  return spec.linux.namespaces.map((n) => n.path ? `${n.type}:${n.path}` : n.type);
};

Deno.test("withNamespaces: group netns joined, host modes share, none makes a new one, cgroup ns on v2", () => {
  assertEquals(types(exampleInput()), [
    "mount",
    "uts",
    "pid",
    "ipc",
    "network:/var/run/netns/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
  ]);
  const hostNet = exampleInput({ host_network: true });
  hostNet.nomad.network = { mode: "none", path: "" };
  assertEquals(types(hostNet), ["mount", "uts", "pid", "ipc"]);
  const none = exampleInput();
  none.nomad.network = { mode: "none", path: "" };
  assertEquals(types(none), ["mount", "uts", "pid", "ipc", "network"]);
  const nomadHost = exampleInput({ pid_mode: "host", ipc_mode: "host" });
  nomadHost.nomad.network = { mode: "host", path: "" };
  nomadHost.host.cgroupVersion = 2;
  assertEquals(types(nomadHost), ["mount", "uts", "cgroup"]);
});

Deno.test("withNamespaces: pid_mode host refused by policy; host_network with a group netns refused", () => {
  const denied = exampleInput({ pid_mode: "host" }, {
    plugin: { allowPrivileged: false, volumesEnabled: true },
  });
  assertEquals((assertThrows(() => types(denied), ConfigError) as ConfigError).option, "pid_mode");
  assertEquals(
    (assertThrows(() => types(exampleInput({ host_network: true })), ConfigError) as ConfigError).option,
    "host_network",
  );
});

Deno.test("withNamespaces: cgroupns private or host on either cgroup version", () => {
  const v1 = exampleInput({ cgroupns: "private" });
  v1.host.cgroupVersion = 1;
  assertEquals(types(v1).includes("cgroup"), true);
  const v1Default = exampleInput();
  v1Default.host.cgroupVersion = 1;
  assertEquals(types(v1Default).includes("cgroup"), false);
  const v2Host = exampleInput({ cgroupns: "host" });
  v2Host.host.cgroupVersion = 2;
  assertEquals(types(v2Host).includes("cgroup"), false);
});
