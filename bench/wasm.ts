/**
 * WASM (what the plugin runs) vs the plain-TS oracles of the tests (tests/oracles/), per module, in the
 * same run: ops/s of each and the ratio (WASM / TS; above 1 = WASM faster).
 *
 *   deno task bench:wasm            (about 20 s)
 *   deno task bench:wasm --quick    (about 4 s)
 *
 * Each pair runs interleaved in rounds (31; the side that goes first alternates), so both see the same
 * machine state; the ratio printed is the median of the per-round ratios (p5–p95 of them beside it).
 *
 * @module
 */
import { statsDelta, type StatsSample } from "../src/wasm/stats.ts";
import { statsDeltaOracle } from "../tests/oracles/stats.ts";
import { parseReference } from "../src/image/reference.ts";
import { parseReferenceOracle } from "../tests/oracles/reference.ts";
import { DEFAULT_PROFILE, seccompVerdict, syscallTable, toOciSeccomp } from "../src/spec/seccomp.ts";
import {
  PRECEDENCE,
  ruleMatches,
  seccompVerdictOracle,
  toOciSeccompOracle,
} from "../tests/oracles/seccomp.ts";
import type { OciSeccomp } from "../src/spec/oci.ts";
import { DEFAULT_CAPABILITIES } from "../src/spec/capabilities.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 5 : 31;
const ROUND_MS = quick ? 50 : 100;

let sink = 0;

