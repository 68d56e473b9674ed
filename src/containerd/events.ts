/**
 * containerd's Events service: a subscription that survives containerd restarts, decoding the task
 * events the driver reacts to (exit, OOM).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { type Envelope, EventsClient } from "../gen/containerd/services/events/v1/events.ts";
import { TaskExit, TaskOOM } from "../gen/containerd/events/task.ts";
import type { Containerd } from "./connection.ts";

/** A decoded event of interest. */
export type TaskEvent =
  | { topic: "/tasks/oom"; namespace: string; containerId: string }
  | { topic: "/tasks/exit"; namespace: string; containerId: string; execId: string; exitStatus: number };

/** Decodes the events the driver uses; others give undefined. */
export function decodeEvent(env: Envelope): TaskEvent | undefined {
  const any = env.event;
  if (!any) return undefined;
  if (env.topic === "/tasks/oom" && any.typeUrl.endsWith("containerd.events.TaskOOM")) {
    return {
      topic: "/tasks/oom",
      namespace: env.namespace,
      containerId: TaskOOM.decode(any.value).containerId,
    };
  }
  if (env.topic === "/tasks/exit" && any.typeUrl.endsWith("containerd.events.TaskExit")) {
    const e = TaskExit.decode(any.value);
    return {
      topic: "/tasks/exit",
      namespace: env.namespace,
      containerId: e.containerId,
      execId: e.id,
      exitStatus: e.exitStatus,
    };
  }
  return undefined;
}

/**
 * Subscribes to task events of one namespace until `signal` aborts, resubscribing (after `onGap`) when
 * the stream breaks, e.g. across a containerd restart.
 *
 * @example
 * ```ts ignore
 * subscribeTaskEvents(conn, "nomad", (e) => console.log(e), () => {}, ac.signal);
 * ```
 */
export function subscribeTaskEvents(
  conn: Containerd,
  namespace: string,
  onEvent: (e: TaskEvent) => void,
  onGap: () => void,
  signal: AbortSignal,
): void {
  const client = conn.client(EventsClient);
  const filters = [`namespace==${namespace},topic~="^/tasks/(oom|exit)$"`];
  let retryMs = 100;
  const open = () => {
    if (signal.aborted) return;
    const stream = client.subscribe({ filters }, conn.metadata(namespace));
    const onAbort = () => stream.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (env: Envelope) => {
      retryMs = 100;
      const e = decodeEvent(env);
      if (e && e.namespace === namespace) onEvent(e);
    });
    stream.on("error", (_e: grpc.ServiceError) => {/* handled on close */});
    stream.on("close", () => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) return;
      onGap();
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 2000);
    });
  };
  open();
}
