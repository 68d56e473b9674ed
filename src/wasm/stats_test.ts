// Stats from raw cgroup Metrics as the plugin computes them (WASM: protobuf walk + delta in one call):
// worked examples, errors on malformed bytes, and differential tests against the TypeScript oracle
// (ts-proto decode in tests/oracles/metrics.ts + delta in tests/oracles/stats.ts) that demand the very
// same f64 values.
import fc from "fast-check";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { type MetricsStatsOracle, statsFromMetricsOracle } from "../../tests/oracles/stats.ts";
import * as v1 from "../gen/containerd/cgroups/v1/metrics.ts";
import * as v2 from "../gen/containerd/cgroups/v2/metrics.ts";
import {
  MetricsDecodeError,
  type MetricsStats,
  newStatsState,
  RESULT_FIELDS,
  SAMPLE_FIELDS,
  statsFromMetrics,
  type StatsSample,
} from "./stats.ts";

const TYPE_URL = { 1: "io.containerd.cgroups.v1.Metrics", 2: "io.containerd.cgroups.v2.Metrics" } as const;
type Kind = 1 | 2;

const encodeV1 = (m: v1.DeepPartial<v1.Metrics>) => v1.Metrics.encode(v1.Metrics.fromPartial(m)).finish();
const encodeV2 = (m: v2.DeepPartial<v2.Metrics>) => v2.Metrics.encode(v2.Metrics.fromPartial(m)).finish();

/** statsFromMetrics on a copy of `prev` (a fresh state without one): the sample comes back beside the figures. */
function wasm(kind: Kind, bytes: Uint8Array, t: number, prev: Float64Array | undefined, m: number): Wasm {
  const state = prev ? prev.slice() : newStatsState();
  return { ...statsFromMetrics(kind, bytes, t, state, m), sample: state };
}
type Wasm = MetricsStats & { sample: Float64Array };

/** The sample's numbers by name. */
const named = (a: Float64Array): StatsSample =>
  Object.fromEntries(SAMPLE_FIELDS.map((k, i) => [k, a[i]])) as unknown as StatsSample;

// --- worked examples --------------------------------------------------------------------------------

// Values recorded from a cgroup v2 host's cpu.stat / memory.stat / memory.events for a busy container
// (microseconds for CPU, as the kernel reports them).
const V2_RECORDED = {
  cpu: {
    usageUsec: 4_170_512n,
    userUsec: 3_921_330n,
    systemUsec: 249_182n,
    nrPeriods: 412n,
    nrThrottled: 37n,
    throttledUsec: 1_804_377n,
  },
  memory: {
    anon: 63_012_864n,
    file: 1_216_512n,
    fileMapped: 405_504n,
    usage: 66_088_960n,
    usageLimit: 268_435_456n,
    swapUsage: 4096n,
    kernelStack: 49_152n,
    slab: 612_352n,
  },
  memoryEvents: { low: 0n, high: 0n, max: 3n, oom: 1n, oomKill: 1n },
};

Deno.test("cgroup v2: CPU microseconds become nanoseconds (the Go driver's 1000× bug), kernel = stack + slab", () => {
  const s = wasm(2, encodeV2(V2_RECORDED), 42, undefined, 2400);
  assertEquals(s.cgroupVersion, 2);
  assertEquals(s.oomKills, 1);
  assertEquals(named(s.sample), {
    timeNs: 42,
    cpuTotalNs: 4_170_512_000,
    cpuUserNs: 3_921_330_000,
    cpuSystemNs: 249_182_000,
    throttledPeriods: 37,
    throttledTimeNs: 1_804_377_000,
    memRss: 63_012_864,
    memCache: 1_216_512,
    memUsage: 66_088_960,
    memMaxUsage: 0,
    memSwap: 4096,
    memKernel: 49_152 + 612_352,
    memKernelMax: 0,
    cgroupVersion: 2,
  });
  // the first sample: no percentages, the rest passed through
  assertEquals([s.result.cpuPercent, s.result.cpuTotalTicks], [0, 0]);
  assertEquals([s.result.throttledTimeNs, s.result.memKernel, s.result.memSwap], [
    1_804_377_000,
    661_504,
    4096,
  ]);
});

