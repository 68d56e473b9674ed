import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import fc from "fast-check";
import { readTaskConfig, taskSpec } from "./task_config.ts";
import { ConfigError, type CtyValue, UNKNOWN } from "../schema/values.ts";
import { optionDocs } from "../schema/hclspec.ts";
import { U64_MAX } from "./oci.ts";

const base = { image: "redis:7" };
const msg = (config: Record<string, CtyValue>) =>
  assertThrows(() => readTaskConfig({ ...base, ...config }), ConfigError).message;

Deno.test("readTaskConfig: defaults for a config with only an image", () => {
  const c = readTaskConfig(base);
  assertEquals(c.image, "redis:7");
  assertEquals(c.imagePullTimeoutMs, 300_000);
  assertEquals(c.seccomp, true);
  assertEquals(c.hostDns, true);
  assertEquals(c.entrypoint, undefined);
  assertEquals(c.args, []);
  assertEquals(c.pidMode, "");
  assertEquals(c.initPath, "/usr/bin/tini-static");
  assertEquals(c.mounts, []);
});

Deno.test("readTaskConfig: exact messages for bad values", () => {
  assertEquals(
    msg({ shm_size: "12Q" }),
    `task config "shm_size": "12Q" is not a size; use a number with a unit such as "128M" or "1G"`,
  );
  assertEquals(
    msg({ cap_add: ["NET_ADMIN", "CAP_FLY"] }),
    `task config "cap_add[1]": "CAP_FLY" is not a Linux capability; use a name such as "NET_ADMIN" or "CAP_SYS_TIME", or "ALL"`,
  );
  assertEquals(
    msg({ mounts: [{ type: "nfs", target: "/data" }] }),
    `task config "mounts[0].type": "nfs" is not allowed; use one of "bind", "volume", "tmpfs"`,
  );
  assertEquals(
    msg({ mounts: [{ type: "tmpfs", target: "data" }] }),
    `task config "mounts[0].target": "data" is not an absolute path below "/"; use a path such as "/data"`,
  );
  assertEquals(
    msg({ pid_mode: "container:x" }),
    `task config "pid_mode": "container:x" is not allowed; use "host", or leave it unset`,
  );
  assertEquals(
    msg({ ipc_mode: "shareable" }),
    `task config "ipc_mode": "shareable" is not allowed; use "private" or "host", or leave it unset`,
  );
  assertEquals(
    msg({ ulimit: [{ nofile: "8192:4096" }] }),
    `task config "ulimit.nofile": "8192:4096" has a soft limit above the hard limit; the soft one must not exceed the hard one`,
  );
  assertEquals(
    msg({ ulimit: [{ files: "10" }] }),
    `task config "ulimit.files": "files" is not a resource limit; use one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack`,
  );
  assertEquals(
    msg({ extra_hosts: ["db:10.0.0.300"] }),
    `task config "extra_hosts[0]": "db:10.0.0.300" is not a host entry; use "host:ip" with an IPv4 or IPv6 address, e.g. "db.local:10.0.0.5"`,
  );
  assertEquals(
    msg({ memory_swappiness: 101 }),
    `task config "memory_swappiness": 101 is not a whole number from 0 to 100`,
  );
  assertEquals(
    msg({ cpu_cfs_period: 500 }),
    `task config "cpu_cfs_period": 500 is not a whole number from 1000 to 1000000`,
  );
  assertEquals(
    msg({ image_pull_timeout: "soon" }),
    `task config "image_pull_timeout": "soon" is not a positive duration; use a number with a unit such as "30s", "5m" or "1h"`,
  );
  assertEquals(
    msg({ init_path: "tini" }),
    `task config "init_path": "tini" is not an absolute path; use a path such as "/usr/bin/tini-static"`,
  );
  assertEquals(msg({ image: "" }), `task config "image": is required and must not be empty`);
});

Deno.test("readTaskConfig: more rejected values name their option", () => {
  const cases: [Record<string, CtyValue>, string][] = [
    [{ sysctl: [{ "vm.swappiness": "10" }] }, "sysctl.vm.swappiness"],
    [{ sysctl: [{ "net.core.somaxconn": "1024" }], host_network: true }, "sysctl.net.core.somaxconn"],
    [{ sysctl: [{ "kernel.shmmax": "1" }], ipc_mode: "host" }, "sysctl.kernel.shmmax"],
    [{ devices: ["dev/fuse"] }, "devices[0]"],
    [{ devices: ["/dev/sda:/dev/xvda:rwx"] }, "devices[0]"],
    [{ runtime: "runc v2" }, "runtime"],
    [{ cwd: "app" }, "cwd"],
    [{ hostname: "-bad" }, "hostname"],
    [{ labels: [{ "com.hashicorp.nomad.alloc_id": "x" }] }, "labels.com.hashicorp.nomad.alloc_id"],
    [{ seccomp: false, seccomp_profile: "/p.json" }, "seccomp_profile"],
    [{ mounts: [{ type: "bind", target: "/x" }] }, "mounts[0].source"],
    [{ shm_size: "64M", ipc_mode: "host" }, "shm_size"],
    [{ pids_limit: 1.5 }, "pids_limit"],
    [{ memory_swap: "lots" }, "memory_swap"],
    [{ auth: [{ username: "u" }] }, "auth"],
    [{ image: UNKNOWN }, "image"],
  ];
  for (const [cfg, option] of cases) {
    const e = assertThrows(() => readTaskConfig({ ...base, ...cfg }), ConfigError) as ConfigError;
    assertEquals(e.option, option, JSON.stringify(cfg));
    assertEquals(e.scope, "task config");
  }
});

