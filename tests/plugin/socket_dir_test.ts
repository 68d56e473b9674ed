// The go-plugin socket lives in a private directory the launcher makes for one plugin process: 0700, the
// only directory of its parent the plugin may touch, removed when the plugin exits, and removed at the next
// start when a SIGKILL left it behind. Without PLUGIN_UNIX_SOCKET_DIR the parent is $XDG_RUNTIME_DIR.
import { assert, assertEquals, assertMatch, assertRejects } from "../harness/assert.ts";
import { call, cmdline, startPlugin } from "../harness/plugin.ts";
import { shortTempDir } from "../harness/services.ts";

function parentOf(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}

Deno.test("socket in a private 0700 dir of its own, granted alone, removed after Shutdown", async () => {
  const base = await shortTempDir("cdrv-sd-");
  const p = await startPlugin({ socketDir: base });
  try {
    const own = parentOf(p.socketPath);
    assertMatch(own, new RegExp(`^${base}/containerd-driver\\.${p.pid}\\.[A-Za-z0-9]+$`));
    assertEquals((await Deno.stat(own)).mode! & 0o777, 0o700);
    const argv = await cmdline(p.pid);
    const read = argv.find((a) => a.startsWith("--allow-read="))!.split("=")[1].split(",");
    const write = argv.find((a) => a.startsWith("--allow-write="))!.split("=")[1].split(",");
    for (const grants of [read, write]) {
      assert(grants.includes(own), grants.join());
      assert(!grants.includes(base) && !grants.includes("/tmp"), `the parent is granted: ${grants.join()}`);
    }
    // Deno's own caches live beside it, in a dir of ours the plugin is not granted.
    assertEquals((await Deno.stat(`${base}/containerd-driver.cache`)).mode! & 0o777, 0o700);
    for (const grants of [read, write]) assert(!grants.some((g) => g.endsWith("containerd-driver.cache")));
    await call(p.controller, "shutdown", {});
    p.closeClients();
    assertEquals((await p.status).code, 0);
    await assertRejects(() => Deno.stat(own), Deno.errors.NotFound);
  } finally {
    await p.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a SIGKILLed plugin's socket dir is removed by the next start; another live plugin's is kept", async () => {
  const base = await shortTempDir("cdrv-sd-");
  const live = await startPlugin({ socketDir: base });
  const killed = await startPlugin({ socketDir: base });
  try {
    const stale = parentOf(killed.socketPath);
    killed.child.kill("SIGKILL");
    await killed.status;
    assert((await Deno.stat(stale)).isDirectory, "SIGKILL leaves the dir (nothing could remove it)");
    const next = await startPlugin({ socketDir: base });
    try {
      await assertRejects(() => Deno.stat(stale), Deno.errors.NotFound);
      assert((await Deno.stat(parentOf(live.socketPath))).isDirectory, "a live plugin's dir was removed");
    } finally {
      await next.close();
    }
  } finally {
    await live.close();
    await killed.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("without PLUGIN_UNIX_SOCKET_DIR the private dir is made under $XDG_RUNTIME_DIR", async () => {
  const xdg = await shortTempDir("cdrv-xdg-");
  const p = await startPlugin({ env: { PLUGIN_UNIX_SOCKET_DIR: "", XDG_RUNTIME_DIR: xdg } });
  try {
    assertMatch(parentOf(p.socketPath), new RegExp(`^${xdg}/containerd-driver\\.${p.pid}\\.`));
  } finally {
    await p.close();
    await Deno.remove(xdg, { recursive: true });
  }
});

Deno.test("a SIGTERM right after the handshake line still stops cleanly and removes the socket dir", async () => {
  const base = await shortTempDir("cdrv-sd-");
  const p = await startPlugin({ socketDir: base });
  try {
    p.child.kill("SIGTERM");
    assertEquals((await p.status).code, 0);
    await assertRejects(() => Deno.stat(parentOf(p.socketPath)), Deno.errors.NotFound);
  } finally {
    await p.close();
    await Deno.remove(base, { recursive: true });
  }
});