Deno.test("cgroup v2: CPU percent over two samples, ticks from MHz", () => {
  const a = wasm(2, encodeV2(V2_RECORDED), 1e9, undefined, 2400);
  const cpu = { ...V2_RECORDED.cpu, usageUsec: 4_170_512n + 3_000_000n, userUsec: 3_921_330n + 2_000_000n };
  const b = wasm(2, encodeV2({ ...V2_RECORDED, cpu }), 3e9, a.sample, 2400);
  assertEquals(b.result.cpuPercent, 150); // 3 s of CPU in 2 s
  assertEquals(b.result.cpuUserPercent, 100);
  assertEquals(b.result.cpuSystemPercent, 0);
  assertEquals(b.result.cpuTotalTicks, 3600);
});

const V1_RECORDED = {
  cpu: {
    usage: {
      total: 9_000_000_000n,
      kernel: 1_000_000_000n,
      user: 8_000_000_000n,
      perCpu: [4_500_000_000n, 4_500_000_000n],
    },
    throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n },
  },
  memory: {
    cache: 1n,
    rss: 2n,
    totalRss: 1000n,
    totalCache: 2000n,
    usage: { usage: 4000n, max: 5000n, limit: 1n << 62n },
    swap: { usage: 4500n, max: 6000n },
    kernel: { usage: 77n, max: 88n },
  },
  memoryOomControl: { oomKill: 2n, underOom: 1n },
};

Deno.test("cgroup v1: nanoseconds kept, swap is memsw minus usage, kernel memory, OOM counter", () => {
  const s = wasm(1, encodeV1(V1_RECORDED), 7, undefined, 1000);
  assertEquals(s.cgroupVersion, 1);
  assertEquals(s.oomKills, 2);
  assertEquals(named(s.sample), {
    timeNs: 7,
    cpuTotalNs: 9e9,
    cpuUserNs: 8e9,
    cpuSystemNs: 1e9,
    throttledPeriods: 2,
    throttledTimeNs: 5000,
    memRss: 1000,
    memCache: 2000,
    memUsage: 4000,
    memMaxUsage: 5000,
    memSwap: 500,
    memKernel: 77,
    memKernelMax: 88,
    cgroupVersion: 1,
  });
  // memsw below usage (racy reads of two files): no negative swap
  const low = wasm(
    1,
    encodeV1({ memory: { usage: { usage: 4000n }, swap: { usage: 3000n } } }),
    7,
    undefined,
    1,
  );
  assertEquals(low.sample[SAMPLE_FIELDS.indexOf("memSwap")], 0);
});

Deno.test("cgroup v1: a counter reset and the first sample give 0 %, never negative", () => {
  const a = wasm(1, encodeV1(V1_RECORDED), 5e9, undefined, 1000);
  assertEquals(a.result.cpuPercent, 0);
  const b = wasm(1, encodeV1({ cpu: { usage: { total: 1n } } }), 6e9, a.sample, 1000);
  assertEquals([b.result.cpuPercent, b.result.cpuUserPercent, b.result.cpuSystemPercent], [0, 0, 0]);
  // a previous sample of all zeros counts as none
  assertEquals(
    statsFromMetrics(1, encodeV1(V1_RECORDED), 6e9, new Float64Array(14), 1000).result.cpuPercent,
    0,
  );
});

Deno.test("empty payloads are all-zero samples; the doc example's hand-written bytes", () => {
  for (const kind of [1, 2] as const) {
    const s = wasm(kind, new Uint8Array(), 1, undefined, 1);
    assertEquals([...s.sample], [1, ...new Array(12).fill(0), kind]);
    assertEquals(s.oomKills, 0);
  }
  const first = wasm(2, new Uint8Array(), 1, undefined, 2000);
  const bytes = new Uint8Array([0x12, 0x04, 0x08, 0xa0, 0xc2, 0x1e]); // cpu { usage_usec: 500000 }
  assertEquals(wasm(2, bytes, 1e9 + 1, first.sample, 2000).result.cpuPercent, 50);
});

