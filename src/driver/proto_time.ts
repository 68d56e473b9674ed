/**
 * Nomad's protobuf time values: Go's zero time for "not yet", milliseconds to Timestamp, Duration to
 * milliseconds.
 *
 * @module
 */
import type { Duration } from "../gen/google/protobuf/duration.ts";
import type { Timestamp } from "../gen/google/protobuf/timestamp.ts";

/** Go's zero time, which Nomad expects for "not yet". */
export const ZERO_TIME: Timestamp = { seconds: -62135596800n, nanos: 0 };

/**
 * Milliseconds since the epoch as a Timestamp; 0 gives Go's zero time.
 *
 * @example
 * ```ts
 * ts(1500); // { seconds: 1n, nanos: 500000000 }
 * ```
 */
export function ts(ms: number): Timestamp {
  if (!ms) return ZERO_TIME;
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/**
 * A Duration in milliseconds, or `fallback` when absent.
 *
 * @example
 * ```ts
 * durMs({ seconds: 2n, nanos: 5e8 }, 0); // 2500
 * ```
 */
export function durMs(d: Duration | undefined, fallback: number): number {
  if (!d) return fallback;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}
