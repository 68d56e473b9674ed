import { assertEquals, assertThrows } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { ConfigError } from "../../schema/values.ts";
import { processArgs, withProcess } from "./process.ts";

const image = { Entrypoint: ["/ep"], Cmd: ["cmd", "x"] };
const t = (o: { command?: string; args?: string[]; entrypoint?: string[] }) => ({ args: [], ...o });

Deno.test("processArgs: the Roblox driver's combinations and Docker's for the rest", () => {
  assertEquals(processArgs(t({}), image), ["/ep", "cmd", "x"]);
  assertEquals(processArgs(t({ command: "run" }), image), ["/ep", "run"]);
  assertEquals(processArgs(t({ command: "run", args: ["-v"] }), image), ["/ep", "run", "-v"]);
  assertEquals(processArgs(t({ args: ["-v"] }), image), ["/ep", "-v"]);
  assertEquals(processArgs(t({ entrypoint: ["/bin/sh", "-c"] }), image), ["/bin/sh", "-c"]);
  assertEquals(processArgs(t({ entrypoint: ["/bin/sh", "-c"], args: ["echo hi"] }), image), [
    "/bin/sh",
    "-c",
    "echo hi",
  ]);
  assertEquals(processArgs(t({ entrypoint: ["/bin/sh"], command: "-c", args: ["id"] }), image), [
    "/bin/sh",
    "-c",
    "id",
  ]);
  assertEquals(processArgs(t({ entrypoint: [""], command: "id" }), image), ["id"]);
  assertEquals(processArgs(t({ entrypoint: [] }), image), []);
  assertEquals(processArgs(t({}), {}), []);
});

Deno.test("withProcess: sets args; nothing to run is a ConfigError on command", () => {
  const spec = baseSpec();
  withProcess(spec, exampleInput({ command: "redis-server", args: ["--port", "7000"] }));
  assertEquals(spec.process.args, ["docker-entrypoint.sh", "redis-server", "--port", "7000"]);
  const e = assertThrows(
    () => withProcess(baseSpec(), exampleInput({}, { image: {} })),
    ConfigError,
  ) as ConfigError;
  assertEquals(e.option, "command");
});
