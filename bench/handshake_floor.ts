/**
 * The handshake floor: a bare grpc-js server in Deno that listens on a unix socket and prints a go-plugin
 * handshake line, nothing else. bench/suite.ts runs it interleaved with the plugin: the plugin's handshake
 * time minus this one is what the plugin's own code costs before it can answer.
 *
 *   deno run --allow-read --allow-write --allow-env bench/handshake_floor.ts   (PLUGIN_UNIX_SOCKET_DIR set)
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { listenAsPlugin } from "./floor_listen.ts";

listenAsPlugin(new grpc.Server(), "floor");
