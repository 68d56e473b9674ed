// The soak's verdicts on made-up logs and samples: a gap is lost lines, a step back is a repeat, a line
// of another shape or another writer is garbled, a 0 starts a new instance (a restart), a partial last
// line is still being written; the RSS slope ignores the drop when a killed plugin is replaced.
import { assertEquals } from "../tests/harness/assert.ts";
import { analyzeLog, failures, prng, rssSlopePerHour } from "./soak_check.ts";

Deno.test("analyzeLog: a clean log, then one with every kind of fault", () => {
  assertEquals(analyzeLog("w3 0\nw3 1\nw3 2\nw3 3", "w3"), {
    lines: 3,
    instances: 1,
    lost: 0,
    repeated: 0,
    garbled: 0,
  });
  const log = ["w3 0", "w3 1", "w3 4", "w3 4", "w3 2", "w3 5w3 6", "w4 7", "w3 0", "w3 1", ""].join("\n");
  assertEquals(analyzeLog(log, "w3"), { lines: 9, instances: 2, lost: 2, repeated: 2, garbled: 2 });
  // The first instance must start at 0: a log starting at 5 lost 0..4.
  assertEquals(analyzeLog("w1 5\nw1 6\n", "w1").lost, 5);
  // The end line names the last number written: 3 and 4 never arrived.
  assertEquals(analyzeLog("w1 0\nw1 1\nw1 2\nw1 end 4\n", "w1").lost, 2);
  assertEquals(analyzeLog("w1 0\nw1 1\nw1 end 1\n", "w1"), {
    lines: 3,
    instances: 1,
    lost: 0,
    repeated: 0,
    garbled: 0,
    ends: 1,
  });
  assertEquals(analyzeLog("w1 end -1\nw1 -1\n", "w1"), {
    lines: 2,
    instances: 0,
    lost: 0,
    repeated: 0,
    garbled: 1,
    ends: 1,
  });
});

Deno.test("rssSlopePerHour: pooled within each plugin process", () => {
  const grow = [0, 1, 2, 3].map((m) => ({ min: m, mb: 60 + m * 0.5, pid: 1 }));
  assertEquals(rssSlopePerHour(grow), 30);
  // A kill at minute 4 (the successor starts small) does not make the slope negative.
  const after = [4, 5, 6].map((m) => ({ min: m, mb: 50 + (m - 4) * 0.5, pid: 2 }));
  assertEquals(rssSlopePerHour([...grow, ...after]), 30);
  assertEquals(rssSlopePerHour([{ min: 0, mb: 60, pid: 1 }]), 0);
  // warm: a young process's climb is left out.
  const young = [{ min: 0, mb: 60, pid: 3, age_s: 10 }, { min: 1, mb: 90, pid: 3, age_s: 70 }];
  const old = [2, 3, 4].map((m) => ({ min: m, mb: 90 + (m - 2) * 0.1, pid: 3, age_s: 60 * m + 10 }));
  assertEquals(rssSlopePerHour([...young, ...old], true), 6);
});

Deno.test("failures names every reason; prng replays", () => {
  const ok = {
    lost_lines: 0,
    repeated_lines: 0,
    garbled_lines: 0,
    unexpected_restarts: 0,
    leaks: { fifos: 0 },
    fingerprint_healthy_at_end: true,
  };
  assertEquals(failures(ok), []);
  assertEquals(failures({ ...ok, lost_lines: 2, leaks: { fifos: 1 }, fingerprint_healthy_at_end: false }), [
    "2 log line(s) lost",
    "leak: 1 fifos",
    "the driver's fingerprint is not healthy at the end",
  ]);
  const a = prng(42), b = prng(42);
  assertEquals([a(), a(), a()], [b(), b(), b()]);
});
