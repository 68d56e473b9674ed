/**
 * The stats-stream floor: a bare grpc-js server in Deno that serves only the driver's TaskStats, sending
 * every open stream one TaskStats message per interval (one shared timer), built the way the plugin builds
 * it (toNomadStats from a fixed result, a fresh timestamp each time) — with no containerd, no decoding, no
 * task. bench/scaling.ts runs it beside the plugin's 500-task point, with as many streams, under the same V8
 * flags: the plugin's CPU minus this one is what its own stats work costs; this one is what sending the
 * messages through grpc-js and Deno's http2 costs.
 *
 *   deno run -A bench/stream_floor.ts   (PLUGIN_UNIX_SOCKET_DIR set; prints a go-plugin handshake line)
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { DriverService, type TaskStatsRequest, type TaskStatsResponse } from "../src/gen/nomad/driver.ts";
import { toNomadStats } from "../src/driver/nomad_stats.ts";
import type { StatsResult } from "../src/wasm/stats.ts";
import { listenAsPlugin } from "./floor_listen.ts";

/** A busy task's figures, as the WASM module returns them (the values do not change the message's size much). */
const RESULT: StatsResult = {
  cpuPercent: 12.5,
  cpuUserPercent: 10.25,
  cpuSystemPercent: 2.25,
  cpuTotalTicks: 300.5,
  throttledPeriods: 12,
  throttledTimeNs: 4_500_000,
  memRss: 12_345_678,
  memCache: 2_345_678,
  memUsage: 15_000_000,
  memMaxUsage: 16_000_000,
  memSwap: 0,
  memKernel: 345_678,
  memKernelMax: 400_000,
};

const streams = new Map<grpc.ServerWritableStream<TaskStatsRequest, TaskStatsResponse>, string>();
setInterval(() => {
  for (const [call, id] of streams) call.write({ stats: toNomadStats(id, Date.now(), RESULT, 1) });
}, 1000);

const server = new grpc.Server();
// Only TaskStats is served; the other methods answer UNIMPLEMENTED.
server.addService(DriverService, {
  taskStats(call: grpc.ServerWritableStream<TaskStatsRequest, TaskStatsResponse>) {
    streams.set(call, call.request.taskId);
    call.on("cancelled", () => streams.delete(call));
    call.on("close", () => streams.delete(call));
  },
} as unknown as grpc.UntypedServiceImplementation);

listenAsPlugin(server, "stream-floor");
