import { assert, assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { mountSource, standardMounts, withMounts } from "./mounts.ts";

const mounts = (i: ReturnType<typeof exampleInput>) => {
  const spec = baseSpec();
  withMounts(spec, i);
  return spec.mounts;
};
const dests = (i: ReturnType<typeof exampleInput>) => mounts(i).map((m) => m.destination);

Deno.test("withMounts: standard filesystems, task dirs, then host files, in order", () => {
  assertEquals(dests(exampleInput()), [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/sys",
    "/sys/fs/cgroup",
    "/alloc",
    "/local",
    "/secrets",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/hostname",
  ]);
  const noFiles = exampleInput({}, { files: {} });
  assert(!dests(noFiles).includes("/etc/hosts"));
  const ro = mounts(exampleInput({ readonly_rootfs: true })).find((m) => m.destination === "/etc/hosts")!;
  assert(ro.options!.includes("ro"));
});

Deno.test("standardMounts: shm_size, ipc host, privileged rw /sys", () => {
  const shm = (i: ReturnType<typeof exampleInput>) =>
    standardMounts(i).find((m) => m.destination === "/dev/shm")!;
  assert(shm(exampleInput()).options!.includes("size=65536k"));
  assert(shm(exampleInput({ shm_size: "128M" })).options!.includes("size=131072k"));
  assertEquals(shm(exampleInput({ ipc_mode: "host" })).source, "/dev/shm");
  // mqueue is mounted, not bound, with ipc_mode "host" too: hosts without /dev/mqueue still start it.
  const mq = standardMounts(exampleInput({ ipc_mode: "host" })).find((m) => m.destination === "/dev/mqueue")!;
  assertEquals([mq.type, mq.source], ["mqueue", "mqueue"]);
  const sys = (i: ReturnType<typeof exampleInput>) =>
    standardMounts(i).find((m) => m.destination === "/sys")!;
  assert(sys(exampleInput()).options!.includes("ro"));
  assert(!sys(exampleInput({ privileged: true })).options!.includes("ro"));
});

Deno.test("withMounts: task mounts (bind/volume/tmpfs) with options, relative sources, sorted by depth", () => {
  const i = exampleInput({
    mounts: [
      { type: "bind", source: "local/conf", target: "/etc/app/conf.d", options: ["ro"] },
      { type: "volume", source: "/srv/data", target: "/etc/app", options: ["rbind", "rshared"] },
      { type: "tmpfs", target: "/dev/shm", options: ["size=1m"] },
    ],
  });
  const ms = mounts(i);
  const ds = ms.map((m) => m.destination);
  assert(ds.indexOf("/etc/app") < ds.indexOf("/etc/app/conf.d"), ds.join(" "));
  assertEquals(
    ds.filter((d) => d === "/dev/shm").length,
    1,
    "the task's tmpfs replaces the standard /dev/shm",
  );
  assertEquals(ms.find((m) => m.destination === "/etc/app/conf.d"), {
    destination: "/etc/app/conf.d",
    type: "bind",
    source: `${i.nomad.dirs.task}/local/conf`,
    options: ["rbind", "ro", "rprivate"],
  });
  assertEquals(ms.find((m) => m.destination === "/etc/app")!.options, ["rbind", "rshared"]);
  assertEquals(ms.find((m) => m.destination === "/dev/shm"), {
    destination: "/dev/shm",
    type: "tmpfs",
    source: "tmpfs",
    options: ["size=1m"],
  });
  assertEquals(mountSource("../../etc", "/t/task"), "/etc");
});

Deno.test("withMounts: Nomad volume_mount read-only and propagation", () => {
  const i = exampleInput();
  i.nomad.mounts = [
    {
      taskPath: "/vol/a",
      hostPath: "/opt/a",
      readonly: true,
      propagationMode: "host-to-task",
      selinuxLabel: "",
    },
    {
      taskPath: "/vol/b",
      hostPath: "/opt/b",
      readonly: false,
      propagationMode: "bidirectional",
      selinuxLabel: "Z",
    },
  ];
  const ms = mounts(i);
  assertEquals(ms.find((m) => m.destination === "/vol/a")!.options, ["rbind", "ro", "rslave"]);
  assertEquals(ms.find((m) => m.destination === "/vol/b")!.options, ["rbind", "rw", "rshared"]);
});

Deno.test("withMounts: volumes.enabled=false refuses sources outside the task and alloc dirs", () => {
  const policy = { allowPrivileged: true, volumesEnabled: false };
  const inside = exampleInput({ mounts: [{ type: "bind", source: "local/x", target: "/x" }] }, {
    plugin: policy,
  });
  mounts(inside);
  const outside = exampleInput({ mounts: [{ type: "bind", source: "/etc", target: "/x" }] }, {
    plugin: policy,
  });
  const e = assertThrows(() => mounts(outside), ConfigError) as ConfigError;
  assertEquals(e.option, "mounts[0].source");
  const escape = exampleInput({ mounts: [{ type: "bind", source: "local/../../../../etc", target: "/x" }] }, {
    plugin: policy,
  });
  assertThrows(() => mounts(escape), ConfigError, "outside");
  const tmpfs = exampleInput({ mounts: [{ type: "tmpfs", target: "/x" }] }, { plugin: policy });
  mounts(tmpfs);
});

Deno.test("withMounts: a target mounted twice is an error naming the task's mount", () => {
  const e = assertThrows(
    () => mounts(exampleInput({ mounts: [{ type: "tmpfs", target: "/local" }] })),
    ConfigError,
  ) as ConfigError;
  assertEquals(
    e.message,
    'task config "mounts[0].target": "/local" is already mounted (Nomad\'s task directory); use another target',
  );
});

Deno.test("withMounts: a shared (bidirectional) mount makes the root rshared; a slave one rslave", () => {
  const spec = (i: ReturnType<typeof exampleInput>) => {
    const sp = baseSpec();
    withMounts(sp, i);
    return sp.linux.rootfsPropagation;
  };
  const vm = (propagationMode: string) => {
    const i = exampleInput();
    i.nomad.mounts = [{
      taskPath: "/v",
      hostPath: "/srv/v",
      readonly: false,
      propagationMode,
      selinuxLabel: "",
    }];
    return i;
  };
  assertEquals(spec(exampleInput()), undefined);
  assertEquals(spec(vm("private")), undefined);
  assertEquals(spec(vm("host-to-task")), "rslave");
  assertEquals(spec(vm("bidirectional")), "rshared");
  assertEquals(
    spec(exampleInput({ mounts: [{ type: "bind", source: "/srv", target: "/srv", options: ["rshared"] }] })),
    "rshared",
  );
});

Deno.test("withMounts: volumes are binds (ro honoured, relative under the task dir) under the same policy", () => {
  const i = exampleInput({ volumes: ["/srv/data:/data:ro", "local/conf:/etc/app"] });
  const m = mounts(i);
  assertEquals(m.find((x) => x.destination === "/data"), {
    destination: "/data",
    type: "bind",
    source: "/srv/data",
    options: ["rbind", "ro", "rprivate"],
  });
  assertEquals(m.find((x) => x.destination === "/etc/app")?.source, `${i.nomad.dirs.task}/local/conf`);
  const off = exampleInput({ volumes: ["local/ok:/ok", "/etc:/host-etc"] }, {
    plugin: { allowPrivileged: true, volumesEnabled: false },
  });
  const e = assertThrows(() => mounts(off), ConfigError) as ConfigError;
  assertEquals(
    e.message,
    `task config "volumes[1]": "/etc" is outside the task and alloc directories, which the plugin allows only with volumes.enabled = true; use a path under the task directory`,
  );
  const twice = exampleInput({ volumes: ["/a:/local"] });
  assertEquals(
    (assertThrows(() => mounts(twice), ConfigError) as ConfigError).message,
    `task config "volumes[0]": "/local" is already mounted (Nomad's task directory); use another target`,
  );
});
