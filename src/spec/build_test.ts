import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import { buildSpec, checkSpecInput, IMAGE_OPTS, SPEC_OPTS } from "./build.ts";
import { exampleInput } from "./example.ts";
import { specJson } from "./oci.ts";
import { ConfigError } from "../schema/values.ts";
import { readTaskConfig } from "./task_config.ts";
import type { CtyValue } from "../schema/values.ts";

Deno.test("buildSpec: the example redis task", () => {
  const spec = buildSpec(exampleInput());
  assertEquals(spec.process.args, ["docker-entrypoint.sh", "redis-server"]);
  assertEquals(spec.process.cwd, "/data");
  assertEquals(spec.hostname, "redis-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
  assertEquals(spec.linux.resources?.memory?.limit, 256 * 1024 * 1024);
  assertEquals(spec.linux.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
  assertEquals(JSON.parse(specJson(spec)).ociVersion, "1.0.2");
});

Deno.test("buildSpec: seccomp runs after capabilities and init after process and mounts", () => {
  const names = SPEC_OPTS.map(([n]) => n);
  assert(names.indexOf("seccomp") > names.indexOf("capabilities"));
  assert(names.indexOf("seccomp") > names.indexOf("privileged"));
  assert(names.indexOf("init") > names.indexOf("process") && names.indexOf("init") > names.indexOf("mounts"));
  assert(names.indexOf("resources") > names.indexOf("devices"));
  const spec = buildSpec(exampleInput({ init: true, cap_add: ["SYS_ADMIN"] }));
  assertEquals(spec.process.args.slice(0, 2), ["/.cdrv/init", "--"]);
  assertEquals(spec.mounts.at(-1)?.destination, "/.cdrv/init");
});

Deno.test("buildSpec: a privileged task", () => {
  const spec = buildSpec(
    exampleInput({ privileged: true }, {
      hostDevices: [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }],
    }),
  );
  assertEquals(spec.process.capabilities?.bounding?.length, 41);
  assertEquals(spec.linux.seccomp, undefined);
  assertEquals(spec.linux.maskedPaths, []);
  assertEquals(spec.linux.devices?.map((d) => d.path), ["/dev/fuse"]);
  assert(!spec.mounts.find((m) => m.destination === "/sys")!.options!.includes("ro"));
});

Deno.test("buildSpec: policy errors surface before anything is created", () => {
  const policy = { allowPrivileged: false, volumesEnabled: true };
  assertThrows(
    () => buildSpec(exampleInput({ privileged: true }, { plugin: policy })),
    ConfigError,
    "allow_privileged",
  );
  assertThrows(
    () => buildSpec(exampleInput({ pid_mode: "host" }, { plugin: policy })),
    ConfigError,
    "allow_privileged",
  );
});

const options = fc.record({
  privileged: fc.boolean(),
  cap_add: fc.array(fc.constantFrom("NET_ADMIN", "SYS_ADMIN", "ALL", "sys_ptrace"), { maxLength: 2 }),
  cap_drop: fc.array(fc.constantFrom("NET_RAW", "ALL", "CHOWN"), { maxLength: 2 }),
  seccomp: fc.boolean(),
  readonly_rootfs: fc.boolean(),
  init: fc.boolean(),
  pid_mode: fc.constantFrom("", "host"),
  ipc_mode: fc.constantFrom("", "private", "host"),
  host_dns: fc.boolean(),
  cpu_hard_limit: fc.boolean(),
  pids_limit: fc.integer({ min: -1, max: 5000 }),
  entrypoint: fc.option(fc.array(fc.constantFrom("/bin/sh", "-c", ""), { maxLength: 2 }), { nil: undefined }),
  command: fc.option(fc.constantFrom("id", "sleep"), { nil: undefined }),
  args: fc.array(fc.constantFrom("1", "--x"), { maxLength: 2 }),
  ulimit: fc.constantFrom([], [{ nofile: "10:20" }], [{ memlock: "unlimited" }]),
  mounts: fc.array(
    fc.record({
      type: fc.constantFrom("bind", "tmpfs"),
      source: fc.constantFrom("local/a", "/srv/b"),
      target: fc.constantFrom("/a", "/a/b", "/c"),
    }),
    { maxLength: 3 },
  ),
}, { requiredKeys: [] });

Deno.test("buildSpec: any valid combination gives a spec or a ConfigError, and the spec's invariants hold", () => {
  fc.assert(
    fc.property(options, fc.boolean(), fc.boolean(), (cfg, allow, volumes) => {
      // deno-lint-ignore no-explicit-any -- fast-check's record type does not line up with CtyValue
      const task = readTaskConfig({ image: "x", ...(cfg as any) });
      const input = exampleInput({}, { task, plugin: { allowPrivileged: allow, volumesEnabled: volumes } });
      let spec;
      try {
        spec = buildSpec(input);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return;
      }
      const ds = spec.mounts.map((m) => m.destination);
      assertEquals(new Set(ds).size, ds.length, "no destination twice");
      for (let i = 0; i < ds.length; i++) {
        for (let j = i + 1; j < ds.length; j++) {
          assert(!ds[i].startsWith(ds[j] + "/"), `${ds[j]} after ${ds[i]}`);
        }
      }
      const caps = spec.process.capabilities!.bounding!;
      if (spec.linux.seccomp) {
        assert(!task.privileged && task.seccomp);
        const mountRule = spec.linux.seccomp.syscalls!.some((r) => r.names.includes("mount"));
        assertEquals(mountRule, caps.includes("CAP_SYS_ADMIN"));
      }
      assert(spec.process.args.length > 0);
      assertEquals(spec.linux.namespaces.some((n) => n.type === "pid"), task.pidMode !== "host");
      if (task.privileged) assert(allow);
      JSON.parse(specJson(spec));
    }),
    { numRuns: 1500 },
  );
});

Deno.test("checkSpecInput: refuses what buildSpec refuses without the image; image options are left out", () => {
  const policy = { allowPrivileged: false, volumesEnabled: false };
  const refused: [Record<string, CtyValue>, string][] = [
    [{ privileged: true }, 'task config "privileged"'],
    [{ pid_mode: "host" }, 'task config "pid_mode"'],
    [{ mounts: [{ type: "bind", source: "/etc", target: "/x" }] }, 'task config "mounts[0].source"'],
    [{ memory_swap: "1M" }, 'task config "memory_swap"'],
    [{ memory_reservation: "1G" }, 'task config "memory_reservation"'],
  ];
  for (const [config, msg] of refused) {
    assertThrows(() => checkSpecInput(exampleInput(config, { plugin: policy })), ConfigError, msg);
  }
  // An image with nothing to run and a user name only the image can resolve are for buildSpec.
  const noImage = exampleInput({}, { image: {}, resolvedUser: undefined });
  noImage.nomad.user = "redis";
  checkSpecInput(noImage);
  assertThrows(() => buildSpec(noImage), ConfigError);
  assert([...IMAGE_OPTS].every((n) => SPEC_OPTS.some(([m]) => m === n)));
});
