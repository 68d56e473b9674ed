import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { exampleInput } from "./example.ts";
import { ConfigError } from "../schema/values.ts";
import {
  checkRelabelPath,
  DEFAULT_CONTEXTS,
  isContext,
  labelRootfsMounts,
  mcsLevel,
  parseLxcContexts,
  relabelPlan,
  taskSelinux,
  withLevel,
} from "./selinux.ts";

const LEVEL = "s0:c12,c700";

Deno.test("parseLxcContexts: process and file contexts, comments and other keys ignored", () => {
  const text = [
    "# container-selinux",
    'process = "system_u:system_r:container_t:s0"',
    'content = "system_u:object_r:virt_var_lib_t:s0"',
    'file = "system_u:object_r:container_file_t:s0"',
    'ro_file="system_u:object_r:container_ro_file_t:s0"',
    'sandbox_kvm_process = "system_u:system_r:container_kvm_t:s0"',
  ].join("\n");
  assertEquals(parseLxcContexts(text), DEFAULT_CONTEXTS);
  assertEquals(parseLxcContexts('process = not a context\nfile = "a:b"'), {});
  assertEquals(parseLxcContexts(""), {});
});

Deno.test("withLevel: replaces the level; a policy without MLS keeps its three fields", () => {
  assertEquals(
    withLevel("system_u:object_r:container_file_t:s0", LEVEL),
    `system_u:object_r:container_file_t:${LEVEL}`,
  );
  assertEquals(withLevel(`u:r:t:${LEVEL}`, "s0"), "u:r:t:s0");
  assertEquals(withLevel("u:r:t:s0-s0:c0.c1023", "s0"), "u:r:t:s0");
  assertEquals(withLevel("u:r:t", LEVEL), "u:r:t");
});

Deno.test("mcsLevel: two distinct categories in 0..1023, lower first; others are refused", () => {
  assertEquals(mcsLevel(700, 12), LEVEL);
  assertThrows(() => mcsLevel(3, 3), RangeError, "differ");
  assertThrows(() => mcsLevel(0, 1024), RangeError, "0..1023");
  assertThrows(() => mcsLevel(-1, 2), RangeError);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 1023 }), (a, b) => {
      fc.pre(a !== b);
      const level = mcsLevel(a, b);
      assertEquals(level, mcsLevel(b, a));
      const m = /^s0:c(\d+),c(\d+)$/.exec(level)!;
      assert(Number(m[1]) < Number(m[2]));
      assert(isContext(withLevel(DEFAULT_CONTEXTS.process, level)));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("taskSelinux: confined labels carry the level; unconfined only the shared label", () => {
  assertEquals(taskSelinux(DEFAULT_CONTEXTS, LEVEL), {
    sharedLabel: "system_u:object_r:container_file_t:s0",
    processLabel: `system_u:system_r:container_t:${LEVEL}`,
    mountLabel: `system_u:object_r:container_file_t:${LEVEL}`,
  });
  assertEquals(taskSelinux(DEFAULT_CONTEXTS), { sharedLabel: "system_u:object_r:container_file_t:s0" });
});

Deno.test("relabelPlan: nothing when SELinux is off", () => {
  const i = exampleInput({ mounts: [{ type: "bind", source: "/srv/x", target: "/x" }] }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "z" },
  });
  assertEquals(relabelPlan(i), []);
});

Deno.test("relabelPlan: z labels task dirs, generated files and bind sources shared", () => {
  const i = exampleInput({
    mounts: [
      { type: "bind", source: "/srv/x", target: "/x" },
      { type: "tmpfs", target: "/t" },
      { type: "bind", source: "local/data", target: "/data" },
    ],
    volumes: ["/srv/v:/v"],
  }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "z" },
    selinux: taskSelinux(DEFAULT_CONTEXTS, LEVEL),
  });
  const shared = "system_u:object_r:container_file_t:s0";
  const { alloc, local, secrets, task } = i.nomad.dirs;
  assertEquals(relabelPlan(i), [
    { path: alloc, context: shared, scope: "plugin config", option: "volumes.selinuxlabel" },
    { path: local, context: shared, scope: "plugin config", option: "volumes.selinuxlabel" },
    { path: secrets, context: shared, scope: "plugin config", option: "volumes.selinuxlabel" },
    { path: `${task}/.cdrv`, context: shared, scope: "plugin config", option: "volumes.selinuxlabel" },
    { path: "/srv/x", context: shared, scope: "task config", option: "mounts[0].source" },
    { path: `${local}/data`, context: shared, scope: "task config", option: "mounts[2].source" },
    { path: "/srv/v", context: shared, scope: "task config", option: "volumes[0]" },
  ]);
});