Deno.test("per_cpu packed and unpacked, unknown fields of every wire type, groups: skipped", () => {
  // CPUUsage { total: 300, per_cpu: 1, 2 (unpacked), group 77 { 5: fixed32 }, user: 200 }
  const usage = new BinaryWriter().tag(1, 0).uint64(300n).tag(4, 0).uint64(1n).tag(4, 0).uint64(2n)
    .tag(77, 3).tag(5, 5).fixed32(9).tag(6, 3).tag(6, 4).tag(77, 4)
    .tag(99, 1).fixed64(123n).tag(3, 0).uint64(200n).finish();
  const w = new BinaryWriter().tag(1000, 2).bytes(new Uint8Array([0xff, 0xff]));
  w.tag(3, 2).fork().tag(1, 2).bytes(usage).join(); // cpu { usage }
  w.tag(3, 0).uint64(5n); // field 3 (cpu) with the wrong wire type: unknown, like ts-proto
  const bytes = w.finish();
  const s = wasm(1, bytes, 1, undefined, 1);
  assertEquals([s.sample[1], s.sample[2]], [300, 200]);
  same(s, statsFromMetricsOracle(TYPE_URL[1], bytes, 1, undefined, 1)!);
});

Deno.test("a message field given twice: the second replaces the first (as ts-proto decodes it)", () => {
  const bytes = new Uint8Array([
    ...encodeV1({ cpu: { usage: { total: 5n, user: 4n }, throttling: { throttledTime: 3n } } }),
    ...encodeV1({ cpu: { usage: { kernel: 9n } } }),
  ]);
  const s = wasm(1, bytes, 1, undefined, 1);
  assertEquals([...s.sample.subarray(1, 6)], [0, 0, 9, 0, 0]);
  same(s, statsFromMetricsOracle(TYPE_URL[1], bytes, 1, undefined, 1)!);
});

Deno.test("u64 figures round like Number(bigint): 2^53 + 1, 2^64 - 1", () => {
  const bytes = encodeV2({
    memory: { anon: 2n ** 53n + 1n, file: 2n ** 64n - 1n, usage: 2n ** 64n - 1025n },
  });
  const s = named(wasm(2, bytes, 1, undefined, 1).sample);
  assertEquals([s.memRss, s.memCache, s.memUsage], [2 ** 53, 2 ** 64, Number(2n ** 64n - 1025n)]);
});

// --- malformed input --------------------------------------------------------------------------------

Deno.test("malformed bytes: an error that says what and where, never a figure", () => {
  const cases: [Kind, number[], string][] = [
    [2, [0x12, 0x05, 0x08, 0x01], "a field runs past the end of its message at byte 0"],
    [2, [0x12, 0x02, 0x08, 0x80, 0x08, 0x01], "a field runs past the end of its message at byte 2"],
    [1, [0x08], "a field runs past the end of its message at byte 0"],
    [1, [0x08, ...new Array(10).fill(0xff), 0x01], "a varint is longer than 10 bytes at byte 0"],
    [1, [0x00, 0x01], "a tag has field number 0 or does not fit in 32 bits at byte 0"],
    [
      2,
      [0x08, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10],
      "a tag has field number 0 or does not fit in 32 bits at byte 2",
    ],
    [1, [0x0e], "a tag has wire type 6 or 7, or ends a group that was not started at byte 0"],
    [1, [0x0c], "a tag has wire type 6 or 7, or ends a group that was not started at byte 0"],
    [1, [0x0b, 0x14], "an end-group tag does not match its start-group tag at byte 1"],
    [1, [0x0b, 0x08, 0x01], "a field runs past the end of its message at byte 3"],
    [
      1,
      [...new Array(101).fill(0x0b), ...new Array(101).fill(0x0c)],
      "groups are nested more than 100 deep at byte 100",
    ],
  ];
  for (const [kind, bytes, msg] of cases) {
    const e = assertThrows(
      () => statsFromMetrics(kind, new Uint8Array(bytes), 1, undefined, 1),
      MetricsDecodeError,
    );
    assertEquals(e.message, `cgroup v${kind} metrics (${bytes.length} bytes) are not valid protobuf: ${msg}`);
  }
  // 100 nested groups are fine (as for the oracle's reader)
  const deep = [...new Array(100).fill(0x0b), ...new Array(100).fill(0x0c)];
  same(
    wasm(1, new Uint8Array(deep), 1, undefined, 1),
    statsFromMetricsOracle(TYPE_URL[1], new Uint8Array(deep), 1, undefined, 1)!,
  );
  assertThrows(
    () => statsFromMetrics(3 as Kind, new Uint8Array(), 1, undefined, 1),
    RangeError,
    "neither 1 nor 2",
  );
  assertThrows(
    () => statsFromMetrics(1, new Uint8Array(), 1, new Float64Array(13), 1),
    RangeError,
    "not 13",
  );
});