/** ops/s of f over about ms milliseconds; f does `batch` operations per call. */
function measure(f: () => void, batch: number, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) f();
    n += 16;
    now = performance.now();
  }
  return (n * batch) / ((now - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Row {
  name: string;
  ts: number;
  wasm: number;
  /** WASM/TS per round */
  ratios: number[];
  /** a TS variant with the WASM module's algorithm, where the algorithms differ */
  tsSameAlgorithm?: number;
  /** WASM / that variant, per round */
  sameRatios?: number[];
}
const rows: Row[] = [];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function pair(name: string, ts: () => void, wasm: () => void, batch = 1, tsSame?: () => void): void {
  // warm up all (JIT tiers, WASM tier-up)
  measure(ts, batch, 100);
  measure(wasm, batch, 100);
  if (tsSame) measure(tsSame, batch, 100);
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const ratios: number[] = [];
  const sameRatios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let x: number, y: number;
    if (r % 2) {
      y = measure(wasm, batch, ROUND_MS);
      x = measure(ts, batch, ROUND_MS);
    } else {
      x = measure(ts, batch, ROUND_MS);
      y = measure(wasm, batch, ROUND_MS);
    }
    a.push(x);
    b.push(y);
    ratios.push(y / x);
    if (tsSame) {
      const z = measure(tsSame, batch, ROUND_MS);
      c.push(z);
      sameRatios.push(y / z);
    }
  }
  rows.push({
    name,
    ts: median(a),
    wasm: median(b),
    ratios,
    tsSameAlgorithm: tsSame ? median(c) : undefined,
    sameRatios: tsSame ? sameRatios : undefined,
  });
}

// --- stats ------------------------------------------------------------------------------------------
// 64 sample pairs with different figures, cycled: neither side can fold a constant input.
const PAIRS: [StatsSample, StatsSample][] = Array.from({ length: 64 }, (_, i) => {
  const prev: StatsSample = {
    timeNs: 1e12 + i * 1e9,
    cpuTotalNs: 5e11 + i * 7e8,
    cpuUserNs: 3e11 + i * 4e8,
    cpuSystemNs: 2e11 + i * 3e8,
    throttledPeriods: i,
    throttledTimeNs: i * 1000,
    memRss: 1e8 + i * 4096,
    memCache: 2e7 + i * 4096,
    memUsage: 1.3e8 + i * 8192,
    memMaxUsage: 1.5e8,
    memSwap: 0,
    memKernel: 3e6 + i,
    memKernelMax: 4e6,
    cgroupVersion: 1 + (i % 2),
  };
  const cur: StatsSample = {
    ...prev,
    timeNs: prev.timeNs + 1e9 + i * 1e5,
    cpuTotalNs: prev.cpuTotalNs + 4e8 + i * 1e6,
    cpuUserNs: prev.cpuUserNs + 3e8,
    cpuSystemNs: prev.cpuSystemNs + 1e8,
    memRss: prev.memRss + i * 4096,
  };
  return [prev, cur];
});
let k = 0;
pair(
  "stats: statsDelta (64 sample pairs, cycled)",
  () => {
    const [p, c] = PAIRS[k++ & 63];
    sink += statsDeltaOracle(p, c, 2400).cpuPercent;
  },
  () => {
    const [p, c] = PAIRS[k++ & 63];
    sink += statsDelta(p, c, 2400).cpuPercent;
  },
);

// --- imageref ---------------------------------------------------------------------------------------
const REFS = [
  "busybox",
  "redis:7",
  "docker.io/library/debian:bookworm",
  "ghcr.io/hashicorp/nomad:1.6.3",
  "127.0.0.1:5000/cdrv/busybox:1",
  `alpine@sha256:${"f".repeat(64)}`,
  "registry.k8s.io/pause:3.9",
  "Uppercase:tag",
];
pair(
  `imageref: parseReference (mix of ${REFS.length} refs, 1 invalid)`,
  () => {
    for (const r of REFS) {
      try {
        sink += parseReferenceOracle(r).path.length;
      } catch {
        sink++;
      }
    }
  },
  () => {
    for (const r of REFS) {
      try {
        sink += parseReference(r).path.length;
      } catch {
        sink++;
      }
    }
  },
  REFS.length,
);
pair(
  "imageref: parseReference (valid only)",
  () => {
    for (let i = 0; i < 7; i++) sink += parseReferenceOracle(REFS[i]).path.length;
  },
  () => {
    for (let i = 0; i < 7; i++) sink += parseReference(REFS[i]).path.length;
  },
  7,
);

// --- seccomp ----------------------------------------------------------------------------------------
const target = { arch: "amd64", kernel: "6.1.0-18-amd64", capabilities: DEFAULT_CAPABILITIES };
pair(
  "seccomp: toOciSeccomp (moby default profile)",
  () => (sink += toOciSeccompOracle(DEFAULT_PROFILE, target)!.syscalls!.length),
  () => (sink += toOciSeccomp(DEFAULT_PROFILE, target)!.syscalls!.length),
);
const section = toOciSeccompOracle(DEFAULT_PROFILE, target)!;
const table = syscallTable("amd64")!;
const NAMES = ["getpid", "mount", "clone", "socket", "kexec_load", "personality", "read", "ptrace"];
const NUMBERS = NAMES.map((n) => table[n]);
// The WASM evaluator wins mostly by its algorithm (rules indexed by syscall once per section), not by
// being WASM: this TS variant does the same, so the last column separates the two.
function indexRules(s: OciSeccomp): Map<string, number[]> {
  const m = new Map<string, number[]>();
  (s.syscalls ?? []).forEach((r, i) => {
    for (const n of new Set(r.names)) m.set(n, [...(m.get(n) ?? []), i]);
  });
  return m;
}
const byName = indexRules(section);
function indexedAction(name: string, args: number[]): string {
  let best = -1;
  let bestPrec = -1;
  for (const i of byName.get(name) ?? []) {
    const r = section.syscalls![i];
    if (!ruleMatches(r, args)) continue;
    const p = PRECEDENCE[r.action] ?? 0;
    if (best < 0 || p > bestPrec) [best, bestPrec] = [i, p];
  }
  return best < 0 ? section.defaultAction : section.syscalls![best].action;
}
pair(
  "seccomp: seccompVerdict by name (8 calls)",
  () => {
    for (const n of NAMES) sink += seccompVerdictOracle(section, n, [0x10000000]).action.length;
  },
  () => {
    for (const n of NAMES) sink += seccompVerdict(section, n, [0x10000000]).action.length;
  },
  NAMES.length,
  () => {
    for (const n of NAMES) sink += indexedAction(n, [0x10000000]).length;
  },
);
pair(
  "seccomp: seccompVerdict by number (8 calls)",
  () => {
    for (const n of NUMBERS) sink += seccompVerdictOracle(section, n, [2]).action.length;
  },
  () => {
    for (const n of NUMBERS) sink += seccompVerdict(section, n, [2]).action.length;
  },
  NUMBERS.length,
);

// --- report -----------------------------------------------------------------------------------------
const fmt = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
const w = Math.max(...rows.map((r) => r.name.length));
console.log(
  `${"module / function".padEnd(w)}  ${"TS ops/s".padStart(10)}  ${"WASM ops/s".padStart(10)}  WASM/TS` +
    "   (p5–p95 of the rounds' ratios)   (TS with the WASM algorithm: ops/s, WASM/that)",
);
for (const r of rows) {
  const same = r.tsSameAlgorithm === undefined
    ? ""
    : `   (${fmt(r.tsSameAlgorithm)}, ${median(r.sameRatios!).toFixed(2)}×)`;
  const ratio = median(r.ratios).toFixed(2);
  const spread = `${quantile(r.ratios, 0.05).toFixed(2)}–${quantile(r.ratios, 0.95).toFixed(2)}`;
  console.log(
    `${r.name.padEnd(w)}  ${fmt(r.ts).padStart(10)}  ${
      fmt(r.wasm).padStart(10)
    }  ${ratio}×   (${spread})${same}`,
  );
}
console.log(
  `(deno ${Deno.version.deno}, v8 ${Deno.version.v8}; median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; sink ${
    sink > 0
  })`,
);