Deno.test("relabelPlan: Z labels private content with the task's categories, the alloc dir stays shared", () => {
  const i = exampleInput({ mounts: [{ type: "bind", source: "/srv/x", target: "/x" }] }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "Z" },
    selinux: taskSelinux(DEFAULT_CONTEXTS, LEVEL),
  });
  const plan = relabelPlan(i);
  assertEquals(plan[0], {
    path: i.nomad.dirs.alloc,
    context: "system_u:object_r:container_file_t:s0",
    scope: "plugin config",
    option: "volumes.selinuxlabel",
  });
  for (const r of plan.slice(1)) assertEquals(r.context, `system_u:object_r:container_file_t:${LEVEL}`);
  // Not confined (privileged): Z has no categories to use, so it is the shared label.
  const priv = exampleInput({ privileged: true }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "Z" },
    selinux: taskSelinux(DEFAULT_CONTEXTS),
  });
  for (const r of relabelPlan(priv)) assertEquals(r.context, "system_u:object_r:container_file_t:s0");
});

Deno.test("relabelPlan: Nomad volume mounts by their own label, without the plugin's", () => {
  const i = exampleInput({}, { selinux: taskSelinux(DEFAULT_CONTEXTS) });
  i.nomad.mounts = [
    { taskPath: "/a", hostPath: "/srv/a", readonly: false, propagationMode: "private", selinuxLabel: "" },
    { taskPath: "/b", hostPath: "/srv/b/", readonly: true, propagationMode: "private", selinuxLabel: "Z" },
  ];
  assertEquals(relabelPlan(i), [
    {
      path: "/srv/b",
      context: "system_u:object_r:container_file_t:s0",
      scope: "volume_mount",
      option: "/b selinux_label",
    },
  ]);
});

Deno.test("relabelPlan: a path named twice is relabelled once, with its first context", () => {
  const i = exampleInput({ volumes: ["local:/l"] }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "z" },
    selinux: taskSelinux(DEFAULT_CONTEXTS, LEVEL),
  });
  const paths = relabelPlan(i).map((r) => r.path);
  assertEquals(paths.length, new Set(paths).size);
  assertEquals(paths.filter((p) => p === i.nomad.dirs.local).length, 1);
});

Deno.test("checkRelabelPath: system paths are refused with the option and what to do", () => {
  for (
    const p of ["/", "/etc", "/usr", "/usr/share/x", "/var/lib", "/home", "/tmp", "/etc/", "/srv/../etc/ssl"]
  ) {
    const e = assertThrows(
      () => checkRelabelPath("task config", "mounts[0].source", p),
      ConfigError,
    ) as ConfigError;
    assertEquals(e.option, "mounts[0].source");
    assert(e.message.includes("cannot be relabelled"), e.message);
  }
  for (
    const p of ["/srv/app", "/var/lib/nomad/alloc/x/alloc", "/tmp/cdrv-test/x", "/data", "/opt/app/data"]
  ) {
    checkRelabelPath("task config", "mounts[0].source", p);
  }
  const i = exampleInput({ mounts: [{ type: "bind", source: "/etc", target: "/x" }] }, {
    plugin: { allowPrivileged: true, volumesEnabled: true, selinuxLabel: "z" },
    selinux: taskSelinux(DEFAULT_CONTEXTS, LEVEL),
  });
  const e = assertThrows(() => relabelPlan(i), ConfigError) as ConfigError;
  assertEquals(
    e.message,
    'task config "mounts[0].source": "/etc" is a system path and cannot be relabelled for SELinux (the host\'s own ' +
      "services use it); mount a directory of its own (such as /srv/<app>) or drop the label",
  );
});

Deno.test("labelRootfsMounts: the mount label as context=, quoted for its comma; others kept", () => {
  const mounts = [{
    type: "overlay",
    source: "overlay",
    options: ["index=off", "lowerdir=/a:/b", 'context="x"'],
  }];
  assertEquals(labelRootfsMounts(mounts, `system_u:object_r:container_file_t:${LEVEL}`), [{
    type: "overlay",
    source: "overlay",
    options: ["index=off", "lowerdir=/a:/b", `context="system_u:object_r:container_file_t:${LEVEL}"`],
  }]);
  assertEquals(mounts[0].options.length, 3);
});
