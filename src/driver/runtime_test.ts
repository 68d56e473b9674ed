import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals } from "../../tests/harness/assert.ts";
import { ContainerdError } from "../containerd/connection.ts";
import { ConfigError } from "../schema/values.ts";
import { chooseRuntime, majorVersion, removedRuntime, shimError } from "./runtime.ts";

Deno.test("runtime: the task's option wins over the plugin's; errors name the one that chose", () => {
  assertEquals(chooseRuntime("io.containerd.runsc.v1", "io.containerd.runc.v2"), {
    name: "io.containerd.runsc.v1",
    scope: "task config",
    option: "runtime",
  });
  assertEquals(chooseRuntime(undefined, "io.containerd.runc.v1").option, "containerd_runtime");
  assertEquals(chooseRuntime("", "io.containerd.runc.v2").scope, "plugin config");
});

Deno.test("runtime: io.containerd.runc.v1 refused on containerd 2.x only", () => {
  assertEquals([majorVersion("v2.4.2"), majorVersion("2.4.2+unknown"), majorVersion("1.6.20~ds1")], [
    2,
    2,
    1,
  ]);
  assertEquals(majorVersion("devel"), 0);
  const v1 = chooseRuntime("io.containerd.runc.v1", "io.containerd.runc.v2");
  assertEquals(removedRuntime(v1, "1.6.20~ds1"), undefined);
  assertEquals(removedRuntime(chooseRuntime(undefined, "io.containerd.runc.v2"), "2.4.2"), undefined);
  const e = removedRuntime(v1, "2.4.2");
  assert(e instanceof ConfigError);
  assertEquals(
    e.message,
    'task config "runtime": "io.containerd.runc.v1" was removed in containerd 2.0 and this node runs containerd ' +
      '2.4.2; use "io.containerd.runc.v2", or another runtime whose shim is installed',
  );
  const p = removedRuntime(chooseRuntime(undefined, "io.containerd.runtime.v1.linux"), "v2.0.0");
  assert(
    p?.message.startsWith('plugin config "containerd_runtime": "io.containerd.runtime.v1.linux"'),
    p?.message,
  );
});

Deno.test("runtime: a shim containerd cannot start becomes an error naming the option; others pass", () => {
  const rt = chooseRuntime("io.containerd.nope.v2", "io.containerd.runc.v2");
  const shim = new ContainerdError(
    "Tasks.Create",
    grpc.status.NOT_FOUND,
    'failed to start shim: failed to resolve runtime path: runtime "io.containerd.nope.v2" binary not installed ' +
      '"containerd-shim-nope-v2": file does not exist',
  );
  const e = shimError(shim, rt, "2.4.2");
  assert(e instanceof ConfigError);
  assert(
    (e as Error).message.startsWith(
      'task config "runtime": containerd 2.4.2 cannot start the shim of runtime ',
    ),
    `${e}`,
  );
  assert((e as Error).message.includes('binary not installed "containerd-shim-nope-v2"'), `${e}`);
  assert((e as Error).message.includes('use "io.containerd.runc.v2"'), `${e}`);
  const other = new ContainerdError("Tasks.Create", grpc.status.UNKNOWN, "OCI runtime create failed: mount");
  assertEquals(shimError(other, rt, "2.4.2"), other);
  const plain = new Error("x");
  assertEquals(shimError(plain, rt, "2.4.2"), plain);
});
