// mod.ts serves the driver's services before the driver is loaded (it comes with a dynamic import after the
// handshake line): a call that arrives first waits for it, and if the driver never comes, the call ends
// with INTERNAL and the reason instead of hanging. Over a real grpc-js server and client on a unix socket.
import * as grpc from "@grpc/grpc-js";
import { assertEquals, assertMatch } from "../harness/assert.ts";
import { shortTempDir } from "../harness/services.ts";
import { deferServices, serve, type Service } from "../../src/plugin/goplugin.ts";
import { Logger } from "../../src/log/hclog.ts";
import { BasePluginService, PluginType } from "../../src/gen/nomad/base.ts";

const quiet = new Logger("defer-test", "error", () => {});

async function served(ready: Promise<Service[]>) {
  const dir = await shortTempDir("cdrv-defer-");
  const server = await serve({
    socketDir: dir,
    socketName: "p.sock",
    logger: quiet,
    services: deferServices([BasePluginService], ready),
    announce: () => {},
  });
  const Client = grpc.makeClientConstructor(BasePluginService, "BasePlugin");
  const client = new Client(`unix://${server.socketPath}`, grpc.credentials.createInsecure());
  const pluginInfo = () =>
    new Promise<{ name: string; type: number }>((res, rej) =>
      // deno-lint-ignore no-explicit-any -- a generic client's methods are untyped
      (client as any).pluginInfo(
        {},
        (e: grpc.ServiceError | null, r: { name: string; type: number }) => e ? rej(e) : res(r),
      )
    );
  return {
    pluginInfo,
    async close() {
      client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a call made before the driver is loaded waits for it and gets its answer", async () => {
  let load!: (s: Service[]) => void;
  const s = await served(new Promise<Service[]>((r) => load = r));
  try {
    let answered = false;
    const info = s.pluginInfo().finally(() => answered = true);
    await new Promise((r) => setTimeout(r, 200));
    assertEquals(answered, false, "answered before the driver was there");
    load([{
      definition: BasePluginService,
      implementation: {
        pluginInfo: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
          cb(null, { type: PluginType.DRIVER, name: "late", pluginApiVersions: [], pluginVersion: "0" }),
      },
    }]);
    assertEquals((await info).name, "late");
  } finally {
    await s.close();
  }
});

Deno.test("a driver that fails to load: the waiting call ends with INTERNAL and the reason", async () => {
  let fail!: (e: Error) => void;
  const s = await served(new Promise<Service[]>((_, r) => fail = r));
  try {
    const info = s.pluginInfo().then(() => null, (e: grpc.ServiceError) => e);
    await new Promise((r) => setTimeout(r, 100));
    fail(new Error("cannot read /sys/fs/cgroup"));
    const err = await info;
    assertEquals(err?.code, grpc.status.INTERNAL);
    assertMatch(err?.details ?? "", /plugin not ready: cannot read \/sys\/fs\/cgroup/);
  } finally {
    await s.close();
  }
});
