/**
 * What the floor servers (bench/handshake_floor.ts, bench/stream_floor.ts) share: listen on a unix socket in
 * PLUGIN_UNIX_SOCKET_DIR, print a go-plugin handshake line, and on SIGTERM stop and remove the socket.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/**
 * Binds `server` like a go-plugin and announces it on stdout.
 *
 * @example
 * ```ts ignore
 * listenAsPlugin(new grpc.Server(), "floor");
 * ```
 */
export function listenAsPlugin(server: grpc.Server, name: string): void {
  const dir = Deno.env.get("PLUGIN_UNIX_SOCKET_DIR") ?? "/tmp";
  const path = `${dir}/${name}-${Deno.pid}.sock`;
  server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    console.log(`1|2|unix|${path}|grpc`);
  });
  Deno.addSignalListener("SIGTERM", () => {
    server.forceShutdown();
    try {
      Deno.removeSync(path);
    } catch { /* the server's shutdown removed it */ }
    Deno.exit(0);
  });
}
