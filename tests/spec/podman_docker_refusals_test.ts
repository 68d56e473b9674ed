// The options taken from the podman and docker drivers refused with the same clear errors as the others, with volumes.enabled = false:
// StartTask fails naming the option, the value and what is allowed, and nothing is left in containerd.
import { assert, assertEquals } from "../harness/assert.ts";
import { specTest } from "./suite.ts";
import type { CtyValue } from "../../src/schema/values.ts";

specTest("podman and docker driver options: refusals name the option and create nothing", async (s, t) => {
  await t.step("bad values and volumes outside the task dir", async () => {
    const cases: [Record<string, CtyValue>, string, string][] = [
      [{ volumes: ["/etc:/hostetc"] }, "volumes[0]", '"/etc" is outside the task and alloc directories'],
      [{ volumes: ["nocolon"] }, "volumes[0]", '"nocolon" is not a volume; use "/host/path:/container/path"'],
      [{ volumes: ["/a:/b:rx"] }, "volumes[0]", '"/a:/b:rx" is not a volume'],
      [{ load: "/abs.tar" }, "load", '"/abs.tar" is not a path inside the task dir'],
      [{ load: "local/x.tar", force_pull: true }, "load", 'is set while "force_pull" is true'],
      [{ load: "local/missing.tar" }, "load", '"local/missing.tar" cannot be loaded: cannot open'],
      [{ security_opt: ["seccomp=unconfined"] }, "security_opt[0]", "is not a supported security option"],
      [{ oom_score_adj: -1000 }, "oom_score_adj", "-1000 is not allowed; use a whole number from 0 to 1000"],
      [{ group_add: ["bad group"] }, "group_add[0]", '"bad group" is not a group'],
      [{ cgroupns: "container:x" }, "cgroupns", '"container:x" is not allowed; use "host" or "private"'],
    ];
    const failures: string[] = [];
    for (const [config, option, problem] of cases) {
      const msg = await s.refused({ config: { command: "/bin/true", ...config } });
      if (!msg.includes(`task config "${option}": `) || !msg.includes(problem)) {
        failures.push(`${JSON.stringify(config)}: ${msg}`);
      }
    }
    assertEquals(failures, []);
    const left = await s.contents();
    assertEquals(left.containers, []);
    assertEquals(left.snapshots, []);
    assertEquals(left.images, []);
  });

  await t.step("a volume under the task dir still works with volumes.enabled = false", async () => {
    const r = await s.sh("cat /v/f", {
      config: { volumes: ["local/v:/v:ro"] },
      prepare: async (t) => {
        await Deno.mkdir(`${t.taskDir}/local/v`, { recursive: true });
        await Deno.writeTextFile(`${t.taskDir}/local/v/f`, "inside\n");
      },
    });
    assert(r.exit.exitCode === 0, r.err);
    assertEquals(r.out.trim(), "inside");
  });
}, { volumes: { enabled: false } });
