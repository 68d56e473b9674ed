import { assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { readTaskConfig } from "./task_config.ts";
import { ConfigError, type CtyValue } from "../schema/values.ts";

const base = { image: "redis:7" };
const err = (config: Record<string, CtyValue>) =>
  assertThrows(() => readTaskConfig({ ...base, ...config }), ConfigError).message;

Deno.test("readTaskConfig: issue 10's options, read and defaulted", () => {
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

Deno.test("readTaskConfig: issue 10's options, exact messages for bad values", () => {
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
  for (const [cfg, msg] of cases) assertEquals(err(cfg), msg, JSON.stringify(cfg));
});
