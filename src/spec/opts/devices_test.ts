import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { DEFAULT_DEVICE_RULES, wantedDevicePaths, withDevices } from "./devices.ts";
import type { HostDevice } from "../input.ts";

const fuse: HostDevice = { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666 };
const sda: HostDevice = { path: "/dev/sda", type: "b", major: 8, minor: 0, fileMode: 0o660, gid: 6 };

Deno.test("withDevices: default rules, config devices with container path and perms", () => {
  const spec = baseSpec();
  withDevices(spec, exampleInput());
  assertEquals(spec.linux.devices, undefined);
  assertEquals(spec.linux.resources?.devices, [...DEFAULT_DEVICE_RULES]);
  const i = exampleInput({ devices: ["/dev/fuse", "/dev/sda:/dev/xvda:r"] }, {
    devices: { "/dev/fuse": fuse, "/dev/sda": sda },
  });
  assertEquals(wantedDevicePaths(i), ["/dev/fuse", "/dev/sda"]);
  withDevices(spec, i);
  assertEquals(spec.linux.devices, [
    { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    { path: "/dev/xvda", type: "b", major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
  ]);
  assertEquals(spec.linux.resources?.devices?.slice(-2), [
    { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
    { allow: true, type: "b", major: 8, minor: 0, access: "r" },
  ]);
});

Deno.test("withDevices: Nomad's devices; privileged gets all host devices and allow-all", () => {
  const spec = baseSpec();
  const i = exampleInput({}, { devices: { "/dev/fuse": fuse } });
  i.nomad.devices = [{ taskPath: "/dev/nvidia0", hostPath: "/dev/fuse", cgroupPermissions: "rw" }];
  withDevices(spec, i);
  assertEquals(spec.linux.devices?.map((d) => d.path), ["/dev/nvidia0"]);
  const p = exampleInput({ privileged: true }, { hostDevices: [fuse, sda] });
  withDevices(spec, p);
  assertEquals(spec.linux.devices?.map((d) => d.path), ["/dev/fuse", "/dev/sda"]);
  assertEquals(spec.linux.resources?.devices, [{ allow: true, access: "rwm" }]);
});

Deno.test("withDevices: a device the driver did not find is a ConfigError naming the entry", () => {
  const e = assertThrows(
    () => withDevices(baseSpec(), exampleInput({ devices: ["/dev/nope"] })),
    ConfigError,
  ) as ConfigError;
  assertEquals(e.message, 'task config "devices[0]": "/dev/nope" is not a device node on this host');
  assert(e instanceof ConfigError);
});