Deno.test("readTaskConfig: accepted forms are normalized", () => {
  const c = readTaskConfig({
    ...base,
    cap_add: ["net_admin", "CAP_SYS_TIME", "all"],
    cap_drop: ["Mknod"],
    pid_mode: "HOST",
    ipc_mode: "private",
    ulimit: [{ nofile: "4096:8192", memlock: "unlimited" }, { nproc: "100" }],
    extra_hosts: ["db.local:10.0.0.5", "v6:::1", "b=[fe80::1]"],
    devices: ["/dev/fuse", "/dev/sda:/dev/xvda:r", "/dev/kvm:rw"],
    memory_swap: "-1",
    memory_reservation: "128M",
    entrypoint: [],
    pids_limit: -1,
    mounts: [{ type: "bind", source: "local/conf", target: "/etc/app/", options: ["rbind", "ro"] }],
  });
  assertEquals(c.capAdd, ["CAP_NET_ADMIN", "CAP_SYS_TIME", "ALL"]);
  assertEquals(c.capDrop, ["CAP_MKNOD"]);
  assertEquals(c.pidMode, "host");
  assertEquals(c.ulimit, [
    { type: "RLIMIT_NOFILE", soft: 4096, hard: 8192 },
    { type: "RLIMIT_MEMLOCK", soft: U64_MAX, hard: U64_MAX },
    { type: "RLIMIT_NPROC", soft: 100, hard: 100 },
  ]);
  assertEquals(c.extraHosts, [
    { host: "db.local", ip: "10.0.0.5" },
    { host: "v6", ip: "::1" },
    { host: "b", ip: "fe80::1" },
  ]);
  assertEquals(c.devices, [
    { hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "rwm" },
    { hostPath: "/dev/sda", containerPath: "/dev/xvda", permissions: "r" },
    { hostPath: "/dev/kvm", containerPath: "/dev/kvm", permissions: "rw" },
  ]);
  assertEquals(c.memorySwap, -1);
  assertEquals(c.memoryReservation, 128 * 1024 * 1024);
  assertEquals(c.entrypoint, []);
  assertEquals(c.pidsLimit, undefined);
  assertEquals(c.mounts, [{
    type: "bind",
    source: "local/conf",
    target: "/etc/app",
    options: ["rbind", "ro"],
  }]);
});

Deno.test('readTaskConfig: Nomad\'s string-converted values are read ("5" for numbers, "true" for bools)', () => {
  const c = readTaskConfig({ ...base, pids_limit: "100", privileged: "true", memory_swappiness: 10n });
  assertEquals(c.pidsLimit, 100);
  assertEquals(c.privileged, true);
  assertEquals(c.memorySwappiness, 10);
});

Deno.test("readTaskConfig: every declared option is read (a wrong type is refused and named)", () => {
  const docs = optionDocs(taskSpec).filter((d) => !d.path.includes(".") && !d.path.includes("[]"));
  assertEquals(docs.length, 41);
  for (const d of docs) {
    if (d.type === "block") continue; // auth: a non-object block reads as empty
    const bad: CtyValue = d.type === "string" ? [1] : d.type === "number" ? "x" : 5.5;
    const e = assertThrows(
      () => readTaskConfig({ ...base, [d.path]: bad }),
      ConfigError,
      undefined,
    ) as ConfigError;
    assert(e.option === d.path || e.option.startsWith(d.path + "["), `${d.path}: ${e.message}`);
  }
});

const ctyValue: fc.Arbitrary<CtyValue> = fc.letrec<{ v: CtyValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.constant(UNKNOWN),
    fc.string(),
    fc.constantFrom("/abs", "host", "ALL", "net_admin", "1G", "-1", "5m", "a:b", "bind", "tmpfs", "10:20"),
    fc.double(),
    fc.integer(),
    fc.bigInt(),
    fc.boolean(),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("v"), { maxKeys: 3 }),
  ),
})).v;