// --- WASM == oracle ---------------------------------------------------------------------------------

function same(got: MetricsStats & { sample?: Float64Array }, want: MetricsStatsOracle, context = ""): void {
  const diff = [
    ...RESULT_FIELDS.filter((k) => !Object.is(got.result[k], want.result[k])).map((k) => `result.${k}`),
    ...SAMPLE_FIELDS.filter((k, i) => got.sample && !Object.is(got.sample[i], want.sample[k])).map((k) =>
      `sample.${k}`
    ),
    ...(Object.is(got.oomKills, want.oomKills) ? [] : ["oomKills"]),
    ...(got.cgroupVersion === want.cgroupVersion ? [] : ["cgroupVersion"]),
  ];
  assert(
    diff.length === 0,
    `${diff.join(", ")} differ${context}\n  ts:   ${JSON.stringify(want)}\n  wasm: ${
      JSON.stringify({ ...got, sample: got.sample && named(got.sample) })
    }`,
  );
}

const u64 = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 42n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0n,
      1n,
      2n ** 53n - 1n,
      2n ** 53n + 1n,
      2n ** 63n,
      2n ** 64n - 1025n,
      2n ** 64n - 1n,
    ),
  },
);
const u32 = fc.nat({ max: 2 ** 32 - 1 });
const str = fc.string({ maxLength: 12, unit: "binary" });

/** fc.record over a message's scalar fields (bigint, number, string), any of them absent. */
function scalars<T extends object>(template: T): fc.Arbitrary<Partial<T>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(template)) {
    if (typeof v === "bigint") model[k] = u64;
    else if (typeof v === "number") model[k] = u32;
    else if (typeof v === "string") model[k] = str;
  }
  return fc.record(model, { requiredKeys: [] }) as unknown as fc.Arbitrary<Partial<T>>;
}
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const list = <T>(a: fc.Arbitrary<T>, maxLength = 4) => fc.array(a, { maxLength });

const memEntryV1 = scalars(v1.MemoryEntry.fromPartial({}));
const blkioEntries = list(scalars(v1.BlkIOEntry.fromPartial({})), 3);
const metricsV1 = fc.record({
  hugetlb: list(scalars(v1.HugetlbStat.fromPartial({}))),
  pids: opt(scalars(v1.PidsStat.fromPartial({}))),
  cpu: opt(fc.record({
    usage: opt(fc.record({
      total: opt(u64),
      kernel: opt(u64),
      user: opt(u64),
      perCpu: fc.array(u64, { minLength: 0, maxLength: 64 }),
    })),
    throttling: opt(scalars(v1.Throttle.fromPartial({}))),
  })),
  memory: opt(
    fc.tuple(
      scalars(v1.MemoryStat.fromPartial({})),
      opt(memEntryV1),
      opt(memEntryV1),
      opt(memEntryV1),
      opt(memEntryV1),
    ).map(
      ([m, usage, swap, kernel, kernelTcp]) => ({ ...m, usage, swap, kernel, kernelTcp }),
    ),
  ),
  blkio: opt(fc.record({
    ioServiceBytesRecursive: blkioEntries,
    ioServicedRecursive: blkioEntries,
    ioQueuedRecursive: blkioEntries,
    ioTimeRecursive: blkioEntries,
    sectorsRecursive: blkioEntries,
  }, { requiredKeys: [] })),
  rdma: opt(
    fc.record({
      current: list(scalars(v1.RdmaEntry.fromPartial({}))),
      limit: list(scalars(v1.RdmaEntry.fromPartial({}))),
    }),
  ),
  network: list(scalars(v1.NetworkStat.fromPartial({}))),
  cgroupStats: opt(scalars(v1.CgroupStats.fromPartial({}))),
  memoryOomControl: opt(scalars(v1.MemoryOomControl.fromPartial({}))),
}, { requiredKeys: [] }).map((m) => encodeV1(m as v1.DeepPartial<v1.Metrics>));

