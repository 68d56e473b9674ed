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
import { newStatsState, statsFromMetrics, type StatsSample } from "../src/wasm/stats.ts";
import { statsFromMetricsOracle } from "../tests/oracles/stats.ts";
import { METRICS_V1_TYPE, METRICS_V2_TYPE } from "../src/containerd/metrics.ts";
import { Metrics as MetricsV1 } from "../src/gen/containerd/cgroups/v1/metrics.ts";
import { Metrics as MetricsV2 } from "../src/gen/containerd/cgroups/v2/metrics.ts";
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
// The pipeline as the plugin runs it: the raw Metrics bytes containerd returns + the previous sample →
// Nomad's figures. 64 realistic payloads, cgroup v1 and v2 alternating, 2–64 CPUs (v1 lists per-CPU
// usage), cycled: neither side can fold a constant input. TS = the oracle (ts-proto decode with bigints,
// then the TS delta); WASM = statsFromMetrics (protobuf walk + delta in one call).
const u = (x: number) => BigInt(Math.round(x));
function payloadV1(i: number, t: number): Uint8Array {
  const cpus = 2 + (i * 7) % 63;
  const entry = (op: string, v: number) => ({ op, device: "", major: 8n, minor: u(i % 4), value: u(v) });
  const blk = ["Read", "Write", "Sync", "Async", "Total"].map((op, k) => entry(op, (k + 1) * 1e6 * (t + 1)));
  return MetricsV1.encode(MetricsV1.fromPartial({
    pids: { current: u(3 + i % 40), limit: 4096n },
    cpu: {
      usage: {
        total: u(5e11 + t * (4e8 + i * 1e6)),
        kernel: u(2e11 + t * 1e8),
        user: u(3e11 + t * 3e8),
        perCpu: Array.from({ length: cpus }, (_, c) => u((5e11 + t * 4e8) / cpus + c * 1e6)),
      },
      throttling: { periods: u(1e4 + t * 10), throttledPeriods: u(i + t), throttledTime: u((i + t) * 1e6) },
    },
    memory: {
      cache: u(2e7 + i * 4096),
      rss: u(1e8 + t * 4096),
      rssHuge: 2097152n,
      mappedFile: u(5e6),
      pgPgIn: u(1e6 + t),
      pgPgOut: u(9e5 + t),
      pgFault: u(3e6 + t * 100),
      pgMajFault: u(120 + i),
      inactiveAnon: u(4e6),
      activeAnon: u(9e7),
      inactiveFile: u(1e7),
      activeFile: u(1e7),
      hierarchicalMemoryLimit: 2n ** 63n - 4096n,
      hierarchicalSwapLimit: 2n ** 63n - 4096n,
      totalCache: u(2e7 + i * 4096),
      totalRss: u(1e8 + t * 4096),
      totalRssHuge: 2097152n,
      totalMappedFile: u(5e6),
      totalPgPgIn: u(1e6 + t),
      totalPgPgOut: u(9e5 + t),
      totalPgFault: u(3e6 + t * 100),
      totalPgMajFault: u(120 + i),
      totalInactiveAnon: u(4e6),
      totalActiveAnon: u(9e7),
      totalInactiveFile: u(1e7),
      totalActiveFile: u(1e7),
      usage: { limit: 268435456n, usage: u(1.3e8 + i * 8192), max: u(1.5e8), failcnt: 0n },
      swap: { limit: 536870912n, usage: u(1.3e8 + i * 8192 + (i % 3) * 4096), max: u(1.5e8) },
      kernel: { limit: 2n ** 63n - 4096n, usage: u(3e6 + i), max: u(4e6) },
      kernelTcp: { limit: 2n ** 63n - 4096n },
    },
    blkio: { ioServiceBytesRecursive: blk, ioServicedRecursive: blk },
    memoryOomControl: { oomKillDisable: 0n, underOom: 0n, oomKill: u(i % 2) },
  })).finish();
}
function payloadV2(i: number, t: number): Uint8Array {
  return MetricsV2.encode(MetricsV2.fromPartial({
    pids: { current: u(3 + i % 40), limit: 4096n },
    cpu: {
      usageUsec: u(5e8 + t * (4e5 + i * 1e3)),
      userUsec: u(3e8 + t * 3e5),
      systemUsec: u(2e8 + t * 1e5),
      nrPeriods: u(1e4 + t * 10),
      nrThrottled: u(i + t),
      throttledUsec: u((i + t) * 1e3),
    },
    memory: {
      anon: u(1e8 + t * 4096),
      file: u(2e7 + i * 4096),
      kernelStack: u(49152 + i * 16384),
      slab: u(6e5 + i),
      sock: 0n,
      shmem: 4096n,
      fileMapped: u(5e6),
      fileDirty: 8192n,
      anonThp: 2097152n,
      inactiveAnon: u(4e6),
      activeAnon: u(9e7),
      inactiveFile: u(1e7),
      activeFile: u(1e7),
      slabReclaimable: u(4e5),
      slabUnreclaimable: u(2e5),
      pgfault: u(3e6 + t * 100),
      pgmajfault: u(120 + i),
      workingsetRefault: u(10 + i),
      pgrefill: u(100),
      pgscan: u(200),
      pgsteal: u(150),
      usage: u(1.3e8 + i * 8192),
      usageLimit: 268435456n,
      swapUsage: u((i % 3) * 4096),
      swapLimit: 536870912n,
    },
    io: {
      usage: [{
        major: 8n,
        minor: u(i % 4),
        rbytes: u(1e6 * (t + 1)),
        wbytes: u(2e6 * (t + 1)),
        rios: 40n,
        wios: 80n,
      }],
    },
    hugetlb: [{ current: 0n, max: 0n, pagesize: "2MB" }, { current: 0n, max: 0n, pagesize: "1GB" }],
    memoryEvents: { low: 0n, high: 0n, max: u(i % 5), oom: u(i % 2), oomKill: u(i % 2) },
  })).finish();
}
interface StatsCase {
  kind: 1 | 2;
  typeUrl: string;
  bytes: Uint8Array;
  timeNs: number;
  prevTs: StatsSample;
  prevWasm: Float64Array;
  /** the WASM side's state: the previous sample, copied in before each call (it is overwritten) */
  state: Float64Array;
}
const STATS: StatsCase[] = Array.from({ length: 64 }, (_, i) => {
  const kind = (1 + (i % 2)) as 1 | 2;
  const typeUrl = kind === 1 ? METRICS_V1_TYPE : METRICS_V2_TYPE;
  const encode = kind === 1 ? payloadV1 : payloadV2;
  const t0 = 1e18 + i * 1e12;
  const prev = newStatsState();
  statsFromMetrics(kind, encode(i, 0), t0, prev, 2400);
  return {
    kind,
    typeUrl,
    bytes: encode(i, 1),
    timeNs: t0 + 1e9 + i * 1e5,
    prevTs: statsFromMetricsOracle(typeUrl, encode(i, 0), t0, undefined, 2400)!.sample,
    prevWasm: prev,
    state: newStatsState(),
  };
});
const statsBytes = STATS.reduce((n, c) => n + c.bytes.length, 0) / STATS.length;
let k = 0;
pair(
  `stats: Metrics bytes → figures (64 v1/v2 payloads, ${Math.round(statsBytes)} B avg, cycled)`,
  () => {
    const c = STATS[k++ & 63];
    sink += statsFromMetricsOracle(c.typeUrl, c.bytes, c.timeNs, c.prevTs, 2400)!.result.cpuPercent;
  },
  () => {
    const c = STATS[k++ & 63];
    c.state.set(c.prevWasm); // the plugin's state would hold the previous sample: 14 numbers, one copy
    sink += statsFromMetrics(c.kind, c.bytes, c.timeNs, c.state, 2400).result.cpuPercent;
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
