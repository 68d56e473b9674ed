import { assertEquals, assertThrows } from "../tests/harness/assert.ts";
import { aggregate, parseArgs } from "./repeat.ts";
import type { BenchResults } from "./types.ts";

Deno.test("bench args: --repeat, --only, --scaling; bad values name the option, the value and what is allowed", () => {
  const a = parseArgs(["--repeat", "3", "--only", "handshake,20 tasks", "--scaling", "10,50"]);
  assertEquals([a.repeat, a.only, a.scaling, a.quick, a.write], [
    3,
    ["handshake", "20 tasks"],
    [10, 50],
    false,
    false,
  ]);
  assertEquals(parseArgs([], "idle", true).only, ["idle"]);
  assertThrows(() => parseArgs(["--repeat", "0"]), Error, "--repeat 0: must be a whole number from 1 to 20");
  assertThrows(
    () => parseArgs(["--only", "idle,nope"]),
    Error,
    '--only: unknown step "nope" (allowed: handshake',
  );
  assertThrows(() => parseArgs(["--scaling", "50,10"]), Error, "--scaling 50,10: must be increasing");
  assertThrows(() => parseArgs(["--fast"]), Error, "unknown option --fast");
});

Deno.test("bench repeats: each figure the median of the runs, each run's value and the spread kept", () => {
  const run = (x: number, stats: number): BenchResults => ({
    figures: { handshake_ms: x },
    wasm_vs_ts: { imageref: 1, stats, seccomp: 1 },
    scaling: [{
      tasks: 10,
      started: 10,
      rss_mb: x,
      hwm_mb: x,
      cpu_pct: 1,
      rpc_p50_ms: 1,
      rpc_p99_ms: 2,
      containerd_rss_mb: 50,
    }],
    details: {},
    errors: {},
    notes: [],
  });
  const r = aggregate([run(100, 0.5), run(80, 0.7), run(90, 0.6)]);
  assertEquals(r.figures.handshake_ms, 90);
  assertEquals(r.wasm_vs_ts?.stats, 0.6);
  assertEquals(r.scaling?.[0].rss_mb, 90);
  assertEquals(
    r.details.repeats.handshake_ms,
    "100, 80, 90 (median 90, spread 80–100, 22.2 % of the median)",
  );
});