const metricsV2 = fc.record({
  pids: opt(scalars(v2.PidsStat.fromPartial({}))),
  cpu: opt(scalars(v2.CPUStat.fromPartial({}))),
  memory: opt(scalars(v2.MemoryStat.fromPartial({}))),
  rdma: opt(
    fc.record({
      current: list(scalars(v2.RdmaEntry.fromPartial({}))),
      limit: list(scalars(v2.RdmaEntry.fromPartial({}))),
    }),
  ),
  io: opt(fc.record({ usage: list(scalars(v2.IOEntry.fromPartial({})), 8) })),
  hugetlb: list(scalars(v2.HugeTlbStat.fromPartial({}))),
  memoryEvents: opt(scalars(v2.MemoryEvents.fromPartial({}))),
}, { requiredKeys: [] }).map((m) => encodeV2(m as v2.DeepPartial<v2.Metrics>));

/** The message fields the module descends into (by tag), per version: unknown fields go in there too. */
type Tree = { [tag: number]: Tree };
const TREE: Record<Kind, Tree> = {
  1: { 26: { 10: {}, 18: {} }, 34: { 266: {}, 274: {}, 282: {}, 290: {} }, 74: {}, 10: {} },
  2: { 18: {}, 34: {}, 66: {}, 50: { 10: {} } },
};

/** mulberry32: the placement and content of unknown fields from one fast-check integer. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * One unknown field: a field number no message here has (≥ 40), or a known one with a wire type none of
 * the known fields use (fixed64, fixed32, group), which ts-proto skips too.
 */
function unknownField(w: BinaryWriter, rnd: () => number, depth = 0): void {
  const wt = [0, 1, 2, 5, 3][Math.floor(rnd() * (depth < 3 ? 5 : 4))];
  const r = rnd();
  const no = r < 0.05
    ? 2 ** 29 - 1
    : wt === 0 || wt === 2 || r < 0.5
    ? 40 + Math.floor(rnd() * 3000)
    : 1 + Math.floor(rnd() * 39);
  w.tag(no, wt);
  if (wt === 0) {
    w.uint64(BigInt.asUintN(64, BigInt(Math.floor(rnd() * 2 ** 53)) << BigInt(Math.floor(rnd() * 12))));
  } else if (wt === 1) w.fixed64(BigInt(Math.floor(rnd() * 2 ** 53)));
  else if (wt === 5) w.fixed32(Math.floor(rnd() * 2 ** 32));
  else if (wt === 2) {
    w.bytes(Uint8Array.from({ length: Math.floor(rnd() * 24) }, () => Math.floor(rnd() * 256)));
  } else {
    for (let n = Math.floor(rnd() * 3); n > 0; n--) unknownField(w, rnd, depth + 1);
    w.tag(no, 4);
  }
}

/** Re-frames `bytes` with unknown fields between (and before, after) the fields, at every level of `tree`. */
function withUnknowns(bytes: Uint8Array, tree: Tree, rnd: () => number): Uint8Array {
  const r = new BinaryReader(bytes);
  const w = new BinaryWriter();
  const some = () => {
    while (rnd() < 0.3) unknownField(w, rnd);
  };
  some();
  while (r.pos < r.len) {
    const start = r.pos;
    const [no, wt] = r.tag();
    const sub = tree[(no << 3) | wt];
    if (sub) w.tag(no, wt).bytes(withUnknowns(r.bytes(), sub, rnd));
    else {
      r.skip(wt, no);
      w.raw(bytes.subarray(start, r.pos));
    }
    some();
  }
  return w.finish();
}