const optionNames = ["image", ...Object.keys((taskSpec as { attrs: Record<string, unknown> }).attrs)];

Deno.test("readTaskConfig: arbitrary input gives a TaskConfig or a ConfigError, never another error", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        ctyValue,
        fc.dictionary(fc.constantFrom(...optionNames), ctyValue, { maxKeys: 8 }),
        fc.dictionary(fc.constantFrom(...optionNames), ctyValue, { maxKeys: 8 }).map((d) => ({
          image: "x",
          ...d,
        })),
      ),
      (v) => {
        try {
          readTaskConfig(v);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          assert(e.message.startsWith(`task config "`), e.message);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

// --- options taken from the podman and docker drivers ---------------------------------------------
const refusal = (config: Record<string, CtyValue>) =>
  assertThrows(() => readTaskConfig({ ...base, ...config }), ConfigError).message;

Deno.test("readTaskConfig: the podman and docker drivers' options, read and defaulted", () => {
  const d = readTaskConfig(base);
  assertEquals(d.volumes, []);
  assertEquals(d.load, undefined);
  assertEquals(d.noNewPrivileges, undefined);
  assertEquals(d.oomScoreAdj, undefined);
  assertEquals(d.groupAdd, []);
  assertEquals(d.cgroupns, "");
  const c = readTaskConfig({
    ...base,
    volumes: ["/srv/data:/data", "local/conf:/etc/app/./:ro", "/x:/y:rw"],
    load: "local/./image.tar",
    security_opt: ["no-new-privileges"],
    oom_score_adj: 500n,
    group_add: ["audio", " 1234 "],
    cgroupns: "Private",
  });
  assertEquals(c.volumes, [
    { source: "/srv/data", target: "/data", readonly: false },
    { source: "local/conf", target: "/etc/app", readonly: true },
    { source: "/x", target: "/y", readonly: false },
  ]);
  assertEquals(c.load, "local/image.tar");
  assertEquals(c.noNewPrivileges, true);
  assertEquals(c.oomScoreAdj, 500);
  assertEquals(c.groupAdd, ["audio", "1234"]);
  assertEquals(c.cgroupns, "private");
  assertEquals(readTaskConfig({ ...base, security_opt: ["no-new-privileges:false"] }).noNewPrivileges, false);
  assertEquals(readTaskConfig({ ...base, security_opt: ["no-new-privileges=true"] }).noNewPrivileges, true);
});

Deno.test("readTaskConfig: the podman and docker drivers' options, exact messages for bad values", () => {
  const cases: [Record<string, CtyValue>, string][] = [
    [
      { volumes: ["/data"] },
      'task config "volumes[0]": "/data" is not a volume; use "/host/path:/container/path" or "/host/path:/container/path:ro", the container path absolute',
    ],
    [
      { volumes: ["/a:/b", "/a:rel"] },
      'task config "volumes[1]": "/a:rel" is not a volume; use "/host/path:/container/path" or "/host/path:/container/path:ro", the container path absolute',
    ],
    [
      { volumes: ["/a:/b:z"] },
      'task config "volumes[0]": "/a:/b:z" is not a volume; use "/host/path:/container/path" or "/host/path:/container/path:ro", the container path absolute',
    ],
    [
      { load: "/tmp/image.tar" },
      'task config "load": "/tmp/image.tar" is not a path inside the task dir; use a relative path such as "local/image.tar"',
    ],
    [
      { load: "local/../../x.tar" },
      'task config "load": "local/../../x.tar" is not a path inside the task dir; use a relative path such as "local/image.tar"',
    ],
    [
      { load: "local/image.tar", force_pull: true },
      'task config "load": "local/image.tar" is set while "force_pull" is true; remove one of them',
    ],
    [
      { security_opt: ["apparmor=unconfined"] },
      'task config "security_opt[0]": "apparmor=unconfined" is not a supported security option; use "no-new-privileges" or "no-new-privileges:false"',
    ],
    [
      { oom_score_adj: -500 },
      `task config "oom_score_adj": -500 is not allowed; use a whole number from 0 to 1000 (a negative one would shield the task from the OOM killer at the host's expense)`,
    ],
    [
      { oom_score_adj: 1001 },
      `task config "oom_score_adj": 1001 is not allowed; use a whole number from 0 to 1000 (a negative one would shield the task from the OOM killer at the host's expense)`,
    ],
    [
      { group_add: ["wheel", "a b"] },
      'task config "group_add[1]": "a b" is not a group; use a group name such as "audio" or a numeric gid such as "1001"',
    ],
    [
      { cgroupns: "shared" },
      'task config "cgroupns": "shared" is not allowed; use "host" or "private", or leave it unset',
    ],
  ];
  for (const [cfg, msg] of cases) assertEquals(refusal(cfg), msg, JSON.stringify(cfg));
});