/** The top-level field boundaries of a valid payload: where a cut leaves a valid (shorter) message. */
function boundaries(bytes: Uint8Array): Set<number> {
  const r = new BinaryReader(bytes);
  const out = new Set([0]);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    r.skip(wt, no);
    out.add(r.pos);
  }
  return out;
}

const time = fc.oneof(
  fc.double({ min: 0, max: 2e18, noNaN: true }),
  fc.constantFrom(0, -0, 1, 1.7e18),
  fc.double(), // NaN, ±Infinity, negative: what a caller's clock should never give, computed alike
);
const mhz = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.double());

/** A payload of either version with unknown fields, sometimes followed by a second one (merged). */
const payload = fc.constantFrom<Kind>(1, 2).chain((kind) =>
  fc.tuple(
    fc.constant(kind),
    kind === 1 ? metricsV1 : metricsV2,
    opt(kind === 1 ? metricsV1 : metricsV2),
    fc.integer(),
    fc.boolean(),
  ).map(([kind, a, b, seed, plain]) => {
    const bytes = b && seed % 4 === 0 ? new Uint8Array([...a, ...b]) : a;
    return { kind, bytes: plain ? bytes : withUnknowns(bytes, TREE[kind], prng(seed)) };
  })
);

function check(
  kind: Kind,
  bytes: Uint8Array,
  t: number,
  prev: [Float64Array, StatsSample] | undefined,
  m: number,
  stateless = false,
): Wasm {
  const want = statsFromMetricsOracle(TYPE_URL[kind], bytes, t, prev?.[1], m)!;
  if (stateless) same(statsFromMetrics(kind, bytes, t, undefined, m), want); // no state: no previous sample
  const got = wasm(kind, bytes, t, prev?.[0], m);
  same(got, want, ` for v${kind} ${bytes.length} bytes ${JSON.stringify([...bytes])}`);
  return got;
}

Deno.test("statsFromMetrics == oracle: random v1/v2 Metrics with unknown fields, sample pairs, 3000 cases", () => {
  fc.assert(
    fc.property(payload, payload, time, time, mhz, fc.boolean(), (p, c, t0, t1, m, first) => {
      const a = check(p.kind, p.bytes, t0, undefined, m, first);
      if (p.kind !== c.kind) return;
      check(c.kind, c.bytes, first ? t1 : t0 + t1, [a.sample, named(a.sample)], m);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("statsFromMetrics == oracle: a cut at a field boundary is a shorter valid payload, anywhere else an error", () => {
  fc.assert(
    fc.property(payload, (p) => {
      const ok = boundaries(p.bytes);
      for (let n = 0; n <= p.bytes.length; n++) {
        const cut = p.bytes.subarray(0, n);
        if (ok.has(n)) check(p.kind, cut, 1, undefined, 1);
        else assertThrows(() => statsFromMetrics(p.kind, cut, 1, undefined, 1), MetricsDecodeError);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("statsFromMetrics: corrupted payloads give a MetricsDecodeError or figures, never a trap", () => {
  fc.assert(
    fc.property(
      payload,
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
      (p, flips) => {
        const bytes = p.bytes.slice();
        if (bytes.length === 0) return;
        for (const [i, b] of flips) bytes[i % bytes.length] = b;
        const state = newStatsState().fill(7);
        try {
          statsFromMetrics(p.kind, bytes, 1, state, 1);
          assert(state[0] === 1, "the state holds the current sample");
        } catch (e) {
          if (!(e instanceof MetricsDecodeError)) throw e;
          assert(state.every((x) => x === 7), "the state is unchanged after an error");
        }
        // the module's state is clean for the next call
        check(p.kind, p.bytes, 1, undefined, 1);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("statsFromMetrics == oracle: a payload larger than the module's memory (it grows)", () => {
  const hugetlb = Array.from({ length: 12_000 }, (_, i) => ({ usage: BigInt(i) << 40n, pagesize: "2MB" }));
  const bytes = encodeV1({ ...V1_RECORDED, hugetlb });
  assert(bytes.length > 2 * 65536, `${bytes.length} bytes`); // the module starts with 2 pages
  check(1, bytes, 5, undefined, 1);
  check(2, encodeV2(V2_RECORDED), 5, undefined, 1); // and a small one after it
});
